"""The quarterly report's downloads: ``/reporting/cycles/<pk>/quarterly.pdf`` and ``.xlsx``."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from qcity.core.exports import xlsx_response
from qcity.core.pdf import PdfUnavailable, pdf_refused, pdf_response
from qcity.reporting import quarterly, selectors


@require_safe
@login_required
def quarterly_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    cycle = selectors.get_cycle(request.user, pk)
    report = quarterly.build(request.user, cycle)
    try:
        document = quarterly.to_pdf(report)
    except PdfUnavailable as exc:
        return pdf_refused(request, exc, what="reporting.quarterly", obj=cycle)
    return pdf_response(
        request, document, f"{report.filename_stem}.pdf", what="reporting.quarterly", obj=cycle
    )


@require_safe
@login_required
def quarterly_xlsx(request: HttpRequest, pk: int) -> HttpResponse:
    cycle = selectors.get_cycle(request.user, pk)
    report = quarterly.build(request.user, cycle)
    return xlsx_response(
        request, what="reporting.quarterly", obj=cycle, **quarterly.xlsx_parts(report)
    )

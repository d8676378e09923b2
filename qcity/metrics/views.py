from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from qcity.core.files import allowed_kinds
from qcity.metrics import selectors, services
from qcity.metrics.forms import ValueForm
from qcity.metrics.periods import current_period


@require_safe
@login_required
def indicator_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "metrics/indicator_list.html",
        {"indicators": selectors.visible_indicators(request.user)},
    )


@login_required
def indicator_detail(request: HttpRequest, pk: int) -> HttpResponse:
    indicator = selectors.get_indicator(request.user, pk)
    may_enter = services.may_enter(request.user, indicator)
    form = ValueForm(
        user=request.user,
        initial={
            "period": current_period(indicator.period_type, timezone.localdate()),
            "unit": indicator.unit,
        },
    )
    if request.method == "POST":
        form = ValueForm(request.POST, request.FILES, user=request.user)
        if form.is_valid():
            data = form.cleaned_data
            try:
                row = services.enter_value(
                    indicator.pk,
                    period=data["period"].strip(),
                    value=data["value"],
                    unit=data["unit"],
                    evidence_note=data["evidence_note"],
                    org_unit_id=data["org_unit"].pk if data["org_unit"] else None,
                    evidence=data["evidence"],
                    by=request.user,
                )
            except services.ValueRejected as exc:
                form.add_error(_error_field(exc.code), exc.message)
            else:
                messages.success(
                    request,
                    _("已保存 %(period)s 的数值 %(value)s。")
                    % {"period": row.period, "value": row.value_display},
                )
                return redirect("indicator_detail", pk=indicator.pk)
    history = list(selectors.value_history(request.user, indicator)[:50])
    evidence = selectors.evidence_of(history)
    return render(
        request,
        "metrics/indicator_detail.html",
        {
            "indicator": indicator,
            "values": selectors.visible_values(request.user, indicator)[:200],
            "history": [(revision, evidence.get(revision.pk, [])) for revision in history],
            "may_enter": may_enter,
            "form": form,
            "accept": ",".join(
                ext for kind in allowed_kinds() for ext in (kind.media_type, *kind.extensions)
            ),
        },
    )


def _error_field(code: str) -> str:
    """Which field a refusal belongs to, so the message stands beside it."""
    if code == "invalid_period":
        return "period"
    if code.startswith("file_") or code in ("too_many_files", "zip_bomb"):
        return "evidence"
    return "value"

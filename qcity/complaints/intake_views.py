"""Intake pages: the public form, its receipt and the follow page (portal, no login), and
the staff entry page (/complaints/new/). Thin: every check and write is ``intake``'s.

The receipt code is shown once, on the page that answers the submission (never in a URL,
a redirect or the session); the follow page takes it by POST so it stays out of logs.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from qcity.complaints import intake, pow
from qcity.complaints.intake_forms import STATUS_FOR_PERSON, FollowForm, IntakeForm, StaffIntakeForm
from qcity.complaints.models import Case, CaseNotice, Submission
from qcity.core import ratelimit, rulebook
from qcity.core.models import Role
from qcity.core.permissions import role_required
from qcity.core.scope import scoped

STAFF_ROLES = (Role.COUNTY_OFFICER, Role.COORDINATOR)


def _private(response: HttpResponse) -> HttpResponse:
    # Personal data and receipt codes: never kept by a browser or proxy cache.
    add_never_cache_headers(response)
    response["Cache-Control"] = "no-store, private"
    return response


def _rate_limited(request: HttpRequest, what: str, limit: int) -> HttpResponse | None:
    if ratelimit.hit(f"complaints_{what}:address:{ratelimit.client_ip(request)}") <= limit:
        return None
    retry = ratelimit._window()[1]
    response = render(
        request,
        "complaints/intake/rate_limited.html",
        {"minutes": max(1, round(retry / 60)), "what": what},
        status=429,
    )
    response["Retry-After"] = str(retry)
    return _private(response)


def _read_post(request: HttpRequest) -> tuple[dict, list, str]:
    """The form data and files, or a Chinese reason why the body cannot be read."""
    try:
        return request.POST, request.FILES.getlist("files"), ""
    except (RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent):
        return {}, [], _("提交的内容过多或过大，未能读取，请精简文字或减少附件后重试。")


def _public_form_page(request: HttpRequest, form: IntakeForm, status: int = 200) -> HttpResponse:
    challenge = pow.issue()
    return _private(
        render(
            request,
            "complaints/intake/public_form.html",
            {"form": form, "challenge": challenge, "max_files": intake.MAX_FILES},
            status=status,
        )
    )


@require_http_methods(["GET", "HEAD", "POST"])
def public_new(request: HttpRequest) -> HttpResponse:
    """/portal/complaints/new/: anyone files a complaint or a report."""
    if request.method != "POST":
        return _public_form_page(request, IntakeForm())
    limited = _rate_limited(request, "submit", settings.COMPLAINT_SUBMIT_RATE_LIMIT_PER_ADDRESS)
    if limited is not None:
        return limited
    data, uploads, unreadable = _read_post(request)
    form = IntakeForm(data)
    if unreadable:
        form.is_valid()
        form.add_error(None, unreadable)
        return _public_form_page(request, form, status=413)
    if not form.is_valid():
        return _public_form_page(request, form, status=400)
    try:
        pow.verify(data.get("pow_challenge", ""), data.get("pow_nonce", ""))
    except pow.ProofRefused as exc:
        form.add_error(None, exc.message)
        return _public_form_page(request, form, status=400)
    try:
        result = intake.submit(
            form.submit_fields(),
            channel=Submission.Channel.WEB,
            files=uploads,
            ip=ratelimit.client_ip(request),
        )
    except intake.IntakeRefused as refused:
        form.add_refusal(refused)
        return _public_form_page(request, form, status=400)
    return _private(
        render(
            request,
            "complaints/intake/receipt.html",
            {
                "cases": result.cases,
                "receipt_code": intake.format_receipt(result.receipt_code),
                "received_at": result.submission.received_at,
            },
        )
    )


def _follow_rows(case: Case) -> list[dict]:
    cases = [case] + ([case.linked_case] if case.linked_case_id else [])
    rows = []
    for item in cases:
        rule = rulebook.describe(item.due_rule) if item.due_rule else None
        rows.append(
            {
                "case": item,
                "status": STATUS_FOR_PERSON.get(item.status, item.get_status_display()),
                "open": item.status != Case.Status.CLOSED,
                "rule": rule,
                "notices": CaseNotice.objects.filter(
                    case=item, recipient=CaseNotice.Recipient.PERSON
                ).order_by("created_at", "id"),
            }
        )
    return rows


@require_http_methods(["GET", "HEAD", "POST"])
def follow(request: HttpRequest) -> HttpResponse:
    """/portal/complaints/follow/: number + receipt code → where the case stands."""
    form = FollowForm(request.POST if request.method == "POST" else None)
    rows: list[dict] = []
    status = 200
    if request.method == "POST":
        limited = _rate_limited(request, "follow", settings.COMPLAINT_FOLLOW_RATE_LIMIT_PER_ADDRESS)
        if limited is not None:
            return limited
        if form.is_valid():
            case = intake.find_by_receipt(form.cleaned_data["number"], form.cleaned_data["code"])
            if case is None:
                # The same answer for an unknown number and a wrong code.
                form.add_error(None, _("没有找到编号与查询码相符的投诉举报，请核对后重试。"))
                status = 404
            else:
                rows = _follow_rows(case)
        else:
            status = 400
    return _private(
        render(
            request, "complaints/intake/follow.html", {"form": form, "rows": rows}, status=status
        )
    )


# --- staff entry ----------------------------------------------------------------------------


def _staff_page(request, form, *, duplicates=(), status: int = 200) -> HttpResponse:
    return _private(
        render(
            request,
            "complaints/intake/staff_form.html",
            {"form": form, "duplicates": duplicates, "max_files": intake.MAX_FILES},
            status=status,
        )
    )


@require_http_methods(["GET", "HEAD", "POST"])
@role_required(*STAFF_ROLES)
def staff_new(request: HttpRequest) -> HttpResponse:
    """/complaints/new/: a phone call, a visit or a letter typed in by an officer."""
    if request.method != "POST":
        return _staff_page(request, StaffIntakeForm())
    data, uploads, unreadable = _read_post(request)
    form = StaffIntakeForm(data)
    if unreadable:
        form.is_valid()
        form.add_error(None, unreadable)
        return _staff_page(request, form, status=413)
    if not form.is_valid():
        return _staff_page(request, form, status=400)
    received_at = form.cleaned_data["received_at"] or timezone.now()
    try:
        # Near-duplicates the officer may see (their data scope), before anything is saved.
        duplicates = list(
            scoped(
                request.user,
                intake.duplicates_for(
                    form.submit_fields(), received_on=timezone.localdate(received_at)
                ),
            )[:10]
        )
        if duplicates and not form.cleaned_data["confirm_duplicate"]:
            return _staff_page(request, form, duplicates=duplicates, status=409)
        result = intake.submit(
            form.submit_fields(),
            channel=form.cleaned_data["channel"],
            by=request.user,
            files=uploads,
            received_at=received_at,
            ip=ratelimit.client_ip(request),
        )
    except intake.IntakeRefused as refused:
        form.add_refusal(refused)
        return _staff_page(request, form, status=400)
    visible = set(scoped(request.user, Case.objects.filter(submission=result.submission)))
    return _private(
        render(
            request,
            "complaints/intake/staff_saved.html",
            {
                "cases": result.cases,
                "visible": visible,
                "receipt_code": intake.format_receipt(result.receipt_code),
            },
        )
    )

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from qcity.core import files, notices, services, workflow
from qcity.core.forms import ChangePasswordForm, ConfirmUnitForm, MapUnitForm
from qcity.core.models import OrgUnit, Role
from qcity.core.permissions import role_required
from qcity.core.selectors import suggest_units


@login_required
def change_password(request: HttpRequest) -> HttpResponse:
    form = ChangePasswordForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.change_own_password(
            request.user, form.cleaned_data["new_password1"], ip=request.META.get("REMOTE_ADDR")
        )
        update_session_auth_hash(request, request.user)
        messages.success(request, _("密码已修改。"))
        return redirect("home")
    return render(request, "core/change_password.html", {"form": form})


@role_required(Role.COORDINATOR)
def pending_units(request: HttpRequest) -> HttpResponse:
    units = list(
        OrgUnit.objects.enabled()
        .filter(status=OrgUnit.Status.UNCONFIRMED)
        .prefetch_related("responsibilities__measure__plan")
    )
    suggestions = suggest_units([unit.name for unit in units])
    for unit in units:
        unit.suggestion = suggestions[unit.name]
    return render(
        request,
        "core/pending_units.html",
        {
            "units": units,
            "city": OrgUnit.objects.filter(kind=OrgUnit.Kind.GOVERNMENT, parent=None).first(),
            "map_form": MapUnitForm(),
            "confirm_form": ConfirmUnitForm(),
        },
    )


def _take_step(request: HttpRequest, step, success_message: str) -> None:
    """Run one workflow step for a page: a refused step becomes a Chinese message."""
    try:
        step()
    except workflow.NotFound:
        raise Http404 from None
    except workflow.WorkflowError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, success_message)


@require_POST
@role_required(Role.COORDINATOR)
def map_unit(request: HttpRequest, pk: int) -> HttpResponse:
    form = MapUnitForm(request.POST)
    if form.is_valid():
        onto = form.cleaned_data["onto"]
        name = OrgUnit.objects.filter(pk=pk).values_list("name", flat=True).first()
        _take_step(
            request,
            lambda: services.map_unit(pk, onto=onto, by=request.user),
            _("已将“%(a)s”映射为“%(b)s”。") % {"a": name, "b": onto.name},
        )
    else:
        messages.error(request, _("请选择要映射到的单位。"))
    return redirect("pending_units")


@require_POST
@role_required(Role.COORDINATOR)
def confirm_unit(request: HttpRequest, pk: int) -> HttpResponse:
    form = ConfirmUnitForm(request.POST)
    if form.is_valid():
        name = OrgUnit.objects.filter(pk=pk).values_list("name", flat=True).first()
        _take_step(
            request,
            lambda: services.confirm_unit(
                pk,
                by=request.user,
                kind=form.cleaned_data["kind"],
                parent=form.cleaned_data["parent"],
            ),
            _("已确认单位“%(a)s”。") % {"a": name},
        )
    else:
        messages.error(request, _("请选择单位类型。"))
    return redirect("pending_units")


@login_required
def download_file(request: HttpRequest, pk: int) -> HttpResponse:
    # The owner object's data scope decides; anything else is 404 (core.files).
    return files.serve(request, pk)


@login_required
def notice_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(notices.for_user(request.user).select_related("content_type"), 50).get_page(
        request.GET.get("page")
    )
    return render(request, "core/notices.html", {"page": page})


@require_POST
@login_required
def notice_mark_read(request: HttpRequest) -> HttpResponse:
    # One notice (its id in the form) or all unread ones; only the user's own are touched.
    raw = request.POST.get("notice", "")
    if raw:
        # isascii: "²" is a digit to isdigit() but not to int().
        if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
            raise Http404
        notices.mark_read(request.user, [int(raw)])
    else:
        notices.mark_read(request.user)
    return redirect("notice_list")

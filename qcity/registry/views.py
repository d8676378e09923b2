"""The register pages: 检查对象名录 (search, filters, export, detail) and 执法人员名录
(the pool, add/edit/deactivate, conflicts).

Thin views: reads through ``registry.selectors`` (data scope), writes through
``registry.services`` (audited); a refusal is shown as its Chinese message, and an
out-of-scope object is 404 like an absent one.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from qcity.core.exports import Column, ExportTooLarge, export_max_rows, xlsx_response
from qcity.core.models import User
from qcity.registry import selectors, services
from qcity.registry.forms import (
    ConflictForm,
    EntitySearchForm,
    InspectorFilterForm,
    InspectorForm,
    ReasonForm,
)
from qcity.registry.search import SearchRefused
from qcity.registry.services import RegistryRefused

PAGE_SIZE = 50


def _query_without_page(request: HttpRequest) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


def _entity_rows(request: HttpRequest):
    """(form, queryset or None, refusal message) of the entity list for this request."""
    form = EntitySearchForm(request.GET or None, user=request.user)
    if form.is_bound and not form.is_valid():
        return (
            form,
            None,
            _("筛选条件不正确：")
            + "；".join(str(e) for errors in form.errors.values() for e in errors),
        )
    f = form.to_filter() if form.is_bound else selectors.EntityFilter()
    try:
        return form, selectors.search_entities(request.user, f), ""
    except SearchRefused as exc:
        return form, None, exc.message


@require_safe
@login_required
def entity_list(request: HttpRequest) -> HttpResponse:
    form, rows, refusal = _entity_rows(request)
    page = None
    if rows is not None:
        page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    has_any = selectors.visible_entities(request.user).exists() if not page else True
    return render(
        request,
        "registry/entity_list.html",
        {
            "form": form,
            "page": page,
            "refusal": refusal,
            "query": _query_without_page(request),
            "has_any": has_any,
            "filtered": bool(request.GET),
        },
    )


def _entity_columns() -> list[Column]:
    return [
        Column(_("统一社会信用代码"), 22),
        Column(_("名称"), 36),
        Column(_("主体类型"), 12),
        Column(_("行政区划代码"), 10),
        Column(_("管辖单位"), 22),
        Column(_("行业代码"), 8),
        Column(_("住所（经营场所）"), 36),
        Column(_("登记状态"), 8),
        Column(_("信用风险分类"), 14),
        Column(_("分类日期"), 12),
        Column(_("经营异常名录"), 8),
        Column(_("严重违法失信名单"), 8),
        Column(_("代码提示"), 24),
    ]


@require_safe
@login_required
def entity_export(request: HttpRequest) -> HttpResponse:
    """The filtered list as XLSX (audited); refused beyond the export row cap."""
    _form, rows, refusal = _entity_rows(request)
    if rows is None:
        return render(
            request, "core/export_refused.html", {"message": refusal, "code": "invalid"}, status=400
        )
    limit = export_max_rows()
    # Counting at most limit+1 rows refuses a million-row export before reading any of it.
    count = rows[: limit + 1].count()
    if count > limit:
        exc = ExportTooLarge(limit)
        return render(
            request,
            "core/export_refused.html",
            {"message": exc.message, "code": exc.code},
            status=400,
        )
    kinds = dict(selectors.MarketEntity.Kind.choices)
    statuses = dict(selectors.MarketEntity.Status.choices)
    classes = dict(selectors.MarketEntity.RiskClass.choices)
    yes, no = _("是"), _("否")

    def lines():
        for e in rows.iterator(chunk_size=2000):
            yield [
                e.code,
                e.name,
                str(kinds.get(e.kind, e.kind)),
                e.region_code,
                e.owner_unit.name,
                e.industry_code,
                e.address,
                str(statuses.get(e.status, e.status)),
                str(classes.get(e.risk_class, _("未分类"))),
                e.risk_classified_on,
                yes if e.on_abnormal_list else no,
                yes if e.on_serious_list else no,
                e.code_warning,
            ]

    return xlsx_response(
        request,
        what="registry.entities",
        obj=None,
        title=_("检查对象名录"),
        sheet=_("检查对象名录"),
        columns=_entity_columns(),
        rows=lines(),
        filename=_("检查对象名录") + ".xlsx",
    )


@require_safe
@login_required
def entity_detail(request: HttpRequest, code: str) -> HttpResponse:
    entity = selectors.get_entity(request.user, code)
    return render(
        request,
        "registry/entity_detail.html",
        {
            "entity": entity,
            "tasks": list(selectors.entity_tasks(request.user, entity)[:200]),
            "conflicts": list(selectors.visible_conflicts(request.user, entity=entity)[:200]),
        },
    )


# --- inspectors ------------------------------------------------------------------------------


@require_safe
@login_required
def inspector_list(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    form = InspectorFilterForm(request.GET or None, user=user)
    refusal = ""
    if form.is_bound and not form.is_valid():
        refusal = _("筛选条件不正确，请重新选择。")
        rows = selectors.visible_inspectors(user).none()
    else:
        f = form.to_filter() if form.is_bound else selectors.InspectorFilter()
        rows = selectors.search_inspectors(user, f)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "registry/inspector_list.html",
        {
            "form": form,
            "page": page,
            "refusal": refusal,
            "query": _query_without_page(request),
            "may_manage": services.may_manage_inspectors(user),
            "own": selectors.own_inspector(user),
            "has_any": page.paginator.count > 0 or selectors.visible_inspectors(user).exists(),
            "filtered": bool(request.GET),
        },
    )


def _inspector_form_page(request: HttpRequest, inspector=None) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    if not services.may_manage_inspectors(user):
        raise PermissionDenied
    initial = None
    if inspector is not None:
        initial = {
            "name": inspector.name,
            "org_unit": inspector.org_unit_id,
            "specialities": [s.pk for s in inspector.specialities.all()],
        }
    form = InspectorForm(
        request.POST or None, user=user, editing=inspector is not None, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        ids = [s.pk for s in data["specialities"]]
        try:
            if inspector is None:
                saved = services.create_inspector(
                    user,
                    name=data["name"],
                    certificate_no=data["certificate_no"],
                    org_unit=data["org_unit"],
                    speciality_ids=ids,
                )
                messages.success(request, _("已登记执法人员 %(name)s") % {"name": saved.name})
            else:
                saved = services.update_inspector(
                    user,
                    inspector.pk,
                    name=data["name"],
                    org_unit=data["org_unit"],
                    speciality_ids=ids,
                )
                messages.success(request, _("已保存 %(name)s 的信息") % {"name": saved.name})
            return redirect("registry_inspector_detail", pk=saved.pk)
        except RegistryRefused as exc:
            form.add_error(None, exc.message)
    return render(request, "registry/inspector_form.html", {"form": form, "inspector": inspector})


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def inspector_add(request: HttpRequest) -> HttpResponse:
    return _inspector_form_page(request)


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def inspector_edit(request: HttpRequest, pk: int) -> HttpResponse:
    inspector = selectors.get_inspector(request.user, pk)
    return _inspector_form_page(request, inspector)


@require_safe
@login_required
def inspector_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    inspector = selectors.get_inspector(user, pk)
    own = inspector.user_id is not None and inspector.user_id == user.pk
    may_manage = services.may_manage_inspectors(user)
    return render(
        request,
        "registry/inspector_detail.html",
        {
            "inspector": inspector,
            "conflicts": list(selectors.visible_conflicts(user, inspector=inspector)),
            "may_manage": may_manage,
            "may_declare": inspector.active and (own or may_manage),
            "own": own,
            "conflict_form": ConflictForm(),
            "reason_form": ReasonForm(),
        },
    )


@require_POST
@login_required
def inspector_active(request: HttpRequest, pk: int) -> HttpResponse:
    """停用 (with a reason) or 恢复 an inspector."""
    active = request.POST.get("active") == "1"
    try:
        inspector = services.set_inspector_active(
            request.user, pk, active=active, reason=request.POST.get("reason", "")
        )
        if active:
            messages.success(request, _("已恢复 %(name)s") % {"name": inspector.name})
        else:
            messages.success(request, _("已停用 %(name)s") % {"name": inspector.name})
    except RegistryRefused as exc:
        if exc.status == 403:
            raise PermissionDenied from None
        messages.error(request, exc.message)
    return redirect("registry_inspector_detail", pk=pk)


@require_POST
@login_required
def conflict_declare(request: HttpRequest, pk: int) -> HttpResponse:
    selectors.get_inspector(request.user, pk)  # 404 before anything else
    form = ConflictForm(request.POST)
    if not form.is_valid():
        messages.error(
            request, "；".join(str(e) for errors in form.errors.values() for e in errors)
        )
        return redirect("registry_inspector_detail", pk=pk)
    try:
        conflict = services.declare_conflict(
            request.user,
            inspector_id=pk,
            entity_code=form.cleaned_data["entity_code"],
            reason=form.cleaned_data["reason"],
        )
        messages.success(request, _("已申报对“%(entity)s”回避") % {"entity": conflict.entity.name})
    except RegistryRefused as exc:
        if exc.status == 403:
            raise PermissionDenied from None
        messages.error(request, exc.message)
    return redirect("registry_inspector_detail", pk=pk)


@require_POST
@login_required
def conflict_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    conflict = selectors.get_conflict(request.user, pk)
    try:
        services.withdraw_conflict(request.user, pk, reason=request.POST.get("reason", ""))
        messages.success(request, _("已撤回回避申报"))
    except RegistryRefused as exc:
        if exc.status == 403:
            raise PermissionDenied from None
        messages.error(request, exc.message)
    target = request.POST.get("next") or ""
    if target == "entity":
        return redirect(reverse("registry_entity_detail", args=[conflict.entity.code]))
    return redirect("registry_inspector_detail", pk=conflict.inspector_id)

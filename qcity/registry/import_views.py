"""The browser import of the entity register: upload, background job, progress, result.

The coordinator imports any county, a county officer their own (``EntityImport`` checks
every row). The page polls a small fragment with htmx (no inline script: CSP) until the
job has finished; the errors list is downloaded through the data scope.
"""

from __future__ import annotations

from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from qcity.core import imports as core_imports
from qcity.core.models import ImportJob, Role
from qcity.core.permissions import role_required
from qcity.core.scope import get_scoped_or_404, scoped
from qcity.registry.imports import COLUMNS, JOB_KIND, start_entity_import

IMPORT_ROLES = (Role.COORDINATOR, Role.COUNTY_OFFICER)


def _jobs(request: HttpRequest):
    return scoped(request.user, ImportJob.objects.filter(kind=JOB_KIND))


def _progress_context(job: ImportJob) -> dict:
    done, total = core_imports.read_progress(job)
    finished = job.status not in (ImportJob.Status.QUEUED, ImportJob.Status.RUNNING)
    if finished:
        percent = 100
    else:
        percent = min(99, done * 100 // total) if total else 0
    return {
        "job": job,
        "done": done,
        "total": total,
        "percent": percent,
        "width_class": f"w-pct-{percent - percent % 5}",
        "finished": finished,
    }


@role_required(*IMPORT_ROLES)
def import_form(request: HttpRequest) -> HttpResponse:
    error = ""
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            error = _("请选择要导入的文件（CSV或XLSX）。")
        else:
            try:
                job = start_entity_import(
                    upload,
                    by=request.user,
                    dry_run=request.POST.get("dry_run") == "on",
                    all_or_nothing=request.POST.get("all_or_nothing") == "on",
                )
            except core_imports.ImportFileError as exc:
                error = exc.message
            else:
                return redirect("registry_import_job", pk=job.pk)
    return render(
        request,
        "registry/import_form.html",
        {
            "error": error,
            "max_mb": settings.ATTACHMENT_MAX_BYTES // (1024 * 1024),
            "columns": COLUMNS,
            "jobs": _jobs(request).select_related("uploaded_by")[:10],
        },
        status=400 if error else 200,
    )


@require_safe
@role_required(*IMPORT_ROLES)
def import_job(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_scoped_or_404(request.user, ImportJob.objects.filter(kind=JOB_KIND), pk=pk)
    return render(request, "registry/import_job.html", _progress_context(job))


@require_safe
@role_required(*IMPORT_ROLES)
def import_progress(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_scoped_or_404(request.user, ImportJob.objects.filter(kind=JOB_KIND), pk=pk)
    return render(request, "registry/import_progress.html", _progress_context(job))


@require_safe
@role_required(*IMPORT_ROLES)
def import_errors(request: HttpRequest, pk: int) -> FileResponse:
    job = get_scoped_or_404(request.user, ImportJob.objects.filter(kind=JOB_KIND), pk=pk)
    path = core_imports.job_errors_path(job)
    if not job.has_errors_file or not path.is_file():
        raise Http404
    return FileResponse(
        path.open("rb"),
        as_attachment=True,
        filename=f"{job.file_name}.errors.csv",
        content_type="text/csv; charset=utf-8",
    )

"""The quarterly report as a PDF (and as XLSX) against the same data written as text lines.

27 measures × 40 responsible units = 1 080 progress reports in one quarterly cycle, each
submitted with a narrative of about 150 characters. "Ours" is what the download does
(``reporting.quarterly.build`` through the data scope, then ``to_pdf`` with the CJK font
embedded as a subset, or ``xlsx_parts`` through ``core.exports``); the baseline reads the
same reports in one query and writes one tab-separated line per report. The ratio is what
layout, font subsetting and compression cost over dumping the text.
"""

from __future__ import annotations

import io
import os
import re
import time
from collections.abc import Iterator

from benchmarks._common import best_of, case

MEASURES = 27
UNITS = 40
NARRATIVE = (
    "本季度按计划推进，完成抽检{i}批次，组织培训两期，召开推进会一次；"
    "下一步将继续加强督促指导，确保年度目标如期实现。"
) * 2


def _setup():
    import datetime as dt

    from django.db.models import Max
    from django.utils import timezone

    from qcity.core.models import OrgUnit, Role, User
    from qcity.plans.models import Measure, Plan, Responsibility
    from qcity.reporting import services
    from qcity.reporting.models import ProgressReport

    plan = Plan.objects.get()
    measures = list(Measure.objects.filter(plan=plan, withdrawn=False).order_by("seq"))[:MEASURES]
    units = list(OrgUnit.objects.filter(confirmed=True).order_by("path")[: UNITS + 10])
    # Every measure gets the same 40 units (those it has, then others to make 40).
    for measure in measures:
        # Unconfirmed units (the seed's typo 市交通运输局市) get no report: count the others.
        have = set(
            measure.responsibilities.filter(org_unit__confirmed=True).values_list(
                "org_unit_id", flat=True
            )
        )
        order = measure.responsibilities.aggregate(m=Max("order"))["m"] or 0
        extra = [u for u in units if u.pk not in have][: max(UNITS - len(have), 0)]
        Responsibility.objects.bulk_create(
            Responsibility(measure=measure, org_unit=u, written_name=u.name, order=order + k + 1)
            for k, u in enumerate(extra)
        )
    coordinator = User.objects.create(
        username="bench_documents", full_name="基准", role=Role.COORDINATOR, unit=plan.owner_unit
    )
    cycle = services.open_cycle(plan, "quarterly", 2026, 1, by=coordinator).cycle
    now = timezone.now()
    reports = list(ProgressReport.objects.filter(cycle=cycle))
    for i, report in enumerate(reports):
        report.status = ProgressReport.Status.SUBMITTED
        report.progress = ["on_track", "at_risk", "blocked", "done"][i % 4]
        report.narrative = NARRATIVE.format(i=i)
        report.first_submitted_at = report.submitted_at = now - dt.timedelta(days=i % 30)
    ProgressReport.objects.bulk_update(
        reports,
        ["status", "progress", "narrative", "first_submitted_at", "submitted_at"],
        batch_size=500,
    )
    return coordinator, cycle, len(reports)


def cases() -> Iterator[dict]:
    from qcity.core.exports import build_xlsx
    from qcity.reporting import quarterly
    from qcity.reporting.models import ProgressReport

    coordinator, cycle, n = _setup()
    repeats = int(os.environ.get("QCITY_BENCH_DOCUMENT_REPEATS", "3"))

    def ours_pdf() -> bytes:
        return quarterly.to_pdf(quarterly.build(coordinator, cycle)).to_bytes()

    def ours_xlsx() -> bytes:
        parts = quarterly.xlsx_parts(quarterly.build(coordinator, cycle))
        return build_xlsx(
            parts["title"],
            parts["sheet"],
            parts["columns"],
            parts["rows"],
            extra_sheets=parts["extra_sheets"],
        )[0]

    def baseline() -> bytes:
        out = io.StringIO()
        rows = (
            ProgressReport.objects.filter(cycle=cycle)
            .order_by("measure__chapter__number", "measure__seq", "-is_lead", "org_unit__name")
            .values_list(
                "measure__chapter__heading",
                "measure__number",
                "measure__title",
                "org_unit__name",
                "status",
                "progress",
                "narrative",
            )
        )
        for row in rows:
            out.write("\t".join(str(v) for v in row) + "\n")
        return out.getvalue().encode()

    pdf = ours_pdf()
    base = best_of(baseline, repeats)
    yield case(
        "documents: quarterly report PDF (27 measures × 40 units) vs text lines",
        n,
        best_of(ours_pdf, repeats),
        base,
        # CPU seconds too: on a shared machine the wall time is mostly waiting.
        ours_cpu_s=_cpu(ours_pdf, repeats),
        baseline_cpu_s=_cpu(baseline, repeats),
        pages=len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf)),
        pdf_kib=round(len(pdf) / 1024),
        text_kib=round(len(baseline()) / 1024),
    )
    yield case(
        "documents: quarterly report XLSX (27 measures × 40 units) vs text lines",
        n,
        best_of(ours_xlsx, repeats),
        base,
        ours_cpu_s=_cpu(ours_xlsx, repeats),
        baseline_cpu_s=_cpu(baseline, repeats),
    )


def _cpu(fn, repeats: int) -> float:
    """The least CPU time of ``repeats`` runs (this process only)."""
    times = []
    for _ in range(repeats):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return round(min(times), 4)

"""The numbers the charts draw, as plain JSON for ``json_script`` (no inline script: the
CSP forbids it; ``static/qcity/dashboard.js`` reads this and draws with ECharts).

The page shows the same numbers as tables (the charts' text alternative), from the same
``Dashboard``; this module only reshapes them.
"""

from __future__ import annotations

from decimal import Decimal
from html import escape

from django.utils.safestring import mark_safe
from django.utils.translation import pgettext

from qcity.dashboard.selectors import PROGRESS_KEYS, Dashboard
from qcity.reporting.models import ProgressReport


def progress_labels() -> dict[str, str]:
    """The reports' own labels for their progress ratings (按计划推进 …)."""
    choices = dict(ProgressReport._meta.get_field("progress").choices)
    return {key: str(choices.get(key, key)) for key in PROGRESS_KEYS}


def _number(value) -> float | None:
    return None if value is None else float(value)


def chart_data(d: Dashboard) -> dict:
    labels = progress_labels()
    series = [
        *({"key": key, "name": labels[key]} for key in PROGRESS_KEYS),
        {"key": "unrated", "name": pgettext("dashboard", "已报未评")},
        {"key": "missing", "name": pgettext("dashboard", "未报送")},
    ]
    return {
        "labels": {
            "completeness": pgettext("dashboard", "完整率"),
            "timeliness": pgettext("dashboard", "及时率"),
            "path": pgettext("dashboard", "目标路径"),
            "target": pgettext("dashboard", "目标值"),
            "value": pgettext("dashboard", "实际值"),
        },
        "chapters": {
            "names": [f"{p.chapter.numbering} {p.chapter.heading}" for p in d.chapters],
            "series": [
                {
                    **s,
                    "data": [
                        {
                            "value": p.share(s["key"]) or 0,
                            "count": getattr(p, s["key"]),
                        }
                        for p in d.chapters
                    ],
                }
                for s in series
            ],
        },
        "trend": {
            "cycles": [r.cycle.label for r in d.trend],
            "completeness": [r.completeness for r in d.trend],
            "timeliness": [r.timeliness for r in d.trend],
        },
        "heat": {
            "cycles": [c.label for c in d.heat_cycles],
            "units": [row.unit.name for row in d.heat],
            # [cycle index, unit index, percent]; a unit owing nothing that cycle: no cell.
            "completeness": [
                [x, y, cell.completeness]
                for y, row in enumerate(d.heat)
                for x, cell in enumerate(row.cells)
                if cell is not None
            ],
            "timeliness": [
                [x, y, cell.timeliness]
                for y, row in enumerate(d.heat)
                for x, cell in enumerate(row.cells)
                if cell is not None
            ],
        },
        "targets": [
            {
                "id": f"target-{t.target.pk}",
                "unit": t.target.unit or t.target.indicator.unit,
                "status": t.status,
                "points": [[end.isoformat(), _number(v)] for end, v in t.points],
                "path": [[end.isoformat(), _number(v)] for end, v in t.path],
                "target": _number(t.target.value),
            }
            for t in d.targets
        ],
    }


# --- the charts' text alternatives -----------------------------------------------------------
# The long tables (every value of years of monthly figures, every unit × cycle) are built
# here rather than by template loops: every value escaped (``html.escape``), at a tenth
# of the time, which keeps the page within its budget with many years of data.


def _plain(value) -> str:
    return format(Decimal(value).normalize(), "f")


def _rate(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}%"


def _cells(tag: str, values) -> str:
    return "".join(f"<{tag}>{escape(str(v))}</{tag}>" for v in values)


def target_rows(t) -> str:
    unit = t.target.indicator.unit
    rows = [(end.isoformat(), _plain(value) + unit) for end, value in t.points]
    if t.path:
        target = f"{pgettext('dashboard', '目标值')} {_plain(t.target.value)}{unit}"
        rows.append((t.deadline.isoformat(), target))
    return mark_safe("".join(f"<tr>{_cells('td', row)}</tr>" for row in rows))


def trend_rows(d: Dashboard) -> str:
    return mark_safe(
        "".join(
            f'<tr><th scope="row">{escape(r.cycle.label)}</th>'
            + _cells(
                "td",
                (r.expected, r.received, r.on_time, _rate(r.completeness), _rate(r.timeliness)),
            )
            + "</tr>"
            for r in reversed(d.trend)
        )
    )


def heat_rows(d: Dashboard) -> str:
    def cell(c) -> str:
        if c is None:
            return "—"
        return f"{c.received}/{c.expected}，{_rate(c.completeness)}，{_rate(c.timeliness)}"

    return mark_safe(
        "".join(
            f'<tr data-testid="heat-row" data-unit="{escape(row.unit.name)}">'
            f'<th scope="row">{escape(row.unit.name)}</th>'
            + _cells("td", (cell(c) for c in row.cells))
            + "</tr>"
            for row in d.heat
        )
    )


def text_tables(d: Dashboard) -> dict:
    for t in d.targets:
        t.rows_html = target_rows(t)
    return {"trend_rows": trend_rows(d), "heat_rows": heat_rows(d)}

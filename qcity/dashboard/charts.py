"""The numbers the charts draw, as plain JSON for ``json_script`` (no inline script: the
CSP forbids it; ``static/qcity/dashboard.js`` reads this and draws with ECharts).

The page shows the same numbers as tables (the charts' text alternative), from the same
``Dashboard``; this module only reshapes them.
"""

from __future__ import annotations

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

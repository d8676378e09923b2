"""Reads in core that need thought."""

from __future__ import annotations

from difflib import SequenceMatcher

from qcity.core.models import OrgUnit, UnitAlias


def suggest_units(names: list[str], *, threshold: float = 0.75) -> dict[str, OrgUnit | None]:
    """For each name, the confirmed unit whose name or alias is closest to it.

    Used to pre-select the mapping target for an unconfirmed name such as
    the seed's typo 市交通运输局市 (→ 市交通运输局); the coordinator still decides.
    The candidates are read once for all names.
    """
    if not names:
        return {}
    candidates: list[tuple[str, OrgUnit]] = [
        (u.name, u) for u in OrgUnit.objects.enabled().filter(confirmed=True)
    ]
    candidates += [
        (a.name, a.unit)
        for a in UnitAlias.objects.select_related("unit").filter(
            unit__confirmed=True, unit__disabled_on__isnull=True
        )
    ]
    suggestions: dict[str, OrgUnit | None] = {}
    for name in names:
        best: tuple[float, OrgUnit | None] = (0.0, None)
        for written, unit in candidates:
            ratio = SequenceMatcher(None, name, written).ratio()
            if ratio > best[0]:
                best = (ratio, unit)
        suggestions[name] = best[1] if best[0] >= threshold else None
    return suggestions

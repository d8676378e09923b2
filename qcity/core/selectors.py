"""Reads in core that need thought."""

from __future__ import annotations

from difflib import SequenceMatcher

from qcity.core.models import OrgUnit, UnitAlias


def suggest_unit(name: str, *, threshold: float = 0.75) -> OrgUnit | None:
    """The confirmed unit whose name or alias is closest to ``name``.

    Used to pre-select the mapping target for an unconfirmed name such as
    the seed's typo 市交通运输局市 (→ 市交通运输局); the coordinator still decides.
    """
    candidates: list[tuple[str, OrgUnit]] = [
        (u.name, u) for u in OrgUnit.objects.enabled().filter(confirmed=True)
    ]
    candidates += [
        (a.name, a.unit)
        for a in UnitAlias.objects.select_related("unit").filter(
            unit__confirmed=True, unit__disabled_on__isnull=True
        )
    ]
    best: tuple[float, OrgUnit | None] = (0.0, None)
    for written, unit in candidates:
        ratio = SequenceMatcher(None, name, written).ratio()
        if ratio > best[0]:
            best = (ratio, unit)
    return best[1] if best[0] >= threshold else None

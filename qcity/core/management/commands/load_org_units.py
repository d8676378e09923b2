"""qcity load_org_units: create or update Tieling's org tree (idempotent)."""

from __future__ import annotations

from django.db import transaction

from qcity.core import audit, orgdata
from qcity.core.management.base import QcityCommand
from qcity.core.models import OrgUnit, UnitAlias


class Command(QcityCommand):
    help = "加载铁岭市组织机构（可重复执行）"

    @transaction.atomic
    def handle(self, *args, **options) -> None:
        created = updated = 0
        for order, (name, kind, parent_name, code, full_name, aliases) in enumerate(
            orgdata.entries(), start=1
        ):
            parent = OrgUnit.objects.get(name=parent_name) if parent_name else None
            unit = OrgUnit.objects.filter(name=name).first()
            wanted = {
                "kind": kind,
                "parent": parent,
                "code": code,
                "full_name": full_name,
                "sort_order": order,
                "confirmed": True,
            }
            if unit is None:
                unit = OrgUnit.objects.create(name=name, **wanted)
                created += 1
            elif any(getattr(unit, k) != v for k, v in wanted.items()):
                for key, value in wanted.items():
                    setattr(unit, key, value)
                unit.save()
                updated += 1
            for alias in aliases:
                UnitAlias.objects.get_or_create(name=alias, defaults={"unit": unit})
        if created or updated:
            audit.record(
                "org_unit.loaded",
                by=None,
                actor_label="system",
                details={"created": created, "updated": updated},
            )
        self.stdout.write(f"组织机构：新建 {created}，更新 {updated}")

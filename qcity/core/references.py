"""Which references to an org unit a coordinator's "map this unconfirmed unit" may move.

Mapping says "this written name meant that existing unit all along", so references
that came from the written name (a plan's responsibility, a plan's owner) follow it.
Other references (a user's unit, an alias, a child unit) are decisions someone made
about the unit itself and must not move silently. Each app declares its movable
references once, in its ``AppConfig.ready()``::

    register_mappable_unit_reference(Responsibility, "org_unit")

``core.services.map_unit`` moves exactly these and records model.field → count.
"""

from __future__ import annotations

from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured
from django.db import models

_MAPPABLE: dict[str, models.ForeignKey] = {}


def reference_label(field: models.ForeignKey) -> str:
    """``plans.responsibility.org_unit``: the name used in audit details."""
    return f"{field.model._meta.label_lower}.{field.name}"


def register_mappable_unit_reference(model: type[models.Model], field_name: str) -> None:
    """Declare that ``model.field_name`` (a foreign key to OrgUnit) moves when a unit is mapped."""
    from qcity.core.models import OrgUnit

    try:
        field = model._meta.get_field(field_name)
    except FieldDoesNotExist:
        raise ImproperlyConfigured(f"{model._meta.label} has no field {field_name!r}") from None
    if not (field.many_to_one and field.related_model is OrgUnit):
        raise ImproperlyConfigured(
            f"{model._meta.label}.{field_name} is not a foreign key to OrgUnit"
        )
    _MAPPABLE[reference_label(field)] = field


def mappable_unit_references() -> list[models.ForeignKey]:
    return [_MAPPABLE[label] for label in sorted(_MAPPABLE)]

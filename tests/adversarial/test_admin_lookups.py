"""Any field named in an admin changelist's query string, with a value the database refuses.

Django's changelist filters by any local field or foreign key named in the query
string (``?ip=…``, ``?parent=…``). It turns values it cannot convert into "invalid
filter", but values only the database refuses came back as 500s: text in an inet
column on PostgreSQL (``/admin/core/auditevent/?ip=zz``) and integers past 64 bits
on SQLite (``/admin/core/orgunit/?parent=99999999999999999999``).
"""

from __future__ import annotations

import pytest
from django.contrib import admin

from qcity.core import audit
from qcity.core.models import OrgUnit, Role, User

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999"
VALUES = ["zz", HUGE, "1,zz", "1," + HUGE]

# The administrator who may read each model's changelist.
READER = {
    Role.SYSTEM_ADMIN: "sysadmin",
    Role.SECURITY_ADMIN: "secadmin",
    Role.AUDIT_ADMIN: "auditadmin",
}


def _lookups(model) -> list[str]:
    """Every concrete field as Django's changelist accepts it, and with ``__in``."""
    names = []
    for field in model._meta.concrete_fields:
        names += [field.name, f"{field.name}__in"]
    return names


def _cases() -> list[tuple[str, str]]:
    cases = []
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label != "core":
            continue
        roles = tuple(getattr(model_admin, "roles", ())) + tuple(
            getattr(model_admin, "read_only_roles", ())
        )
        if not roles:
            continue
        url = f"/admin/core/{model._meta.model_name}/"
        cases.append((READER[roles[0]], url))
    return cases


@pytest.mark.parametrize(("persona", "url"), _cases())
def test_a_value_the_database_refuses_is_an_invalid_filter_not_a_server_error(
    client, personas, persona, url
):
    client.force_login(personas[persona])
    (model,) = [m for m in admin.site._registry if url.endswith(f"/{m._meta.model_name}/")]
    failures = []
    for lookup in _lookups(model):
        for value in VALUES:
            response = client.get(url, {lookup: value})
            # 302 to ?e=1 (Django's "invalid filter"), or a page that shows nothing.
            if response.status_code not in (200, 302):
                failures.append((lookup, value, response.status_code))
    assert failures == []
    # The request after them still works: no aborted PostgreSQL transaction left behind.
    assert client.get(url).status_code == 200


def test_the_audit_log_still_filters_by_a_real_address(client, personas):
    audit.record("test.probe", by=None, ip="2001:db8::1")
    client.force_login(personas["auditadmin"])
    page = client.get("/admin/core/auditevent/", {"ip": "2001:db8::1"})
    assert page.status_code == 200
    assert "2001:db8::1" in page.content.decode()
    refused = client.get("/admin/core/auditevent/", {"ip": "zz"})
    # PostgreSQL refuses the value (invalid filter, ?e=1); SQLite just matches nothing.
    if refused.status_code == 302:
        assert refused["Location"].endswith("?e=1")
    else:
        assert refused.status_code == 200 and "2001:db8::1" not in refused.content.decode()
    assert User.objects.exists() and OrgUnit.objects.exists()

"""Shared fixtures: Tieling's org tree, the seed plan and personas.

Personas (like healthchecks' alice/bob/charlie):
  coordinator  质量发展科, 市市场监管局, sees everything
  nongye       liaison of 市农业农村局, sees its measures only
  gongxin      liaison of 市工业和信息化局
  kaiyuan      county officer in 开原市市场监督管理局 (no plan measures)
  xifeng       county officer in 西丰县市场监督管理局
  outsider     an enterprise account with no unit
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from django.core.management import call_command

from qcity.core.models import OrgUnit, Role, User

REPO = Path(__file__).resolve().parents[1]
SEED_DIR = Path(os.environ.get("QCITY_SEED_DIR", REPO.parent / "shared" / "seed"))
BUNDLED_SEED = REPO / "qcity" / "plans" / "data" / "tieling-quality-city-plan-2023.txt"
TRUTH = SEED_DIR / "tieling-quality-city-plan-2023.truth.json"
PASSWORD = "Test#Password2026"


def truth() -> dict:
    """The truth file; the bundled copy of the seed is checked against it too."""
    return json.loads(TRUTH.read_text(encoding="utf-8"))


def measures_of(unit_name: str) -> set[int]:
    return {
        m["number"]
        for chapter in truth()["chapters"]
        for m in chapter["measures"]
        if unit_name in m["responsible_units"]
    }


@pytest.fixture
def org_units(db):
    call_command("load_org_units", stdout=open(os.devnull, "w"))
    return OrgUnit.objects


@pytest.fixture
def calendar(db):
    call_command("load_calendar", stdout=open(os.devnull, "w"))


@pytest.fixture
def plan(org_units):
    from qcity.plans.models import Plan

    call_command(
        "import_plan", str(BUNDLED_SEED), stdout=open(os.devnull, "w"), stderr=open(os.devnull, "w")
    )
    return Plan.objects.get()


def make_user(username: str, role: str, unit_name: str | None) -> User:
    unit = OrgUnit.objects.get(name=unit_name) if unit_name else None
    user = User(username=username, full_name=username, role=role, unit=unit)
    user.set_password(PASSWORD)
    user.save()
    return user


PERSONAS = {
    "coordinator": (Role.COORDINATOR, "市市场监管局"),
    "nongye": (Role.DEPARTMENT_LIAISON, "市农业农村局"),
    "gongxin": (Role.DEPARTMENT_LIAISON, "市工业和信息化局"),
    "kaiyuan": (Role.COUNTY_OFFICER, "开原市市场监督管理局"),
    "xifeng": (Role.COUNTY_OFFICER, "西丰县市场监督管理局"),
    "outsider": (Role.ENTERPRISE, None),
    "sysadmin": (Role.SYSTEM_ADMIN, "市市场监管局"),
    "secadmin": (Role.SECURITY_ADMIN, "市市场监管局"),
    "auditadmin": (Role.AUDIT_ADMIN, "市市场监管局"),
}


@pytest.fixture
def personas(org_units) -> dict[str, User]:
    return {name: make_user(name, role, unit) for name, (role, unit) in PERSONAS.items()}


@pytest.fixture(autouse=True)
def _fresh_calendar_cache():
    # Test transactions roll back without signals; never let a cached calendar leak across tests.
    from qcity.core import workdays

    workdays.invalidate()
    yield
    workdays.invalidate()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Argon2 is slow on purpose; personas are created in nearly every test.
    # tests/core/test_security.py checks that the real setting is Argon2.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, tmp_path_factory):
    """SQLite tests run on a WAL file, as production does, not in memory.

    Django's in-memory test database shares one cache between connections, and there a
    writer that meets another gets "database table is locked" at once instead of waiting
    for it (busy_timeout does not apply). Concurrency tests (racing workflow steps) would
    test that artefact. QCITY_TEST_SQLITE still chooses the file.
    """
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        test = database.setdefault("TEST", {})
        if not test.get("NAME"):
            test["NAME"] = str(tmp_path_factory.mktemp("sqlite") / "test.sqlite3")

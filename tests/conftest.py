"""Shared fixtures: Tieling's org tree, the seed plan and personas.

Personas (like healthchecks' alice/bob/charlie):
  coordinator  质量发展科, 市市场监管局, sees everything
  nongye       liaison of 市农业农村局, sees its measures only
  gongxin      liaison of 市工业和信息化局
  kaiyuan      county officer in 开原市市场监督管理局 (no plan measures)
  xifeng       county officer in 西丰县市场监督管理局
  outsider     an enterprise account with no unit
  inspector    执法检查人员 in 开原市城区市场监督管理所 (仅本人: no plan data)
  lab          检验检测机构人员 of 铁岭检验检测中心 (本单位: its own measures)
  enterprise   企业用户 with no unit (仅本人)
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest
from django.core.management import call_command

from qcity.core.models import OrgUnit, Role, User
from tests import dbstate

REPO = Path(__file__).resolve().parents[1]
BUNDLED_SEED = REPO / "qcity" / "plans" / "data" / "tieling-quality-city-plan-2023.txt"
# The expected structure of the seed plan, kept with the tests: a user's clone has
# nothing beside it. It states the same facts as the project's shared truth file;
# tests/plans/test_shared_seed.py compares the two when QCITY_SEED_DIR names that folder.
EXPECTED = REPO / "tests" / "plans" / "data" / "tieling-quality-city-plan-2023.expected.json"
SEED_DIR = Path(os.environ["QCITY_SEED_DIR"]) if os.environ.get("QCITY_SEED_DIR") else None
PASSWORD = "Test#Password2026"

# Only collected on request: skipping it on every user's machine would be a test that
# cannot fail, and the suite must pass without the shared folder.
collect_ignore = [] if SEED_DIR else ["plans/test_shared_seed.py"]


def truth() -> dict:
    """The expected structure of the seed plan (chapters, measures, units, targets)."""
    return json.loads(EXPECTED.read_text(encoding="utf-8"))


def measures_of(unit_name: str) -> set[int]:
    return {
        m["number"]
        for chapter in truth()["chapters"]
        for m in chapter["measures"]
        if unit_name in m["responsible_units"]
    }


def run_quietly(command: str, *args: str) -> None:
    call_command(command, *args, stdout=io.StringIO(), stderr=io.StringIO())


# The fixtures run the real commands once per session and replay the rows they wrote
# afterwards (tests/dbstate.py): same data, a fraction of the time.


@pytest.fixture
def org_units(db):
    dbstate.load("org_units", lambda: run_quietly("load_org_units"))
    return OrgUnit.objects


@pytest.fixture
def calendar(db):
    from qcity.core import workdays

    dbstate.load("calendar", lambda: run_quietly("load_calendar"))
    workdays.invalidate()  # a replay sends no signals


@pytest.fixture
def plan(org_units):
    from qcity.plans.models import Plan

    dbstate.load("plan", lambda: run_quietly("import_plan", str(BUNDLED_SEED)))
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
    "inspector": (Role.INSPECTOR, "开原市城区市场监督管理所"),
    "lab": (Role.LAB, "铁岭检验检测中心"),
    "enterprise": (Role.ENTERPRISE, None),
}


@pytest.fixture
def personas(org_units) -> dict[str, User]:
    def create() -> None:
        for name, (role, unit) in PERSONAS.items():
            make_user(name, role, unit)

    dbstate.load("personas", create)
    users = User.objects.select_related("unit").in_bulk(PERSONAS, field_name="username")
    return {name: users[name] for name in PERSONAS}


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

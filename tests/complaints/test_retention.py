"""Retention: a closed case loses its person's identity COMPLAINT_RETENTION_YEARS after closing."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from qcity.complaints import retention
from qcity.complaints.models import Case
from qcity.core import jobs
from qcity.core.models import AuditEvent
from tests.complaints.helpers import make_case
from tests.task_helpers import run_worker

pytestmark = pytest.mark.django_db

NOW = timezone.make_aware(dt.datetime(2030, 6, 15, 3, 0))


def _closed(closed_at: dt.datetime, **fields) -> Case:
    return make_case(
        status=Case.Status.CLOSED,
        outcome=Case.Outcome.AGREEMENT,
        closed_at=closed_at,
        status_changed_at=closed_at,
        id_number="21028219900101123X",
        person_address="铁岭市银州区广裕街1号",
        fingerprint="f" * 64,
        amount="299.00",
        amount_recovered="299.00",
        **fields,
    )


def _command(*args: str) -> str:
    out = StringIO()
    call_command("purge_personal_data", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_it_erases_the_identity_three_years_after_closing_and_keeps_what_statistics_count(
    personas, settings
):
    settings.COMPLAINT_RETENTION_YEARS = 3
    old = _closed(NOW - dt.timedelta(days=3 * 365 + 2))
    assert retention.erase_due(NOW) == 1
    old.refresh_from_db()
    for field in retention.ERASED_FIELDS:
        assert getattr(old, field) == "", field
    assert old.personal_data_erased_at == NOW
    # What the statistics and the disclosure count stays.
    assert (old.kind, old.status, old.outcome) == ("complaint", "closed", "agreement")
    assert str(old.amount_recovered) == "299.00" and old.owner_unit.name == "开原市市场监督管理局"
    assert old.respondent_name and old.facts and old.received_on == dt.date(2026, 6, 1)

    event = AuditEvent.objects.get(action="complaints.case.personal_data_erased")
    assert event.object_id == str(old.pk) and event.details["retention_years"] == 3
    assert "张三丰" not in str(event.details) and "13800138000" not in str(event.details)


def test_it_keeps_cases_closed_less_than_the_period_ago_and_open_ones(personas, settings):
    settings.COMPLAINT_RETENTION_YEARS = 3
    recent = _closed(NOW.replace(year=2027) + dt.timedelta(days=1))  # a day short of 3 years
    open_case = make_case(status=Case.Status.MEDIATING, received_on=dt.date(2020, 1, 6))
    assert retention.erase_due(NOW) == 0
    for case in (recent, open_case):
        case.refresh_from_db()
        assert case.person_name == "张三丰" and case.person_phone
        assert case.personal_data_erased_at is None


def test_the_period_is_the_setting(personas, settings):
    case = _closed(NOW.replace(year=2026) - dt.timedelta(days=1))
    settings.COMPLAINT_RETENTION_YEARS = 5
    assert retention.erase_due(NOW) == 0
    settings.COMPLAINT_RETENTION_YEARS = 4
    assert retention.erase_due(NOW) == 1
    case.refresh_from_db()
    assert case.person_name == ""


def test_a_case_closed_without_closed_at_counts_from_its_last_status_change(personas, settings):
    settings.COMPLAINT_RETENTION_YEARS = 3
    case = _closed(None)
    Case.objects.filter(pk=case.pk).update(status_changed_at=NOW.replace(year=2026))
    assert retention.erase_due(NOW) == 1


def test_the_29th_of_february_counts_to_the_28th():
    moment = timezone.make_aware(dt.datetime(2032, 2, 29, 12, 0))
    assert retention.cutoff(moment, 3) == timezone.make_aware(dt.datetime(2029, 2, 28, 12, 0))


def test_the_command_dry_run_counts_and_changes_nothing_then_erases_in_batches(personas, settings):
    settings.COMPLAINT_RETENTION_YEARS = 1
    long_ago = timezone.now() - dt.timedelta(days=800)
    cases = [_closed(long_ago) for _ in range(3)]
    assert "将删除个人信息的件数：3" in _command("--dry-run")
    assert Case.objects.filter(person_name="张三丰").count() == 3
    assert not AuditEvent.objects.filter(action="complaints.case.personal_data_erased").exists()

    assert "已删除办结满 1 年的 3 件中的个人信息" in _command("--batch-size", "2")
    assert not Case.objects.filter(pk__in=[c.pk for c in cases]).exclude(person_name="").exists()
    assert AuditEvent.objects.filter(action="complaints.case.personal_data_erased").count() == 3
    # Idempotent: nothing left to erase, nothing recorded again.
    assert "的 0 件中" in _command()
    assert AuditEvent.objects.filter(action="complaints.case.personal_data_erased").count() == 3


def test_the_daily_timer_erases_through_the_task_worker(personas, settings, monkeypatch):
    settings.COMPLAINT_RETENTION_YEARS = 1
    case = _closed(timezone.now() - dt.timedelta(days=400))
    enqueued = jobs.run_timers(names=["complaints.erase_personal_data"]).enqueued
    assert len(enqueued) == 1
    # Once a day: a second pass in the same day enqueues nothing.
    assert jobs.run_timers(names=["complaints.erase_personal_data"]).already == 1
    run_worker(monkeypatch)
    case.refresh_from_db()
    assert case.person_name == "" and case.personal_data_erased_at is not None

"""Notices: kept with their object, sent after commit through real channels, read by their owner."""

from __future__ import annotations

import logging
import socket
from email import message_from_bytes
from email.header import decode_header, make_header

import pytest
from aiosmtpd.controller import Controller
from django.core import mail
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from qcity.core.models import AuditEvent, Notice, NoticeDelivery, OrgUnit
from qcity.core.notices import notify, retry_failed
from tests.task_helpers import run_worker

SUBJECT = "催报：2026年第一季度进展报告将于3月31日截止"


@pytest.fixture
def email_channels(settings):
    settings.NOTICE_CHANNELS = ["email", "log"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def nongye_unit(org_units) -> OrgUnit:
    return OrgUnit.objects.get(name="市农业农村局")


@pytest.mark.django_db
def test_a_notice_is_kept_with_its_object_and_sent_only_after_commit(
    monkeypatch, email_channels, personas, nongye_unit, django_capture_on_commit_callbacks
):
    nongye = personas["nongye"]
    nongye.email = "nongye@example.org"
    nongye.save()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        [notice] = notify([nongye], nongye_unit, SUBJECT, "请于截止日前提交。", by=None)
    # Before commit: the notice exists in the transaction, nothing is queued or sent.
    assert notice.subject_object == nongye_unit
    assert not DBTaskResult.objects.exists()
    assert mail.outbox == []
    assert set(notice.deliveries.values_list("channel", "status")) == {
        ("email", "pending"),
        ("log", "pending"),
    }

    for callback in callbacks:
        callback()  # the commit
    assert DBTaskResult.objects.count() == 1
    run_worker(monkeypatch)

    [message] = mail.outbox
    assert message.subject == SUBJECT
    assert message.to == ["nongye@example.org"]
    assert set(notice.deliveries.values_list("channel", "status")) == {
        ("email", "sent"),
        ("log", "sent"),
    }
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"
    assert AuditEvent.objects.filter(action="notice.created").count() == 1


@pytest.mark.django_db
def test_a_rolled_back_action_leaves_no_notice_and_sends_nothing(
    email_channels, personas, nongye_unit, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            notify([personas["nongye"]], nongye_unit, SUBJECT)
            raise RuntimeError("the action failed")
    assert callbacks == []
    assert not Notice.objects.exists()
    assert not DBTaskResult.objects.exists()
    assert mail.outbox == []


@pytest.mark.django_db
def test_a_recipient_without_an_address_is_skipped_by_email_and_logged(
    monkeypatch, email_channels, personas, nongye_unit, django_capture_on_commit_callbacks, caplog
):
    with django_capture_on_commit_callbacks(execute=True):
        notify([personas["gongxin"]], nongye_unit, SUBJECT)
    with caplog.at_level(logging.INFO, logger="qcity.notices"):
        run_worker(monkeypatch)
    assert mail.outbox == []
    assert dict(NoticeDelivery.objects.values_list("channel", "status")) == {
        "email": "skipped",
        "log": "sent",
    }
    assert SUBJECT in caplog.text


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's hook
        self.messages.append((envelope.mail_from, envelope.rcpt_tos, envelope.content))
        return "250 OK"


@pytest.mark.django_db
def test_the_email_channel_talks_smtp_to_a_real_server(
    monkeypatch, settings, personas, nongye_unit, django_capture_on_commit_callbacks
):
    inbox = Inbox()
    port = _free_port()
    server = Controller(inbox, hostname="127.0.0.1", port=port)
    server.start()
    try:
        settings.NOTICE_CHANNELS = ["email"]
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
        settings.DEFAULT_FROM_EMAIL = "qcity@tieling.example"
        nongye = personas["nongye"]
        nongye.email = "nongye@example.org"
        nongye.save()
        with django_capture_on_commit_callbacks(execute=True):
            notify([nongye], nongye_unit, SUBJECT, "请于截止日前提交。")
        run_worker(monkeypatch)
    finally:
        server.stop()

    [(sender, recipients, content)] = inbox.messages
    assert sender == "qcity@tieling.example"
    assert recipients == ["nongye@example.org"]
    message = message_from_bytes(content)
    assert str(make_header(decode_header(message["Subject"]))) == SUBJECT
    assert "请于截止日前提交" in message.get_payload(decode=True).decode(
        message.get_content_charset()
    )
    assert NoticeDelivery.objects.get().status == "sent"


@pytest.mark.django_db
def test_an_unreachable_mail_server_is_recorded_as_a_failed_delivery(
    monkeypatch, settings, personas, nongye_unit, django_capture_on_commit_callbacks
):
    settings.NOTICE_CHANNELS = ["email", "log"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", _free_port(), 5
    nongye = personas["nongye"]
    nongye.email = "nongye@example.org"
    nongye.save()
    with django_capture_on_commit_callbacks(execute=True):
        [notice] = notify([nongye], nongye_unit, SUBJECT)
    run_worker(monkeypatch)

    email = notice.deliveries.get(channel="email")
    assert email.status == "failed"
    assert "ConnectionRefusedError" in email.last_error
    assert email.attempts == 1
    # The other channel and the in-app notice are unaffected.
    assert notice.deliveries.get(channel="log").status == "sent"
    assert Notice.objects.filter(pk=notice.pk, read_at__isnull=True).exists()


@pytest.mark.django_db
def test_a_failed_email_is_retried_by_the_hourly_job_up_to_three_attempts(
    monkeypatch, settings, personas, nongye_unit, django_capture_on_commit_callbacks
):
    settings.NOTICE_CHANNELS = ["email"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    port = _free_port()
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 5
    nongye = personas["nongye"]
    nongye.email = "nongye@example.org"
    nongye.save()
    with django_capture_on_commit_callbacks(execute=True):
        notify([nongye], nongye_unit, SUBJECT)
    run_worker(monkeypatch)
    assert NoticeDelivery.objects.get().status == "failed"

    # The server is back: the next retry sends it.
    inbox = Inbox()
    server = Controller(inbox, hostname="127.0.0.1", port=port)
    server.start()
    try:
        assert retry_failed() == {"sent": 1, "failed": 0, "skipped": 0}
    finally:
        server.stop()
    delivery = NoticeDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("sent", 2)
    assert len(inbox.messages) == 1
    assert retry_failed() == {"sent": 0, "failed": 0, "skipped": 0}  # sent stays sent


@pytest.mark.django_db
def test_a_delivery_that_keeps_failing_stops_after_three_attempts(
    monkeypatch, settings, personas, django_capture_on_commit_callbacks
):
    settings.NOTICE_CHANNELS = ["email"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", _free_port(), 5
    nongye = personas["nongye"]
    nongye.email = "nongye@example.org"
    nongye.save()
    with django_capture_on_commit_callbacks(execute=True):
        notify([nongye], None, SUBJECT)
    run_worker(monkeypatch)
    assert retry_failed()["failed"] == 1
    assert retry_failed()["failed"] == 1
    assert retry_failed() == {"sent": 0, "failed": 0, "skipped": 0}
    delivery = NoticeDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("failed", 3)


# --- the in-app list ------------------------------------------------------------------------


@pytest.mark.django_db
def test_each_person_sees_and_marks_only_their_own_notices(
    client, personas, nongye_unit, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        [mine] = notify([personas["nongye"]], nongye_unit, "报告已退回：请补充佐证材料")
        [theirs] = notify([personas["gongxin"]], None, "工信局的催报")
        notify([personas["nongye"]], None, "第二条通知")

    client.force_login(personas["nongye"])
    page = client.get("/notices/").content.decode()
    assert "报告已退回：请补充佐证材料" in page and "第二条通知" in page
    assert "工信局的催报" not in page
    assert 'data-testid="unread-count">2<' in page

    # Someone else's notice id is ignored, not marked.
    client.post("/notices/read/", {"notice": theirs.pk})
    theirs.refresh_from_db()
    assert theirs.read_at is None

    assert client.post("/notices/read/", {"notice": mine.pk}).status_code == 302
    mine.refresh_from_db()
    assert mine.read_at is not None
    assert 'data-testid="unread-count">1<' in client.get("/notices/").content.decode()

    client.post("/notices/read/")
    page = client.get("/notices/").content.decode()
    assert "unread-count" not in page
    assert AuditEvent.objects.filter(action="notice.read", actor=personas["nongye"]).count() == 2


@pytest.mark.django_db
def test_the_notice_page_refuses_a_malformed_id_and_needs_a_login(client, personas):
    assert client.get("/notices/").status_code == 302
    client.force_login(personas["nongye"])
    assert client.post("/notices/read/", {"notice": "1 OR 1=1"}).status_code == 404
    assert client.post("/notices/read/", {"notice": "²"}).status_code == 404
    assert client.get("/notices/read/").status_code == 405
    page = client.get("/notices/").content.decode()
    assert "暂无通知" in page

"""The forms on a case page: each state offers its steps' forms, each form posts what its
step's hooks read, and a refusal comes back in Chinese beside the form with nothing changed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from qcity.complaints.models import Case, Payment, Suspension
from qcity.core.models import AuditEvent
from tests.complaints.helpers import make_case, make_entity
from tests.core.test_files import png_bytes

pytestmark = pytest.mark.django_db

S = Case.Status
NOW = dt.datetime(2026, 6, 10, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def storage(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "attachments": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "attachments")},
        },
    }


def forms_on(client, case) -> dict:
    response = client.get(f"/complaints/{case.number}/")
    assert response.status_code == 200
    return {f.step.name: f for f in response.context["step_forms"]}


@pytest.mark.parametrize(
    ("kind", "status", "steps"),
    [
        ("complaint", S.ODR, {"odr_return", "withdraw"}),
        ("complaint", S.RECEIVED, {"transfer", "dispute", "accept", "refuse", "withdraw"}),
        ("complaint", S.ACCEPTED, {"mediate", "terminate", "withdraw"}),
        (
            "complaint",
            S.MEDIATING,
            {"change_mediator", "suspend", "agree", "terminate", "withdraw"},
        ),
        ("complaint", S.SUSPENDED, {"resume", "terminate", "withdraw"}),
        ("complaint", S.NOTIFYING, {"notify"}),
        ("complaint", S.CLOSED, set()),
        (
            "report",
            S.VERIFYING,
            {"transfer", "dispute", "extend", "supplement", "repeat", "file", "not_file"},
        ),
        ("report", S.NOTIFYING, {"notify", "close"}),
        (
            "lead",
            S.VERIFYING,
            {"transfer", "dispute", "extend", "supplement", "repeat", "file", "not_file"},
        ),
    ],
)
def test_each_state_offers_the_forms_of_its_steps(
    client, personas, calendar, frozen, kind, status, steps
):
    case = make_case(kind=kind, status=status, accepted_on=dt.date(2026, 6, 2))
    client.force_login(personas["kaiyuan"])
    offered = forms_on(client, case)
    assert set(offered) == steps
    html = client.get(f"/complaints/{case.number}/").content.decode()
    for name in steps:
        assert f'data-testid="take-{name}"' in html
    if not steps:
        assert 'data-testid="no-steps"' in html


def test_the_city_bureau_designates_a_disputed_case(client, personas, calendar, frozen):
    case = make_case(status=S.DISPUTED)
    client.force_login(personas["kaiyuan"])
    assert forms_on(client, case) == {}
    client.force_login(personas["coordinator"])
    form = forms_on(client, case)["designate"]
    # Either side of the dispute may be designated, its own bureau included.
    assert case.owner_unit_id in dict(form.fields["to_unit"].choices)


def test_mediation_entrusted_to_the_association_needs_both_consents(
    client, personas, calendar, frozen
):
    case = make_case(status=S.ACCEPTED, accepted_on=dt.date(2026, 6, 2))
    client.force_login(personas["kaiyuan"])
    url = f"/complaints/{case.number}/steps/mediate/"
    data = {"mediate-mode": "entrusted", "mediate-entrusted_to": "开原市消费者协会"}
    refused = client.post(url, data)
    assert refused.status_code == 422
    assert "双方同意" in refused.content.decode()
    case.refresh_from_db()
    assert case.status == S.ACCEPTED
    data |= {"mediate-complainant_consents": "true", "mediate-respondent_consents": "true"}
    assert client.post(url, data).status_code == 302
    case.refresh_from_db()
    assert (case.status, case.mediation_mode) == (S.MEDIATING, "entrusted")
    assert case.mediator == personas["kaiyuan"]
    html = client.get(f"/complaints/{case.number}/").content.decode()
    assert "委托消费者协会调解" in html and "调解人员：kaiyuan" in html


def test_a_mediator_is_chosen_from_the_bureaus_people_only(client, personas, calendar, frozen):
    case = make_case(status=S.ACCEPTED, accepted_on=dt.date(2026, 6, 2))
    client.force_login(personas["kaiyuan"])
    offered = dict(forms_on(client, case)["mediate"].fields["mediator"].choices)
    assert personas["kaiyuan"].pk in offered and personas["inspector"].pk in offered
    assert personas["xifeng"].pk not in offered and personas["coordinator"].pk not in offered
    # A forged choice is refused by the form, and the case is unchanged.
    response = client.post(
        f"/complaints/{case.number}/steps/mediate/",
        {"mediate-mode": "onsite", "mediate-mediator": personas["xifeng"].pk},
    )
    assert response.status_code == 400
    case.refresh_from_db()
    assert case.status == S.ACCEPTED


def test_suspend_and_resume_from_their_forms_keep_the_days_off_the_clock(
    client, personas, calendar
):
    with time_machine.travel(dt.datetime(2026, 6, 3, 9, tzinfo=dt.UTC), tick=False):
        case = make_case(status=S.MEDIATING, accepted_on=dt.date(2026, 6, 2))
        client.force_login(personas["kaiyuan"])
        response = client.post(
            f"/complaints/{case.number}/steps/suspend/",
            {"suspend-kind": "testing", "suspend-note": "送检测机构"},
        )
        assert response["Location"] == f"/complaints/{case.number}/"
    with time_machine.travel(dt.datetime(2026, 6, 13, 9, tzinfo=dt.UTC), tick=False):
        client.force_login(personas["kaiyuan"])  # ten days later: a new session
        response = client.post(f"/complaints/{case.number}/steps/resume/", {})
        assert response["Location"] == f"/complaints/{case.number}/"
        html = client.get(f"/complaints/{case.number}/").content.decode()
    case.refresh_from_db()
    assert case.status == S.MEDIATING and case.suspended_days == 10
    [suspension] = case.suspensions.all()
    assert suspension.reason == Suspension.Reason.TESTING
    assert 'data-testid="suspensions"' in html and "10 天不计入" in html


def test_an_agreement_keeps_its_document_and_the_money_recovered(
    client, personas, calendar, frozen, storage
):
    case = make_case(status=S.MEDIATING, accepted_on=dt.date(2026, 6, 2))
    client.force_login(personas["kaiyuan"])
    url = f"/complaints/{case.number}/steps/agree/"
    bad = client.post(url, {"agree-agreement_kind": "document", "agree-amount_recovered": "12,x"})
    assert bad.status_code == 422 and "挽回经济损失须为金额" in bad.content.decode()
    scan = SimpleUploadedFile("调解书.png", png_bytes(), content_type="image/png")
    done = client.post(
        url,
        {
            "agree-agreement_kind": "document",
            "agree-amount_recovered": "299.50",
            "agree-note": "商家退货退款",
            "agree-document": scan,
        },
    )
    assert done.status_code == 302
    case.refresh_from_db()
    assert (case.outcome, case.amount_recovered) == ("agreement", Decimal("299.50"))
    html = client.get(f"/complaints/{case.number}/").content.decode()
    assert "调解书.png" in html and "299.50" in html


def test_a_termination_is_delivered_with_its_channel(client, personas, calendar, frozen):
    case = make_case(status=S.MEDIATING, accepted_on=dt.date(2026, 6, 2))
    client.force_login(personas["kaiyuan"])
    done = client.post(
        f"/complaints/{case.number}/steps/terminate/",
        {"terminate-ground": "3", "terminate-reason": "被投诉人明确表示无法达成协议"},
    )
    assert done.status_code == 302
    case.refresh_from_db()
    assert case.status == S.NOTIFYING and case.due_rule == "complaint.termination_notice@order121"
    page = client.get(f"/complaints/{case.number}/").content.decode()
    assert "第二十三条第二款" in page
    assert "第二十三条第一款（3）经组织调解" in page
    missing = client.post(f"/complaints/{case.number}/steps/notify/", {})
    assert missing.status_code == 400
    delivered = client.post(f"/complaints/{case.number}/steps/notify/", {"notify-channel": "sms"})
    assert delivered.status_code == 302
    case.refresh_from_db()
    assert case.status == S.CLOSED


def test_a_report_extension_under_order_121_needs_the_heads_approval(
    client, personas, calendar, frozen
):
    report = make_case(kind=Case.Kind.REPORT, due_on=dt.date(2026, 6, 22))
    client.force_login(personas["kaiyuan"])
    url = f"/complaints/{report.number}/steps/extend/"
    refused = client.post(url, {"extend-reason": "需要现场检查"})
    assert refused.status_code == 422
    assert "负责人批准" in refused.content.decode()
    report.refresh_from_db()
    assert not report.extended
    done = client.post(
        url,
        {
            "extend-reason": "需要现场检查",
            "extend-approved_by": "王局长",
            "extend-approval_ref": "开市监延〔2026〕3号",
        },
    )
    assert done.status_code == 302
    report.refresh_from_db()
    assert report.extended
    html = client.get(f"/complaints/{report.number}/").content.decode()
    assert "王局长" in html and "开市监延〔2026〕3号" in html


def test_an_officer_records_an_advance_payment_and_a_bad_amount_is_refused(
    client, personas, calendar, frozen
):
    case = make_case(status=S.MEDIATING, accepted_on=dt.date(2026, 6, 2))
    client.force_login(personas["kaiyuan"])
    url = f"/complaints/{case.number}/payments/"
    bad = client.post(url, {"payment-kind": "advance", "payment-amount": "-5"})
    assert bad.status_code == 422
    assert 'data-testid="payment-error"' in bad.content.decode()
    assert not Payment.objects.exists()
    done = client.post(url, {"payment-kind": "advance", "payment-amount": "88.00"})
    assert done.status_code == 302
    [payment] = Payment.objects.all()
    assert (payment.kind, payment.amount, payment.case_id) == ("advance", Decimal("88.00"), case.pk)
    html = client.get(f"/complaints/{case.number}/").content.decode()
    assert 'data-testid="payments"' in html and "88.00" in html
    client.force_login(personas["xifeng"])
    assert client.post(url, {"payment-kind": "advance", "payment-amount": "1"}).status_code == 404
    assert Payment.objects.count() == 1


def test_a_lead_found_in_mediation_opens_as_its_own_case(client, personas, calendar, frozen):
    entity = make_entity()
    case = make_case(
        status=S.MEDIATING, accepted_on=dt.date(2026, 6, 2), entity=entity, phone="13700137000"
    )
    client.force_login(personas["kaiyuan"])
    url = f"/complaints/{case.number}/leads/"
    assert client.post(url, {"lead-facts": ""}).status_code == 400
    response = client.post(url, {"lead-facts": "店内销售过期食品"})
    assert response.status_code == 302
    lead = Case.objects.get(kind=Case.Kind.LEAD)
    assert response["Location"] == f"/complaints/{lead.number}/"
    html = client.get(response["Location"]).content.decode()
    assert "店内销售过期食品" in html and case.number in html
    assert "137****7000" not in html  # the lead carries no complainant
    assert AuditEvent.objects.filter(action="complaints.case.lead_recorded").count() == 1
    closed = make_case(status=S.CLOSED)
    page = client.get(f"/complaints/{closed.number}/").content.decode()
    assert 'data-testid="lead-form"' not in page

"""The public complaint form, its receipt and follow page, and the staff entry page."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from qcity.complaints import pow
from qcity.complaints.models import Case, CaseNotice, Submission
from tests.complaints.helpers import KAIYUAN_BUREAU, make_entity
from tests.complaints.test_intake import complaint_fields, nothing_stored
from tests.core.test_files import pdf_bytes

pytestmark = pytest.mark.django_db

NEW = "/portal/complaints/new/"
FOLLOW = "/portal/complaints/follow/"
STAFF = "/complaints/new/"


@pytest.fixture(autouse=True)
def _cheap_proofs(settings):
    settings.COMPLAINT_POW_BITS = 4


@pytest.fixture
def now(calendar):
    with time_machine.travel(dt.datetime(2026, 6, 1, 2, 0, tzinfo=dt.UTC), tick=False):
        yield


def solved_form(client: Client, **overrides) -> dict:
    page = client.get(NEW)
    token = re.search(r'name="pow_challenge" value="([^"]+)"', page.content.decode()).group(1)
    data = complaint_fields(**overrides)
    data.update(pow_challenge=token, pow_nonce=pow.solve(token, 4))
    return data


def receipt_of(response) -> tuple[list[str], str]:
    html = response.content.decode()
    numbers = re.findall(r'data-testid="case-number">([^<]+)<', html)
    code = re.search(r'data-testid="receipt-code">([^<]+)<', html).group(1)
    return numbers, code


# --- the public form ------------------------------------------------------------------------


def test_the_public_files_a_complaint_gets_a_receipt_and_follows_it(client, personas, now):
    page = client.get(NEW)
    assert page.status_code == 200 and page["Cache-Control"].startswith("no-store")
    response = client.post(
        NEW, {**solved_form(client), "files": SimpleUploadedFile("发票.pdf", pdf_bytes())}
    )
    assert response.status_code == 200
    (number,), code = receipt_of(response)
    case = Case.objects.get(number=number)
    assert case.submission.channel == Submission.Channel.WEB and case.created_by is None
    assert "no-store" in response["Cache-Control"]
    CaseNotice.objects.create(
        case=case,
        kind="accept",
        recipient=CaseNotice.Recipient.PERSON,
        title="受理告知书",
        body="您的投诉已受理。",
        created_at=timezone.now(),
    )
    CaseNotice.objects.create(
        case=case,
        kind="reply",
        recipient=CaseNotice.Recipient.RESPONDENT,
        title="致经营者的告知",
        body="经营者答复内容",
        created_at=timezone.now(),
    )
    followed = client.post(FOLLOW, {"number": number, "code": code.lower().replace("-", " ")})
    html = followed.content.decode()
    assert followed.status_code == 200
    assert "已收到，等待受理" in html and "2026-06-10" in html
    assert "受理告知书" in html
    # Nothing addressed to the other side, and no personal data on the page.
    assert "经营者答复内容" not in html and "13800138000" not in html and "李小红" not in html


def test_a_wrong_code_looks_the_same_as_no_case(client, personas, now):
    (number,), _code = receipt_of(client.post(NEW, solved_form(client)))
    wrong = client.post(FOLLOW, {"number": number, "code": "AAAAA-AAAAA"})
    absent = client.post(FOLLOW, {"number": "TS20260601999999", "code": "AAAAA-AAAAA"})
    assert wrong.status_code == absent.status_code == 404
    strip = re.compile(r'name="(csrfmiddlewaretoken|number)" value="[^"]*"')
    assert strip.sub("", wrong.content.decode()) == strip.sub("", absent.content.decode())


def test_missing_materials_are_shown_on_their_fields_and_nothing_is_stored(client, personas, now):
    response = client.post(NEW, solved_form(client, person_phone="12345", request=""))
    html = response.content.decode()
    assert response.status_code == 400
    assert "联系电话格式不正确" in html and "请填写投诉请求" in html
    assert nothing_stored()


def test_html_in_text_fields_is_shown_escaped_when_the_form_comes_back(client, personas, now):
    script = "<script>alert(1)</script>"
    response = client.post(NEW, solved_form(client, facts=script, person_phone=""))
    html = response.content.decode()
    assert script not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_a_bad_attachment_is_refused_with_its_reason(client, personas, now):
    data = solved_form(client)
    data["files"] = SimpleUploadedFile("证据.pdf", b"MZ\x90\x00" + b"\x00" * 100)
    response = client.post(NEW, data)
    assert response.status_code == 400 and "不接受此类文件" in response.content.decode()
    assert nothing_stored()


def test_a_submission_without_a_solved_proof_is_refused(client, personas, now):
    data = solved_form(client)
    for broken in (
        {"pow_nonce": ""},
        {"pow_challenge": data["pow_challenge"] + "x"},
        {"pow_nonce": "not-a-number"},
    ):
        response = client.post(NEW, {**data, **broken})
        assert response.status_code == 400 and "人机验证" in response.content.decode()
    assert nothing_stored()


def test_a_proof_is_good_for_one_submission_only(client, personas, now):
    data = solved_form(client)
    assert client.post(NEW, data).status_code == 200
    again = client.post(NEW, data)
    assert again.status_code == 400 and "此表单已经提交过" in again.content.decode()
    assert Case.objects.count() == 1


def test_an_expired_proof_is_refused(personas, calendar):
    with time_machine.travel(dt.datetime(2026, 6, 1, 2, 0, tzinfo=dt.UTC), tick=False):
        challenge = pow.issue()
    nonce = pow.solve(challenge.token, challenge.bits)
    with pytest.raises(pow.ProofRefused) as refused:
        pow.verify(challenge.token, nonce, now=challenge.expires_at + dt.timedelta(seconds=1))
    assert refused.value.code == "pow_expired"


def test_the_difficulty_is_the_one_signed_into_the_challenge(settings):
    settings.COMPLAINT_POW_BITS = 12
    challenge = pow.issue()
    assert challenge.bits == 12
    nonce = pow.solve(challenge.token, 12)
    settings.COMPLAINT_POW_BITS = 0
    pow.verify(challenge.token, nonce)  # solved at the signed difficulty: accepted


def test_a_body_of_several_megabytes_gets_a_specific_answer(client, personas, now):
    data = solved_form(client, facts="漏" * 2_000_000)  # about 6 MB once URL-encoded
    response = client.post(NEW, data)
    assert response.status_code == 413
    assert "填写的文字内容过多" in response.content.decode()
    assert nothing_stored()


def test_submissions_from_one_address_are_rate_limited(client, personas, now, settings):
    settings.COMPLAINT_SUBMIT_RATE_LIMIT_PER_ADDRESS = 1
    assert client.post(NEW, solved_form(client)).status_code == 200
    response = client.post(NEW, solved_form(client, facts="另一件事"))
    assert response.status_code == 429 and response["Retry-After"]
    assert Case.objects.count() == 1


def test_follow_lookups_are_rate_limited(client, personas, now, settings):
    settings.COMPLAINT_FOLLOW_RATE_LIMIT_PER_ADDRESS = 2
    for _ in range(2):
        client.post(FOLLOW, {"number": "TS20260601000001", "code": "AAAAA-AAAAA"})
    response = client.post(FOLLOW, {"number": "TS20260601000001", "code": "AAAAA-AAAAA"})
    assert response.status_code == 429


# --- staff entry ----------------------------------------------------------------------------


def staff_data(**overrides) -> dict:
    return {"channel": Submission.Channel.PHONE, **complaint_fields(**overrides)}


@pytest.mark.parametrize(
    ("who", "status"),
    [("kaiyuan", 200), ("coordinator", 200), ("inspector", 403), ("enterprise", 403)],
)
def test_only_county_officers_and_the_coordinator_enter_cases(client, personas, who, status):
    client.force_login(personas[who])
    assert client.get(STAFF).status_code == status


def test_the_public_cannot_open_the_staff_page(client, personas):
    response = client.get(STAFF)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_an_officer_enters_a_phone_complaint(client, personas, now):
    entity = make_entity(KAIYUAN_BUREAU)
    client.force_login(personas["kaiyuan"])
    response = client.post(
        STAFF, staff_data(respondent_code=entity.code, received_at="2026-05-29T16:30")
    )
    assert response.status_code == 200
    (number,), _code = receipt_of(response)
    case = Case.objects.get(number=number)
    assert case.submission.channel == Submission.Channel.PHONE
    assert case.created_by == personas["kaiyuan"] and case.respondent_entity == entity
    assert case.received_on == dt.date(2026, 5, 29) and number.startswith("TS20260529")


def test_the_staff_page_warns_of_a_near_duplicate_before_saving(client, personas, now):
    client.force_login(personas["kaiyuan"])
    respondent = "<b>开原市好运来超市</b>"
    first = client.post(STAFF, staff_data(respondent_name=respondent))
    (number,), _code = receipt_of(first)
    warned = client.post(STAFF, staff_data(respondent_name=respondent, facts="换个说法"))
    html = warned.content.decode()
    assert warned.status_code == 409 and number in html
    assert respondent not in html and "&lt;b&gt;开原市好运来超市&lt;/b&gt;" in html
    assert Case.objects.count() == 1
    saved = client.post(
        STAFF, staff_data(respondent_name=respondent, facts="换个说法", confirm_duplicate="on")
    )
    assert saved.status_code == 200 and Case.objects.count() == 2


def test_another_county_is_not_warned_of_cases_it_cannot_see(client, personas, now):
    client.force_login(personas["kaiyuan"])
    (number,), _code = receipt_of(client.post(STAFF, staff_data()))
    client.force_login(personas["xifeng"])
    # The same complaint about a Xifeng shop would be a duplicate of nothing Xifeng sees.
    response = client.post(STAFF, staff_data())
    assert response.status_code == 200 and number not in response.content.decode()
    assert Case.objects.count() == 2


def test_a_json_body_of_several_megabytes_gets_the_apis_specific_error(client, personas):
    body = '{"facts": "' + "漏" * 2_000_000 + '"}'
    response = client.post("/api/v1/complaints/", body, content_type="application/json")
    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"

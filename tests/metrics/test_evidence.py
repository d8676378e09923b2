"""Evidence files on indicator values: one revision, its own files, all or nothing."""

from __future__ import annotations

import hashlib
from io import StringIO
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client

from qcity.core import files
from qcity.core.models import Attachment, AuditEvent, OrgUnit
from qcity.core.scope import scoped
from qcity.metrics.models import Indicator, IndicatorValue, IndicatorValueRevision
from qcity.metrics.services import ValueRejected, enter_value
from tests.core.test_files import pdf_bytes, png_bytes, stored_files

pytestmark = pytest.mark.django_db


@pytest.fixture
def store(settings, tmp_path) -> Path:
    root = tmp_path / "attachments"
    settings.STORAGES = {
        **settings.STORAGES,
        "attachments": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(root)},
        },
    }
    return root


@pytest.fixture
def agri(personas) -> Indicator:
    call_command("load_indicators", stdout=StringIO())
    return Indicator.objects.get(code="agri_monitoring_pass_rate")


def upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


def test_each_revision_keeps_the_evidence_it_was_entered_with(store, agri, personas):
    nongye = personas["nongye"]
    report = pdf_bytes()
    enter_value(
        agri.pk,
        period="2024",
        value="97.5",
        unit="%",
        by=nongye,
        evidence=[upload("2024年监测报告.pdf", report)],
    )
    enter_value(
        agri.pk,
        period="2024",
        value="97.8",
        unit="%",
        by=nongye,
        evidence=[upload("更正说明.png", png_bytes())],
    )
    first, second = IndicatorValueRevision.objects.order_by("id")
    assert [a.original_name for a in files.attachments_of(first)] == ["2024年监测报告.pdf"]
    assert [a.original_name for a in files.attachments_of(second)] == ["更正说明.png"]
    kept = files.attachments_of(first).get()
    assert kept.sha256 == hashlib.sha256(report).hexdigest() and kept.uploaded_by == nongye
    assert len(stored_files(store)) == 2
    attached = AuditEvent.objects.filter(action="file.attached").order_by("id")
    assert [e.details["name"] for e in attached] == ["2024年监测报告.pdf", "更正说明.png"]
    entered = AuditEvent.objects.filter(action="indicator_value.entered").order_by("id")
    assert [e.details.get("evidence_files") for e in entered] == [1, 1]


def test_new_evidence_for_an_unchanged_figure_is_a_revision_of_its_own(store, agri, personas):
    nongye = personas["nongye"]
    enter_value(agri.pk, period="2024", value="97.5", unit="%", by=nongye)
    enter_value(agri.pk, period="2024", value="97.5", unit="%", by=nongye)  # nothing new
    assert IndicatorValueRevision.objects.count() == 1
    enter_value(
        agri.pk,
        period="2024",
        value="97.5",
        unit="%",
        by=nongye,
        evidence=[upload("补充材料.pdf", pdf_bytes())],
    )
    latest = IndicatorValueRevision.objects.order_by("id").last()
    assert (latest.previous_value, latest.value) == (97.5, 97.5)
    assert files.attachments_of(latest).count() == 1


def _nothing_stored(store: Path) -> None:
    assert not IndicatorValue.objects.exists()
    assert not IndicatorValueRevision.objects.exists()
    assert not Attachment.objects.exists()
    assert stored_files(store) == []
    assert not AuditEvent.objects.filter(
        action__in=["indicator_value.entered", "file.attached"]
    ).exists()


@pytest.mark.parametrize(
    ("evidence", "code"),
    [
        ([("病毒.pdf", b"MZ\x90\x00" + b"\x00" * 200)], "file_type_not_allowed"),
        ([("报告.pdf", pdf_bytes()[:-40])], "file_corrupted"),
        ([("照片.pdf", png_bytes())], "file_extension_mismatch"),
        ([("空.pdf", b"")], "file_empty"),
        # The first file passes and is written; the second is refused: both go.
        ([("报告.pdf", pdf_bytes()), ("网页.pdf", b"<html><script>x</script></html>")],
         "file_type_not_allowed"),
    ],
)  # fmt: skip
def test_a_bad_file_refuses_the_whole_entry_and_leaves_no_file(
    store, agri, personas, evidence, code
):
    with pytest.raises(ValueRejected) as refused:
        enter_value(
            agri.pk,
            period="2024",
            value="97.5",
            unit="%",
            by=personas["nongye"],
            evidence=[upload(name, data) for name, data in evidence],
        )
    assert refused.value.code == code
    assert refused.value.message  # core.files' Chinese message
    _nothing_stored(store)


def test_a_file_over_the_limit_is_refused_and_the_earlier_value_stays(
    settings, store, agri, personas
):
    settings.ATTACHMENT_MAX_BYTES = 1024
    enter_value(agri.pk, period="2024", value="97", unit="%", by=personas["nongye"])
    with pytest.raises(ValueRejected) as refused:
        enter_value(
            agri.pk,
            period="2024",
            value="99",
            unit="%",
            by=personas["nongye"],
            evidence=[upload("大文件.pdf", pdf_bytes() + b"%" * 2048)],
        )
    assert refused.value.code == "file_too_large" and "上限" in refused.value.message
    assert IndicatorValue.objects.get().value == 97
    assert IndicatorValueRevision.objects.count() == 1
    assert stored_files(store) == []


def test_a_wrong_value_stores_none_of_its_files(store, agri, personas):
    with pytest.raises(ValueRejected) as refused:
        enter_value(
            agri.pk,
            period="2024",
            value="120",
            unit="%",
            by=personas["nongye"],
            evidence=[upload("报告.pdf", pdf_bytes())],
        )
    assert refused.value.code == "out_of_range"
    _nothing_stored(store)


def test_too_many_files_are_refused_before_anything_is_read(store, agri, personas):
    with pytest.raises(ValueRejected) as refused:
        enter_value(
            agri.pk,
            period="2024",
            value="97",
            unit="%",
            by=personas["nongye"],
            evidence=[upload(f"{i}.pdf", pdf_bytes()) for i in range(11)],
        )
    assert refused.value.code == "too_many_files"
    _nothing_stored(store)


# --- the page -------------------------------------------------------------------------------


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_owner_uploads_evidence_on_the_value_page_and_downloads_it(store, agri, personas):
    nongye = _client(personas["nongye"])
    page = nongye.get(f"/indicators/{agri.pk}/").content.decode()
    assert 'enctype="multipart/form-data"' in page and 'type="file" multiple' in page
    report = pdf_bytes()
    saved = nongye.post(
        f"/indicators/{agri.pk}/",
        {
            "period": "2024",
            "value": "97.5",
            "unit": "%",
            "evidence_note": "年度监测报告",
            "evidence": [upload("监测报告.pdf", report), upload("现场.png", png_bytes())],
        },
        follow=True,
    )
    html = saved.content.decode()
    assert "已保存 2024 的数值 97.5。" in html
    assert html.count('data-testid="evidence"') == 2
    attachment = Attachment.objects.get(original_name="监测报告.pdf")
    assert f'href="/files/{attachment.pk}/"' in html
    download = nongye.get(f"/files/{attachment.pk}/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == report
    assert "attachment;" in download["Content-Disposition"]


def test_a_bad_file_on_the_page_is_refused_beside_the_field_and_nothing_is_kept(
    store, agri, personas
):
    nongye = _client(personas["nongye"])
    answer = nongye.post(
        f"/indicators/{agri.pk}/",
        {
            "period": "2024",
            "value": "97.5",
            "unit": "%",
            "evidence": [upload("说明.docx", b"PK\x03\x04 not really a zip")],
        },
    )
    assert answer.status_code == 200  # the form again, like every refused value (test_pages)
    html = answer.content.decode()
    assert 'id="id_evidence-error"' in html and "说明.docx" in html
    _nothing_stored(store)


# --- scope: a revision (and its files) is visible exactly where its value is -----------------


@pytest.fixture
def spread(store, agri, personas) -> dict[str, int]:
    """Values of one indicator for three units, each with one evidence file."""
    coordinator = personas["coordinator"]
    ids = {}
    for unit_name in ("市农业农村局", "开原市市场监督管理局", "西丰县市场监督管理局"):
        unit = OrgUnit.objects.get(name=unit_name)
        row = enter_value(
            agri.pk,
            period="2024",
            value="96",
            unit="%",
            org_unit_id=unit.pk,
            by=coordinator,
            evidence=[upload(f"{unit_name}.pdf", pdf_bytes())],
        )
        ids[unit_name] = row.pk
    return ids


@pytest.mark.parametrize(
    "persona",
    ["coordinator", "nongye", "gongxin", "kaiyuan", "xifeng", "inspector", "lab", "enterprise",
     "outsider", "sysadmin", "secadmin", "auditadmin"],
)  # fmt: skip
def test_a_revision_and_its_files_are_visible_exactly_where_its_value_is(spread, personas, persona):
    user = personas[persona]
    values = set(scoped(user, IndicatorValue.objects.all()).values_list("pk", flat=True))
    revisions = set(
        scoped(user, IndicatorValueRevision.objects.all()).values_list(
            "indicator_value_id", flat=True
        )
    )
    assert revisions == values
    expected = {
        "coordinator": set(spread.values()),
        # The indicator's owner sees every unit's figure.
        "nongye": set(spread.values()),
        "kaiyuan": {spread["开原市市场监督管理局"]},
        "xifeng": {spread["西丰县市场监督管理局"]},
    }.get(persona, set())
    assert values == expected
    client = _client(user)
    for row_pk in spread.values():
        revision = IndicatorValueRevision.objects.get(indicator_value_id=row_pk)
        attachment = files.attachments_of(revision).get()
        status = client.get(f"/files/{attachment.pk}/").status_code
        if persona in ("sysadmin", "secadmin", "auditadmin"):
            # Administrators are kept off business pages altogether.
            assert status in (403, 404), (persona, row_pk)
        else:
            assert status == (200 if row_pk in expected else 404), (persona, row_pk)

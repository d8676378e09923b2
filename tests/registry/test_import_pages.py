"""The browser import: upload, the worker's job, progress fragment, errors download, scope."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from qcity.core.models import AuditEvent, ImportJob
from qcity.registry import codes
from qcity.registry.models import MarketEntity
from tests.task_helpers import run_worker

from .importfiles import KAIYUAN, XIFENG, row, write_csv

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _import_dir(settings, tmp_path):
    settings.IMPORT_DIR = tmp_path / "imports"


def upload(client, path, **options):
    data = {"file": SimpleUploadedFile(path.name, path.read_bytes())}
    data.update({k: "on" for k, v in options.items() if v})
    return client.post(reverse("registry_import"), data)


def test_a_county_officer_imports_in_the_background_and_sees_the_result(
    client, personas, tmp_path, monkeypatch
):
    client.force_login(personas["kaiyuan"])
    path = write_csv(
        tmp_path / "名录.csv", [row(1), row(2), row(3, region=XIFENG), row(4, **{"名称": ""})]
    )
    response = upload(client, path)
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response.url == reverse(
        "registry_import_job", args=[job.pk]
    )
    assert job.status == "queued" and job.owner_unit == personas["kaiyuan"].unit
    assert AuditEvent.objects.filter(action="import.job_queued").count() == 1
    page = client.get(response.url)
    assert 'hx-trigger="every 2s"' in page.content.decode()  # polls while queued

    run_worker(monkeypatch)
    job.refresh_from_db()
    assert job.status == "done"
    assert job.summary == {
        "rows": 4,
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "errors": 2,
        "warnings": 0,
    }
    assert MarketEntity.objects.count() == 2
    fragment = client.get(reverse("registry_import_progress", args=[job.pk])).content.decode()
    assert "hx-trigger" not in fragment  # finished: polling stops
    assert 'aria-valuenow="100"' in fragment and 'data-testid="summary-created">2<' in fragment
    download = client.get(reverse("registry_import_errors", args=[job.pk]))
    assert download.status_code == 200
    body = b"".join(download.streaming_content)
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert [r[4] for r in rows[1:]] == ["county_out_of_scope", "name_missing"]


def test_dry_run_and_all_or_nothing_reach_the_job(client, personas, tmp_path, monkeypatch):
    client.force_login(personas["coordinator"])
    path = write_csv(tmp_path / "m.csv", [row(1), row(2, **{"统一社会信用代码": "bad"})])
    upload(client, path, all_or_nothing=True)
    upload(client, write_csv(tmp_path / "ok.csv", [row(5)]), dry_run=True)
    run_worker(monkeypatch)
    refused, dry = ImportJob.objects.order_by("pk")
    assert refused.status == "refused" and refused.summary["errors"] == 1
    assert dry.status == "done" and dry.summary["created"] == 1 and "演练" in dry.message
    assert MarketEntity.objects.count() == 0


@pytest.mark.parametrize(
    "name,data,message",
    [
        ("m.txt", b"x", "只能导入CSV"),
        ("m.csv", "名称\n甲\n".encode(), "缺少必需的列"),
        ("m.xlsx", b"PK\x03\x04broken", "已损坏"),
    ],
)
def test_a_bad_file_is_refused_on_the_page_and_nothing_is_kept(
    client, personas, name, data, message, settings
):
    client.force_login(personas["coordinator"])
    response = client.post(reverse("registry_import"), {"file": SimpleUploadedFile(name, data)})
    assert response.status_code == 400 and message in response.content.decode()
    assert not ImportJob.objects.exists()
    assert not any(settings.IMPORT_DIR.glob("*/*")) if settings.IMPORT_DIR.exists() else True


def test_a_file_over_the_upload_limit_is_refused(client, personas, tmp_path, settings):
    settings.ATTACHMENT_MAX_BYTES = 100
    client.force_login(personas["coordinator"])
    response = upload(client, write_csv(tmp_path / "m.csv", [row(i) for i in range(5)]))
    assert response.status_code == 400 and "文件过大" in response.content.decode()


def test_county_b_sees_nothing_of_county_a_imports(client, personas, tmp_path, monkeypatch):
    client.force_login(personas["kaiyuan"])
    upload(client, write_csv(tmp_path / "m.csv", [row(1, **{"名称": ""})]))
    run_worker(monkeypatch)
    job = ImportJob.objects.get()
    client.force_login(personas["xifeng"])
    for name in ("registry_import_job", "registry_import_progress", "registry_import_errors"):
        assert client.get(reverse(name, args=[job.pk])).status_code == 404
    assert job.file_name not in client.get(reverse("registry_import")).content.decode()
    client.force_login(personas["coordinator"])
    assert client.get(reverse("registry_import_job", args=[job.pk])).status_code == 200


@pytest.mark.parametrize("persona", ["inspector", "nongye", "enterprise", "sysadmin"])
def test_other_roles_may_not_import(client, personas, persona):
    client.force_login(personas[persona])
    assert client.get(reverse("registry_import")).status_code == 403


def test_the_job_runs_once(client, personas, tmp_path, monkeypatch):
    from qcity.core.imports import run_job
    from qcity.registry.imports import import_entities

    client.force_login(personas["coordinator"])
    upload(client, write_csv(tmp_path / "m.csv", [row(1)]))
    run_worker(monkeypatch)
    job = ImportJob.objects.get()
    assert run_job(job.pk, import_entities) == {}
    assert MarketEntity.objects.get().code == codes.make_uscc(KAIYUAN, 1)

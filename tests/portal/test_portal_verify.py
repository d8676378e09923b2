"""A real draw, published and downloaded from the portal, verifies with `qcity verify_draw`."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from qcity.inspections import services
from tests.inspections.draw_helpers import check_item, county_bureau, make_batch, make_entities
from tests.portal.world import file_stores  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("file_stores", "calendar")]


def _download(client, url: str) -> bytes:
    response = client.get(url)
    assert response.status_code == 200, url
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def test_anyone_can_verify_every_published_attempt_from_the_portal_downloads(
    client, personas, tmp_path
):
    owner = county_bureau("开原市")
    make_entities("开原市", "211282", "AABBBBCCD" * 3)
    batch = make_batch(
        owner,
        personas["kaiyuan"],
        quotas={"B": {"ratio": "50"}, "C": {"count": 2}},
        items=[check_item()],
    )
    first = services.draw_batch(personas["kaiyuan"], batch.pk, _seed=b"\x01" * 32)
    second = services.draw_batch(
        personas["kaiyuan"], batch.pk, reason="范围漏选了C类", _seed=b"\x02" * 32
    )
    rows = services.publish_draw(personas["kaiyuan"], second.pk)
    assert [r.attempt for r in rows] == [1, 2]
    for row, drawn in zip(rows, (first, second), strict=True):
        record = _download(client, f"/portal/draws/{row.pk}/record.json")
        population = _download(client, f"/portal/draws/{row.pk}/population.csv")
        assert json.loads(record)["selected"] == drawn.selected_codes
        (tmp_path / "record.json").write_bytes(record)
        (tmp_path / "population.csv").write_bytes(population)
        out = io.StringIO()
        call_command(
            "verify_draw",
            str(tmp_path / "record.json"),
            str(tmp_path / "population.csv"),
            stdout=out,
        )
        assert "一致" in out.getvalue()
    page = client.get(f"/portal/draws/{rows[1].pk}/").content.decode()
    assert "范围漏选了C类" in page
    # One selected code changed in the downloaded record: verification names the difference.
    tampered = json.loads(record)
    tampered["selected"][0] = tampered["selected"][-1]
    (tmp_path / "record.json").write_text(json.dumps(tampered, ensure_ascii=False))
    with pytest.raises(CommandError) as refused:
        call_command("verify_draw", str(tmp_path / "record.json"), str(tmp_path / "population.csv"))
    assert refused.value.returncode == 1

"""export_draw and verify_draw: anyone can re-run a published draw from its two files."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from qcity.inspections import drawalgo, services
from tests.inspections.draw_helpers import county_bureau, make_batch, make_entities, use_tmp_store

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "draw-algorithm.md"
SEED = bytes(range(32))


@pytest.fixture
def store(settings, tmp_path):
    return use_tmp_store(settings, tmp_path)


@pytest.fixture
def exported(db, personas, store, tmp_path) -> Path:
    make_entities("开原市", "211282", ["A"] * 30 + ["B"] * 20 + ["C"] * 8 + [""] * 4)
    batch = make_batch(
        county_bureau("开原市"),
        personas["kaiyuan"],
        quotas={"A": {"ratio": "20"}, "B": {"count": 5}, "C": {"ratio": "100"}, "-": {"count": 1}},
    )
    result = services.draw_batch(personas["kaiyuan"], batch.pk, _seed=SEED)
    out = tmp_path / "export"
    call_command("export_draw", str(result.pk), str(out), stdout=io.StringIO())
    return out


def verify(directory: Path) -> str:
    out = io.StringIO()
    call_command(
        "verify_draw",
        str(directory / "record.json"),
        str(directory / "population.csv"),
        stdout=out,
    )
    return out.getvalue()


def refused(directory: Path, returncode: int = 1) -> str:
    with pytest.raises(CommandError) as excinfo:
        verify(directory)
    assert excinfo.value.returncode == returncode
    return str(excinfo.value)


def edit_record(directory: Path, change) -> None:
    path = directory / "record.json"
    record = json.loads(path.read_text(encoding="utf-8"))
    change(record)
    path.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")


def test_verify_draw_accepts_a_genuine_export(exported):
    record = json.loads((exported / "record.json").read_text(encoding="utf-8"))

    assert verify(exported).startswith("一致：名录 62 户")
    assert record["selected"][:1] and len(record["selected"]) == 6 + 5 + 8 + 1
    assert record["seed"] == SEED.hex() and record["reason"] == "" and record["attempt"] == 1
    assert record["parameters"]["quotas"]["A"] == {"ratio": "20"}


def test_verify_draw_rejects_a_record_with_one_code_changed(exported):
    record = json.loads((exported / "record.json").read_text(encoding="utf-8"))
    population = (exported / "population.csv").read_text(encoding="ascii")
    genuine = record["selected"][2]
    # Another entity of the same class that was not selected.
    stranger = next(
        line.split(",")[0]
        for line in population.splitlines()[1:]
        if line.endswith(",A") and line.split(",")[0] not in record["selected"]
    )
    edit_record(exported, lambda r: r["selected"].__setitem__(2, stranger))

    message = refused(exported)

    assert stranger in message and "不应被抽中" in message and "第 3 位" in message
    assert genuine in message


def test_verify_draw_names_a_missing_code_with_its_position(exported):
    record = json.loads((exported / "record.json").read_text(encoding="utf-8"))
    dropped = record["selected"][4]
    edit_record(exported, lambda r: r["selected"].pop(4))

    message = refused(exported)

    assert dropped in message and "第 5 位" in message


def test_verify_draw_names_a_change_of_order(exported):
    def swap(r):
        r["selected"][0], r["selected"][1] = r["selected"][1], r["selected"][0]

    edit_record(exported, swap)

    assert "第 1 位顺序不符" in refused(exported)


def test_verify_draw_rejects_a_reordered_or_edited_population_file(exported):
    path = exported / "population.csv"
    lines = path.read_bytes().split(b"\n")
    lines[1], lines[2] = lines[2], lines[1]
    path.write_bytes(b"\n".join(lines))

    assert "名录快照摘要不一致" in refused(exported)


def test_a_population_edited_and_rehashed_is_caught_by_the_counts(exported):
    path = exported / "population.csv"
    data = path.read_bytes()
    last_a = [line for line in data.split(b"\n") if line.endswith(b",A")][-1]
    edited = data.replace(last_a + b"\n", b"")
    path.write_bytes(edited)
    edit_record(exported, lambda r: r.__setitem__("population_digest", drawalgo.digest(edited)))

    assert "主体总数不一致" in refused(exported)


def test_verify_draw_refuses_an_unknown_algorithm_version(exported):
    edit_record(exported, lambda r: r.__setitem__("algorithm_version", "2"))

    assert "未知的算法或版本" in refused(exported)


def test_verify_draw_refuses_malformed_files(exported):
    (exported / "record.json").write_bytes(b"\xff{not json")
    assert "不是 UTF-8 编码的 JSON" in refused(exported)

    (exported / "record.json").write_text("[]", encoding="utf-8")
    assert "顶层须为 JSON 对象" in refused(exported)


def test_verify_draw_refuses_an_unsorted_population_even_with_its_digest(exported):
    path = exported / "population.csv"
    lines = path.read_bytes().split(b"\n")
    lines[1], lines[2] = lines[2], lines[1]
    edited = b"\n".join(lines)
    path.write_bytes(edited)
    edit_record(exported, lambda r: r.__setitem__("population_digest", drawalgo.digest(edited)))

    assert "未按（类别，代码）字节序排列" in refused(exported)


def test_verify_draw_is_one_line_and_exit_status_on_the_command_line(exported, tmp_path):
    # Runs without the database: the two files are all it reads.
    env = {**os.environ, "DATABASE_URL": "postgres://nobody:wrong@127.0.0.1:1/none"}
    qcity = [sys.executable, "-m", "qcity.cli", "verify_draw"]
    ok = subprocess.run(
        [*qcity, str(exported / "record.json"), str(exported / "population.csv")],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
    )
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith("一致：")

    edit_record(exported, lambda r: r["selected"].__setitem__(0, "91211282MA0000000X"))
    bad = subprocess.run(
        [*qcity, str(exported / "record.json"), str(exported / "population.csv")],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
    )
    assert bad.returncode == 1
    assert "91211282MA0000000X" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1

    missing = subprocess.run(
        [*qcity, str(tmp_path / "nope.json"), str(exported / "population.csv")],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
    )
    assert missing.returncode == 2 and "文件不存在" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_export_draw_refuses_bad_arguments_with_exit_status_2(db, tmp_path):
    for args, words in (
        (["999", str(tmp_path)], "抽取记录 999 不存在"),
        (["abc", str(tmp_path)], "draw_id"),
        (["0", str(tmp_path)], "draw_id"),
    ):
        with pytest.raises(CommandError) as excinfo:
            call_command("export_draw", *args, stdout=io.StringIO())
        assert excinfo.value.returncode == 2 and words in str(excinfo.value)


def test_export_draw_refuses_a_file_in_place_of_the_directory(exported, tmp_path):
    record = json.loads((exported / "record.json").read_text(encoding="utf-8"))
    from qcity.inspections.models import Draw

    draw_id = Draw.objects.get(seed=record["seed"]).pk
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(CommandError) as excinfo:
        call_command("export_draw", str(draw_id), str(blocker), stdout=io.StringIO())
    assert excinfo.value.returncode == 2


# --- the worked example of docs/draw-algorithm.md --------------------------------------------


def doc_block(name: str) -> str:
    text = DOC.read_text(encoding="utf-8")
    match = re.search(rf"<!-- example:{name} -->\n```[a-z]*\n(.*?)```", text, re.S)
    assert match, f"example block {name} missing from {DOC.name}"
    return match.group(1)


def test_the_documents_worked_example_is_what_the_code_computes():
    population = doc_block("population").encode("ascii")
    quotas = json.loads(doc_block("quotas"))
    seed = bytes.fromhex(re.search(r"Seed \(hex\): `([0-9a-f]{64})`", DOC.read_text()).group(1))

    assert drawalgo.digest(population) == doc_block("digest").strip()
    result = drawalgo.select(
        seed, drawalgo.parse_quotas(quotas), drawalgo.parse_population(population)
    )
    assert result.selected == doc_block("selected").split()
    record = {
        "format": drawalgo.RECORD_FORMAT,
        "format_version": drawalgo.RECORD_FORMAT_VERSION,
        "algorithm": drawalgo.ALGORITHM,
        "algorithm_version": drawalgo.ALGORITHM_VERSION,
        "seed": seed.hex(),
        "parameters": {"quotas": quotas},
        "population_digest": drawalgo.digest(population),
        "population_size": 14,
        "strata": result.strata,
        "selected": result.selected,
    }
    assert drawalgo.verify(json.dumps(record).encode(), population).startswith("一致")
    # The trace table's first words are the real first block of stratum A.
    block = re.search(r"`([0-9a-f]{64})`, whose four words", DOC.read_text()).group(1)
    stream = drawalgo.Stream(seed, "A")
    words = [stream.word() for _ in range(4)]
    assert b"".join(w.to_bytes(8, "big") for w in words).hex() == block
    assert all(str(w) in DOC.read_text() for w in words)

"""The worked example of docs/assignment-algorithm.md is what the code computes."""

from __future__ import annotations

from pathlib import Path

from qcity.inspections.assignalgo import Pool, Stream, TaskInput, assign, seed_bytes

DOC = Path(__file__).resolve().parents[2] / "docs" / "assignment-algorithm.md"
SEED = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"


def render_example() -> str:
    pools = [Pool(per_task=1, members=[1, 2, 3, 4]), Pool(per_task=1, members=[5, 6, 7])]
    tasks = [
        TaskInput(),
        TaskInput(conflicts=frozenset({1})),
        TaskInput(last_time=frozenset({5, 6})),
        TaskInput(),
        TaskInput(),
    ]
    specialities = {2: {"SP"}, 6: {"SP"}, 4: {"JL"}}
    result = assign(seed_bytes(SEED), pools, tasks, specialities, ["SP"])
    lines = ["order: " + " ".join(str(t + 1) for t in result.order)]
    for t, team in enumerate(result.teams, start=1):
        lines.append(f"task {t}: " + " ".join(str(m) for _, m in team))
    lines.append("loads: " + " ".join(f"{m}:{n}" for m, n in sorted(result.loads.items())))
    lines.append(f"words used: {result.words_used}")
    return "\n".join(lines)


def test_the_documented_example_is_what_the_algorithm_computes():
    text = DOC.read_text(encoding="utf-8")
    assert "```text\n" + render_example() + "\n```" in text


def test_the_documented_first_words_of_the_stream_are_right():
    stream = Stream(seed_bytes(SEED))
    words = " ".join(str(stream.word()) for _ in range(4))
    assert "```text\n" + words + "\n```" in DOC.read_text(encoding="utf-8")

"""Property tests of the pure assignment algorithm (inspections.assignalgo), with hypothesis.

What is proven, over random pools, teams, conflicts, previous teams and specialities:
- no inspector ever gets an entity they conflict with, or one they checked last time;
- every team has the configured size (≥ 2), no one twice, each member from their own pool,
  and covers every required speciality;
- a task is refused only when no team exists for it (checked by brute force on small pools);
- load balance: with no conflicts, no previous teams and no speciality requirement, and each
  pool at least as large as the number it sends per task (the feasibility condition),
  max − min load within every pool is ≤ 1, i.e. every load is within one of the mean;
- the same seed and inputs give the same assignment.
"""

from __future__ import annotations

import hashlib
import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qcity.inspections.assignalgo import (
    Infeasible,
    Pool,
    Stream,
    TaskInput,
    assign,
    permutation,
    seed_bytes,
)

SPECIALITIES = ["food", "metrology", "special_equipment"]
seeds = st.binary(min_size=1, max_size=32)


@st.composite
def problems(draw, *, constrained: bool = True, max_pool: int = 12, max_tasks: int = 30):
    n_pools = draw(st.integers(1, 3))
    pools, next_id = [], 1
    for p in range(n_pools):
        size = draw(st.integers(0 if constrained else 1, max_pool))
        per_task = draw(st.integers(2 if p == 0 and n_pools == 1 else 1, 3))
        if not constrained:
            size = max(size, per_task)
        pools.append(Pool(per_task=per_task, members=list(range(next_id, next_id + size))))
        next_id += size
    everyone = list(range(1, next_id))
    n_tasks = draw(st.integers(0, max_tasks))
    tasks, specialities, required = [], {}, []
    if constrained:
        for _ in range(n_tasks):
            conflicts = (
                draw(st.frozensets(st.sampled_from(everyone), max_size=3))
                if everyone
                else frozenset()
            )
            last = (
                draw(st.frozensets(st.sampled_from(everyone), max_size=3))
                if everyone
                else frozenset()
            )
            tasks.append(TaskInput(conflicts=conflicts, last_time=last))
        for member in everyone:
            specialities[member] = draw(st.frozensets(st.sampled_from(SPECIALITIES), max_size=2))
        required = sorted(draw(st.frozensets(st.sampled_from(SPECIALITIES), max_size=2)))
    else:
        tasks = [TaskInput() for _ in range(n_tasks)]
    return pools, tasks, specialities, required


def team_is_valid(team, pools, task, specialities, required) -> bool:
    members = [m for _, m in team]
    if len(set(members)) != len(members):
        return False
    for p, pool in enumerate(pools):
        mine = [m for q, m in team if q == p]
        if len(mine) != pool.per_task or not set(mine) <= set(pool.members):
            return False
    if set(members) & (task.conflicts | task.last_time):
        return False
    covered = set().union(*(specialities.get(m, ()) for m in members)) if members else set()
    return set(required) <= covered


def some_team_exists(pools, task, specialities, required) -> bool:
    blocked = task.conflicts | task.last_time
    choices = [
        list(itertools.combinations([m for m in pool.members if m not in blocked], pool.per_task))
        for pool in pools
    ]
    for combo in itertools.product(*choices):
        team = [(p, m) for p, chosen in enumerate(combo) for m in chosen]
        if team_is_valid(team, pools, task, specialities, required):
            return True
    return False


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problem=problems(), seed=seeds)
def test_every_team_respects_conflicts_last_time_size_and_specialities(problem, seed):
    pools, tasks, specialities, required = problem
    try:
        result = assign(seed, pools, tasks, specialities, required)
    except Infeasible as refused:
        # Refused only when no team exists for the named task, and every earlier task has one.
        task = tasks[refused.task]
        assert not some_team_exists(pools, task, specialities, required)
        for earlier in tasks[: refused.task]:
            assert some_team_exists(pools, earlier, specialities, required)
        return
    assert len(result.teams) == len(tasks)
    for task, team in zip(tasks, result.teams, strict=True):
        assert len(team) == sum(p.per_task for p in pools) >= 2
        assert team_is_valid(team, pools, task, specialities, required)
        assert not {m for _, m in team} & task.conflicts


@settings(max_examples=300, deadline=None)
@given(problem=problems(constrained=False, max_pool=20, max_tasks=60), seed=seeds)
def test_load_stays_within_one_of_the_mean_in_every_pool_without_constraints(problem, seed):
    pools, tasks, _specialities, _required = problem
    result = assign(seed, pools, tasks)
    for pool in pools:
        loads = [result.loads[m] for m in pool.members]
        mean = sum(loads) / len(loads)
        assert max(loads) - min(loads) <= 1
        assert all(abs(load - mean) < 1 for load in loads)
        assert sum(loads) == pool.per_task * len(tasks)


@settings(max_examples=100, deadline=None)
@given(problem=problems(), seed=seeds)
def test_the_same_seed_and_inputs_give_the_same_assignment(problem, seed):
    pools, tasks, specialities, required = problem
    try:
        first = assign(seed, pools, tasks, specialities, required)
    except Infeasible as refused:
        try:
            assign(seed, pools, tasks, specialities, required)
        except Infeasible as again:
            assert again == refused
            return
        raise AssertionError("the second run was not refused") from None
    second = assign(seed, pools, tasks, specialities, required)
    assert second.teams == first.teams
    assert second.order == first.order


def test_a_different_seed_gives_a_different_assignment():
    pools = [Pool(per_task=2, members=list(range(1, 51)))]
    tasks = [TaskInput() for _ in range(40)]
    assert assign(b"seed-one", pools, tasks).teams != assign(b"seed-two", pools, tasks).teams


def test_the_stream_is_sha256_of_seed_domain_and_counter_in_big_endian_words():
    seed = bytes(range(32))
    stream = Stream(seed)
    expected = []
    for counter in range(2):
        block = hashlib.sha256(seed + b"qcity-assign-v1" + counter.to_bytes(8, "big")).digest()
        expected += [int.from_bytes(block[i : i + 8], "big") for i in range(0, 32, 8)]
    assert [stream.word() for _ in range(8)] == expected


def test_below_rejects_the_words_that_would_bias_the_result():
    # m = 3·2^62: ⌊2^64/m⌋·m = m, so a word ≥ m is rejected and the next one is used.
    m = 3 << 62

    def first_two(seed: bytes) -> tuple[int, int]:
        words = Stream(seed)
        return words.word(), words.word()

    seed = next(
        s.to_bytes(2, "big")
        for s in range(1000)
        if first_two(s.to_bytes(2, "big"))[0] >= m > first_two(s.to_bytes(2, "big"))[1]
    )
    stream = Stream(seed)
    assert stream.below(m) == first_two(seed)[1] % m
    assert stream.used == 2


def test_permutation_is_fisher_yates_from_the_top():
    stream, check = Stream(b"k"), Stream(b"k")
    order = permutation(5, stream)
    a = list(range(5))
    for i in range(4, 0, -1):
        j = check.below(i + 1)
        a[i], a[j] = a[j], a[i]
    assert order == a and sorted(order) == list(range(5))


def test_a_hex_seed_is_decoded_and_anything_else_is_taken_as_text():
    assert seed_bytes("00ff") == b"\x00\xff"
    assert seed_bytes("not hex") == b"not hex"
    assert seed_bytes("abc") == b"abc"

"""The assignment of inspectors to drawn tasks, as a pure function (docs/assignment-algorithm.md).

Nothing here imports Django: the database glue (``inspections.assignment``) reads the pools,
conflicts and previous teams, calls :func:`assign`, and writes the rows. So the algorithm can
be re-run from its inputs alone, and property tests can call it thousands of times.

In short: tasks are visited in a seeded random order. For each task, every required
speciality not yet in the team is given to a least-loaded eligible holder from any pool with a
free place (among those who keep the team completable); then each pool's remaining places go
to its least-loaded eligible members. Ties are broken by the seeded stream, in id order.
Feasibility of a task does not depend on the loads, so every task is checked before anything
is picked and the first one that cannot be staffed is named.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from qcity.inspections.drawalgo import HashStream

ALGORITHM = "qcity-assign"
VERSION = "1"
DOMAIN = b"qcity-assign-v1"


def seed_bytes(seed: str) -> bytes:
    """The draw's seed as bytes: hex-decoded (the draw stores 64 hex digits), else UTF-8."""
    text = seed.strip()
    try:
        return bytes.fromhex(text) if text and len(text) % 2 == 0 else text.encode()
    except ValueError:
        return text.encode()


class Stream(HashStream):
    """The assignment's stream: SHA-256(seed ‖ domain ‖ counter), the draw's rule
    (``drawalgo.HashStream``) with its own domain tag."""

    def __init__(self, seed: bytes, domain: bytes = DOMAIN) -> None:
        super().__init__(bytes(seed) + domain)


def permutation(n: int, stream: Stream) -> list[int]:
    """0..n-1 shuffled by Fisher–Yates: for i = n-1 down to 1, swap a[i] and a[below(i+1)]."""
    order = list(range(n))
    for i in range(n - 1, 0, -1):
        j = stream.below(i + 1)
        order[i], order[j] = order[j], order[i]
    return order


@dataclass(frozen=True)
class Pool:
    """The inspectors one participating unit draws from, and how many it sends per task."""

    per_task: int
    members: Sequence[int]
    label: str = ""


@dataclass(frozen=True)
class TaskInput:
    """One drawn task: the inspectors who may not go there, and why."""

    conflicts: frozenset[int] = frozenset()
    last_time: frozenset[int] = frozenset()
    label: str = ""


@dataclass
class Infeasible(Exception):
    """A task that no team can staff. ``kind`` is ``too_few`` or ``speciality``.

    ``too_few``: ``pool`` has ``available`` eligible inspectors (of ``members``, after
    ``conflicts`` and ``last_time`` left out) but must send ``needed``.
    ``speciality``: no team covers ``missing`` (``uncoverable`` names those that no eligible
    inspector of any pool has at all; empty means the team is too small to cover them all).
    """

    task: int
    kind: str
    pool: int | None = None
    needed: int = 0
    members: int = 0
    conflicts: int = 0
    last_time: int = 0
    available: int = 0
    missing: tuple[str, ...] = ()
    uncoverable: tuple[str, ...] = ()

    def __str__(self) -> str:  # for logs and tests; the glue writes the Chinese message
        return f"task {self.task}: {self.kind}"


@dataclass
class Assignment:
    """``teams[t]``: the (pool index, inspector) pairs of task t, in slot order."""

    teams: list[list[tuple[int, int]]]
    loads: dict[int, int]
    order: list[int]
    words_used: int
    pool_loads: list[dict[str, float]] = field(default_factory=list)


def _sig(specs: Iterable[str], required: frozenset[str]) -> frozenset[str]:
    return frozenset(specs) & required


def _completable(
    slots: list[int], uncovered: frozenset[str], counts: list[dict[frozenset[str], int]]
) -> bool:
    """Can the free ``slots`` (per pool) cover ``uncovered`` from the ``counts`` available?

    Each pool is known to have at least as many available inspectors as free slots, so
    only the coverage is in question: take the first uncovered speciality (code order)
    and try every pool and signature that could supply it. Depth ≤ number of specialities.
    """
    if not uncovered:
        return True
    first = min(uncovered)
    for p, free in enumerate(slots):
        if free <= 0:
            continue
        for sig, n in counts[p].items():
            if n <= 0 or first not in sig:
                continue
            counts[p][sig] = n - 1
            slots[p] = free - 1
            ok = _completable(slots, uncovered - sig, counts)
            counts[p][sig] = n
            slots[p] = free
            if ok:
                return True
    return False


def assign(
    seed: bytes,
    pools: Sequence[Pool],
    tasks: Sequence[TaskInput],
    specialities: dict[int, Iterable[str]] | None = None,
    required: Iterable[str] = (),
) -> Assignment:
    """Pick every task's team. Raises :class:`Infeasible` naming the first task (by index).

    :param seed: the draw's seed (bytes).
    :param pools: the owner's pool first, then each participating department's; members
        are distinct across pools (the glue gives an inspector to one pool only).
    :param tasks: in the draw's order.
    :param specialities: inspector → speciality codes (only those in ``required`` matter).
    :param required: speciality codes the team as a whole must cover.
    """
    required_set = frozenset(required)
    specialities = specialities or {}
    pool_of: dict[int, int] = {}
    for p, pool in enumerate(pools):
        if pool.per_task < 0:
            raise ValueError("per_task must be >= 0")
        for member in pool.members:
            if member in pool_of:
                raise ValueError(f"inspector {member} is in two pools")
            pool_of[member] = p
    sig_of = {m: _sig(specialities.get(m, ()), required_set) for m in pool_of}
    base_counts: list[dict[frozenset[str], int]] = [{} for _ in pools]
    for member, p in pool_of.items():
        counts = base_counts[p]
        counts[sig_of[member]] = counts.get(sig_of[member], 0) + 1

    def available_counts(blocked: Iterable[int]) -> list[dict[frozenset[str], int]]:
        counts = [dict(c) for c in base_counts]
        for x in blocked:
            p = pool_of.get(x)
            if p is not None:
                counts[p][sig_of[x]] -= 1
        return counts

    # 1. Every task is checked first, in the draw's order: feasibility does not depend on
    #    who else was picked, so the first task that cannot be staffed is the one named.
    for t, task in enumerate(tasks):
        blocked = task.conflicts | task.last_time
        for p, pool in enumerate(pools):
            conflicts = sum(1 for x in task.conflicts if pool_of.get(x) == p)
            last = sum(1 for x in task.last_time - task.conflicts if pool_of.get(x) == p)
            available = len(pool.members) - conflicts - last
            if available < pool.per_task:
                raise Infeasible(
                    task=t,
                    kind="too_few",
                    pool=p,
                    needed=pool.per_task,
                    members=len(pool.members),
                    conflicts=conflicts,
                    last_time=last,
                    available=available,
                )
        if required_set:
            counts = available_counts(blocked)
            slots = [pool.per_task for pool in pools]
            if not _completable(slots, required_set, counts):
                present: set[str] = set()
                for p, c in enumerate(counts):
                    if pools[p].per_task > 0:
                        for sig, n in c.items():
                            if n > 0:
                                present |= sig
                raise Infeasible(
                    task=t,
                    kind="speciality",
                    missing=tuple(sorted(required_set)),
                    uncoverable=tuple(sorted(required_set - present)),
                )

    # 2. Per pool, members grouped by load (and by signature), each group sorted by id.
    load: dict[int, int] = dict.fromkeys(pool_of, 0)
    states = [_PoolState(pool.members, sig_of) for pool in pools]
    stream = Stream(seed)
    order = permutation(len(tasks), stream)
    teams: list[list[tuple[int, int]]] = [[] for _ in tasks]

    def take(p: int, pick: int, team: list[tuple[int, int]], blocked: set[int]) -> None:
        team.append((p, pick))
        blocked.add(pick)
        states[p].move_up(pick, load[pick])
        load[pick] += 1

    for t in order:
        task = tasks[t]
        blocked = set(task.conflicts | task.last_time)
        slots = [pool.per_task for pool in pools]
        team: list[tuple[int, int]] = []
        # 3a. Cover the required specialities first, each by the least-loaded inspector
        #     (of any pool with a free place) who has it and leaves the team completable.
        if required_set:
            counts = available_counts(blocked)
            uncovered = required_set
            while uncovered:
                first = min(uncovered)
                allowed: list[set[frozenset[str]]] = []
                for p in range(len(pools)):
                    ok: set[frozenset[str]] = set()
                    if slots[p] > 0:
                        slots[p] -= 1
                        for sig, n in counts[p].items():
                            if n > 0 and first in sig:
                                counts[p][sig] = n - 1
                                if _completable(slots, uncovered - sig, counts):
                                    ok.add(sig)
                                counts[p][sig] = n
                        slots[p] += 1
                    allowed.append(ok)
                p, pick = _pick_covering(states, allowed, blocked, pool_of, stream)
                take(p, pick, team, blocked)
                counts[p][sig_of[pick]] -= 1
                slots[p] -= 1
                uncovered = uncovered - sig_of[pick]
        # 3b. Fill the remaining places pool by pool with the least-loaded eligible members.
        for p in range(len(pools)):
            for _place in range(slots[p]):
                take(p, states[p].pick(blocked, stream), team, blocked)
        # Places are listed pool by pool (owner first), in the order they were filled.
        teams[t] = sorted(team, key=lambda pair: pair[0])

    pool_loads = []
    for pool in pools:
        values = [load[m] for m in pool.members]
        pool_loads.append(
            {
                "min": min(values) if values else 0,
                "max": max(values) if values else 0,
                "mean": round(sum(values) / len(values), 3) if values else 0.0,
            }
        )
    return Assignment(
        teams=teams, loads=load, order=order, words_used=stream.used, pool_loads=pool_loads
    )


def _nth_unblocked(group: list[int], blocked: set[int], stream: Stream) -> int | None:
    """Draw index below(m) among the group's m unblocked members (id order); None if m = 0.

    Only a few blocked inspectors are ever in a group, so they are skipped by position
    instead of copying the group.
    """
    skipped = []
    for x in blocked:
        i = bisect_left(group, x)
        if i < len(group) and group[i] == x:
            skipped.append(i)
    m = len(group) - len(skipped)
    if m <= 0:
        return None
    index = stream.below(m)
    for position in sorted(skipped):
        if position <= index:
            index += 1
        else:
            break
    return group[index]


def _pick_covering(
    states: list[_PoolState],
    allowed: list[set[frozenset[str]]],
    blocked: set[int],
    pool_of: dict[int, int],
    stream: Stream,
) -> tuple[int, int]:
    """The lowest-load unblocked member with an allowed signature in any pool; ties by id."""
    wanted = [
        (state, sig)
        for state, ok in zip(states, allowed, strict=True)
        for sig in ok
        if sig in state.by_sig
    ]
    top = max((state.top for state in states), default=0)
    start = min((state.sig_low[sig] for state, sig in wanted), default=top + 1)
    for level in range(start, top + 1):
        parts = [state.by_sig[sig][level] for state, sig in wanted if state.by_sig[sig].get(level)]
        if not parts:
            continue
        # The tie order is by id across pools and signatures: merge the sorted groups.
        group = parts[0] if len(parts) == 1 else sorted([x for part in parts for x in part])
        found = _nth_unblocked(group, blocked, stream)
        if found is not None:
            return pool_of[found], found
    # Unreachable: the feasibility pass guarantees a completable team.
    raise AssertionError("no inspector left to cover a speciality that was checked coverable")


class _PoolState:
    """One pool's members by load, and by (signature, load), kept sorted by id."""

    def __init__(self, members: Sequence[int], sig_of: dict[int, frozenset[str]]) -> None:
        self.sig_of = sig_of
        self.by_load: dict[int, list[int]] = {0: sorted(members)}
        self.by_sig: dict[frozenset[str], dict[int, list[int]]] = {}
        for member in self.by_load[0]:
            self.by_sig.setdefault(sig_of[member], {}).setdefault(0, []).append(member)
        self.low = 0
        self.sig_low = dict.fromkeys(self.by_sig, 0)
        self.top = 0

    def move_up(self, member: int, level: int) -> None:
        for groups in (self.by_load, self.by_sig[self.sig_of[member]]):
            group = groups[level]
            del group[bisect_left(group, member)]
            insort(groups.setdefault(level + 1, []), member)
        self.top = max(self.top, level + 1)
        while not self.by_load.get(self.low):
            self.low += 1
        sig, groups = self.sig_of[member], self.by_sig[self.sig_of[member]]
        while not groups.get(self.sig_low[sig]):
            self.sig_low[sig] += 1

    def pick(self, blocked: set[int], stream: Stream) -> int:
        """A lowest-load member not blocked; ties by the stream in id order."""
        for level in range(self.low, self.top + 1):
            group = self.by_load.get(level)
            if group:
                found = _nth_unblocked(group, blocked, stream)
                if found is not None:
                    return found
        # Unreachable: the feasibility pass guarantees an eligible member for every slot.
        raise AssertionError("no eligible inspector left for a slot that was checked feasible")

"""Weighted round-robin within a queue, vectorised, with caps and skipping, continuing a saved position.

The rotation of a queue is a fixed *cycle* of ``W = sum(weights)`` slots in which each member
appears ``weight`` times, interleaved by Tijdeman's rule for the chairman assignment problem:
at every slot, among the members at least ``1/(2n-2)`` of a lead behind their share, the one whose
next lead falls due first goes next. It keeps every member within ``1 - 1/(2n-2)`` of a lead of its
exact share at every slot, which the smooth weighted round-robin of nginx used until 2026-12-07 did
not quite (weights 1, 1, 1, 3, 3, 3: a weight-3 member a whole lead behind after 8 leads). The
cycle is built once per run by a loop over its W slots (never over leads). A run continues from
the saved position:

- leads, in a deterministic order, take the cycle's slots from the position onwards;
- slots of members who cannot take leads today (inactive, out of office, no capacity left) are
  skipped, and a member whose daily cap is reached has its later slots skipped;
- the position after the last slot used is saved for the next run.

So consecutive runs continue one sequence; with the same members, weights, position and leads,
the owners are the same. Over every full cycle each available member gets exactly its weight,
and at any point its count differs from its exact share by less than one lead.

Everything is arithmetic on small per-member vectors plus one gather over the leads.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl


def rotation_cycle(members: Sequence[tuple[str, int]]) -> list[str]:
    """The interleaved cycle of a queue: each member ``weight`` times, in Tijdeman's order (see the
    module docstring), ties to the earlier member. Exact integer arithmetic: with ``n`` members,
    ``W`` slots and ``k = 2n - 2``, member ``i`` (``c`` leads so far) may take slot ``t`` (0-based)
    when ``((t + 1) w - c W) k >= W``, and the one due first has the least ``((c + 1) k - 1) / w``.

    Example:
        >>> rotation_cycle([("a", 2), ("b", 1)])
        ['a', 'b', 'a']
    """
    total = sum(w for _, w in members)
    if len(members) < 2:
        return [rep for rep, w in members for _ in range(w)]
    k = 2 * len(members) - 2
    counts = [0] * len(members)
    cycle: list[str] = []
    for slot in range(total):  # W slots: a loop over the cycle, not over leads
        behind = [i for i, (_, w) in enumerate(members) if ((slot + 1) * w - counts[i] * total) * k >= total]
        # the least ((c + 1) k - 1) / w, compared crosswise (integers); ties: the earlier member
        best = behind[0]
        for i in behind[1:]:
            if ((counts[i] + 1) * k - 1) * members[best][1] < ((counts[best] + 1) * k - 1) * members[i][1]:
                best = i
        counts[best] += 1
        cycle.append(members[best][0])
    return cycle


def cycle_signature(members: Sequence[tuple[str, int]]) -> str:
    """Identity of a cycle: a saved position is only continued while the signature is the same."""
    # the order's name first: positions saved in a cycle of the earlier order (smooth weighted
    # round-robin, until 2026-12-07) are not continued in another order, the rotation restarts
    text = "tijdeman:" + ",".join(f"{rep}:{w}" for rep, w in members)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class RoundRobin:
    """Owners for ``n`` leads (null where no member could take one) and the position to save."""

    owners: pl.Series
    next_position: int
    counts: dict[str, int]


def assign_round_robin(
    n: int,
    cycle: Sequence[str],
    position: int,
    available: set[str] | frozenset[str],
    capacity: Mapping[str, int | None],
) -> RoundRobin:
    """Give ``n`` leads the next slots of ``cycle`` after ``position``.

    Args:
        n: leads to assign, already in their deterministic order.
        cycle: the queue's cycle (:func:`rotation_cycle`).
        position: slot where the previous run stopped (0 .. len(cycle)-1).
        available: members who may take leads today (active and not out of office).
        capacity: leads each member may still take today (``None`` = no cap); missing = no cap.

    Returns:
        ``owners`` (length ``n``; null for leads no member could take because every available
        member reached its cap), ``next_position`` and the count per member.

    Example:
        >>> rr = assign_round_robin(4, ["a", "b", "a"], 1, {"a", "b"}, {})
        >>> rr.owners.to_list(), rr.next_position
        (['b', 'a', 'a', 'b'], 2)
    """
    size = len(cycle)
    if size == 0 or n == 0:
        return RoundRobin(pl.Series("owner_id", [None] * n, dtype=pl.String), position % max(size, 1), {})
    position %= size
    rotated = [cycle[(position + k) % size] for k in range(size)]
    slots = [k for k, rep in enumerate(rotated) if rep in available and capacity.get(rep, None) != 0]
    if not slots:
        return RoundRobin(pl.Series("owner_id", [None] * n, dtype=pl.String), position, {})
    reps = sorted({rotated[k] for k in slots})
    per_cycle = {rep: sum(1 for k in slots if rotated[k] == rep) for rep in reps}
    caps = {rep: capacity.get(rep) for rep in reps}
    reachable = n if any(caps[r] is None for r in reps) else min(n, sum(int(caps[r] or 0) for r in reps))
    tiles = _tiles_needed(reachable, per_cycle, caps)
    # Every eligible slot of `tiles` cycles, in order; the k-th visit of a capped member is kept
    # only while k < its cap.
    m = len(slots)
    index = np.arange(tiles * m, dtype=np.int64)
    slot_pos = np.asarray(slots, dtype=np.int64)[index % m]
    absolute = (index // m) * size + slot_pos
    rep_codes = {rep: i for i, rep in enumerate(reps)}
    code = np.asarray([rep_codes[rotated[k]] for k in slots], dtype=np.int64)[index % m]
    frame = pl.DataFrame({"abs": absolute, "code": code}).with_columns(
        pl.int_range(pl.len()).over("code").alias("visit")
    )
    cap_vec = pl.Series([caps[r] if caps[r] is not None else np.iinfo(np.int64).max for r in reps], dtype=pl.Int64)
    frame = (
        frame.with_columns(cap_vec.gather(frame["code"]).alias("cap"))
        .filter(pl.col("visit") < pl.col("cap"))
        .head(reachable)
    )
    names = pl.Series(reps, dtype=pl.String)
    owners = names.gather(frame["code"]).rename("owner_id")
    if owners.len() < n:
        owners = owners.extend(pl.Series("owner_id", [None] * (n - owners.len()), dtype=pl.String))
    last = int(frame["abs"][-1]) if frame.height else -1
    # Count the integer codes, not the owner strings (np.unique sorts a million Python strings).
    per_code = np.bincount(frame["code"].to_numpy(), minlength=len(reps))
    counts = {rep: int(n) for rep, n in zip(reps, per_code, strict=True) if n}
    return RoundRobin(owners, (position + last + 1) % size, counts)


def _tiles_needed(reachable: int, per_cycle: Mapping[str, int], caps: Mapping[str, int | None]) -> int:
    """Fewest whole cycles whose eligible slots, within the caps, cover ``reachable`` leads."""
    def covered(t: int) -> int:
        return sum(per_cycle[r] * t if caps[r] is None else min(int(caps[r] or 0), per_cycle[r] * t) for r in per_cycle)

    lo, hi = 0, max(1, reachable)
    while lo < hi:  # binary search over the number of cycles (a few dozen steps at most)
        mid = (lo + hi) // 2
        if covered(mid) >= reachable:
            hi = mid
        else:
            lo = mid + 1
    return max(lo, 1)

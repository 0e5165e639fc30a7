"""Routing: round-robin assignment over the active reps, continuing a persisted rotation."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from transforms import schema as s
from transforms.configuration import RoutingSettings
from transforms.errors import LifecycleError

RULE_ROUND_ROBIN = "round_robin"


@dataclass(frozen=True)
class Rotation:
    """Assignments for a set of leads and the rotation position to persist afterwards."""

    assignments: pl.DataFrame  # lead_id, owner_id, rule, reason
    next_position: int


def assign_round_robin(lead_ids: pl.Series, settings: RoutingSettings, position: int) -> Rotation:
    """Give each lead, in lead-id order, the next active rep after ``position``.

    Vectorised: the i-th lead gets ``reps[(position + i) mod n]``. The same ids, reps and
    position always give the same owners; the returned position lets the next run continue.

    Args:
        lead_ids: ids of the leads to assign (any order; assigned in ascending id order).
        settings: the reps (inactive ones are skipped).
        position: the rotation position stored after the previous run.
    """
    active = [r.id for r in settings.reps if r.active]
    if not active:
        raise LifecycleError("no active rep to route leads to", hint="set active = true on a rep in [routing]")
    ordered = lead_ids.cast(pl.Int64).sort()
    n = len(active)
    slots = (pl.int_range(0, len(ordered), eager=True) + position) % n
    owners = pl.Series(active)
    frame = pl.DataFrame({s.LEAD_ID: ordered, s.OWNER_ID: owners.gather(slots)}).with_columns(
        pl.lit(RULE_ROUND_ROBIN).alias("rule"),
        pl.format("round-robin over {} active reps in queue {}", pl.lit(n), pl.lit(settings.queue)).alias("reason"),
    )
    return Rotation(assignments=frame, next_position=(position + len(ordered)) % n)

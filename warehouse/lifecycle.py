"""Warehouse side of qualification and routing: inputs, results, rotation state, assignment log."""

from __future__ import annotations

import polars as pl

from transforms import schema as s
from transforms.configuration import Rep
from warehouse.connection import Warehouse

_SCORES = "_lp_scores"
_ASSIGN = "_lp_assignments"


def leads_to_qualify_sql() -> str:
    """Unconverted leads, with every column a rule may read."""
    return "SELECT * FROM leads WHERE NOT is_converted ORDER BY lead_id"


def leads_to_qualify(wh: Warehouse) -> pl.DataFrame:
    return wh.frame(leads_to_qualify_sql())


def write_qualification(wh: Warehouse, scores: pl.DataFrame) -> int:
    """Store score, grade and status; return how many leads changed."""
    with wh.transaction(), wh.registered(_SCORES, scores.select(s.LEAD_ID, s.SCORE, s.GRADE, s.STATUS)):
        changed = wh.scalar(
            f"SELECT count(*) FROM leads l JOIN {_SCORES} q USING (lead_id) WHERE l.score IS DISTINCT FROM q.score "
            "OR l.grade IS DISTINCT FROM q.grade OR l.status IS DISTINCT FROM q.status"
        )
        wh.execute(
            f"UPDATE leads SET score = q.score, grade = q.grade, status = q.status, updated_at = now()::TIMESTAMP "
            f"FROM {_SCORES} q WHERE leads.lead_id = q.lead_id AND (leads.score IS DISTINCT FROM q.score "
            "OR leads.grade IS DISTINCT FROM q.grade OR leads.status IS DISTINCT FROM q.status)"
        )
    return int(changed)


def unowned_lead_ids(wh: Warehouse) -> pl.Series:
    """Ids of unconverted leads without an owner, ascending."""
    return wh.frame("SELECT lead_id FROM leads WHERE owner_id IS NULL AND NOT is_converted ORDER BY lead_id")[s.LEAD_ID]


def sync_reps(wh: Warehouse, reps: tuple[Rep, ...]) -> None:
    """Make the ``reps`` table mirror the configured reps."""
    with wh.transaction():
        for rep in reps:
            wh.execute(
                "INSERT INTO reps (rep_id, name, active, updated_at) VALUES (?, ?, ?, now()::TIMESTAMP) "
                "ON CONFLICT (rep_id) DO UPDATE SET name = excluded.name, active = excluded.active, updated_at = excluded.updated_at",
                [rep.id, rep.name, rep.active],
            )
        ids = [r.id for r in reps]
        wh.execute("UPDATE reps SET active = false, updated_at = now()::TIMESTAMP WHERE rep_id NOT IN (SELECT unnest(?::VARCHAR[])) AND active", [ids])


def rotation_position(wh: Warehouse, queue: str) -> int:
    """Where the rotation of ``queue`` stands (0 for a new queue)."""
    value = wh.scalar("SELECT next_position FROM routing_state WHERE queue = ?", [queue])
    return int(value) if value is not None else 0


def write_assignments(wh: Warehouse, assignments: pl.DataFrame, queue: str, next_position: int) -> int:
    """Set owners, log the assignments and persist the rotation, in one transaction."""
    with wh.transaction(), wh.registered(_ASSIGN, assignments):
        wh.execute(
            f"UPDATE leads SET owner_id = a.owner_id, updated_at = now()::TIMESTAMP FROM {_ASSIGN} a "
            "WHERE leads.lead_id = a.lead_id AND leads.owner_id IS NULL"
        )
        wh.execute(
            f"INSERT INTO assignments (lead_id, owner_id, rule, reason, assigned_at) "
            f"SELECT lead_id, owner_id, rule, reason, now()::TIMESTAMP FROM {_ASSIGN}"
        )
        wh.execute(
            "INSERT INTO routing_state (queue, next_position, assigned_total, updated_at) VALUES (?, ?, ?, now()::TIMESTAMP) "
            "ON CONFLICT (queue) DO UPDATE SET next_position = excluded.next_position, "
            "assigned_total = routing_state.assigned_total + excluded.assigned_total, updated_at = excluded.updated_at",
            [queue, next_position, assignments.height],
        )
    return assignments.height

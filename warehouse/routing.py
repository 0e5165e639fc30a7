"""Warehouse side of routing: the roster (reps, absences, queue members), the clusters to route,
the rotation state per queue, and the assignments log.

Reps come from ``[routing]`` (synced at every routing run, ``source = 'config'``) and from reps
CSV files (``leadpipe reps import``, ``source = 'csv'``); both are in ``reps``. A rep removed from
the config becomes inactive; a CSV rep stays until a later import changes it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

import polars as pl

from transforms import schema as s
from transforms.criteria import GOLDEN_FIELDS
from transforms.routing import CURRENT_OWNER, QueueState, Roster, RoutingDecision, config_memberships, roster_frames
from transforms.routing_config import Rep, RoutingSettings
from warehouse.connection import Warehouse
from warehouse.lifecycle import STATE_COLUMNS_SQL, cluster_state_sql, golden_values_sql

_ROUTES = "_lp_routes"
_REPS = "_lp_reps"
_OOO = "_lp_ooo"
_MEMBERS = "_lp_members"
SOURCE_CONFIG = "config"
SOURCE_CSV = "csv"
_CSV_POSITION_BASE = 1_000_000  # CSV members rotate after the configured members, in file order


def _store_reps(wh: Warehouse, reps: Iterable[Rep], memberships: Iterable[tuple[str, str, int]], source: str, now: datetime) -> int:
    rep_frame, ooo, members = roster_frames(reps, memberships)
    with wh.transaction(), wh.registered(_REPS, rep_frame), wh.registered(_OOO, ooo), wh.registered(_MEMBERS, members):
        wh.execute(
            f"INSERT INTO reps (rep_id, name, active, updated_at, email, weight, daily_cap, source) "
            f"SELECT rep_id, name, active, $now, email, weight, daily_cap, $source FROM {_REPS} "
            "ON CONFLICT (rep_id) DO UPDATE SET name = excluded.name, active = excluded.active, updated_at = excluded.updated_at, "
            "email = excluded.email, weight = excluded.weight, daily_cap = excluded.daily_cap, source = excluded.source",
            {"now": now, "source": source},
        )
        if source == SOURCE_CONFIG:
            wh.execute(
                f"UPDATE reps SET active = false, updated_at = $now WHERE source = $source AND active "
                f"AND rep_id NOT IN (SELECT rep_id FROM {_REPS})",
                {"now": now, "source": source},
            )
            wh.execute("DELETE FROM rep_out_of_office WHERE source = $source", {"source": source})
            wh.execute("DELETE FROM queue_members WHERE source = $source", {"source": source})
        else:
            wh.execute(f"DELETE FROM rep_out_of_office WHERE rep_id IN (SELECT rep_id FROM {_REPS})")
            wh.execute(f"DELETE FROM queue_members WHERE source = $source AND rep_id IN (SELECT rep_id FROM {_REPS})", {"source": source})
        wh.execute(f"INSERT INTO rep_out_of_office SELECT rep_id, starts_on, ends_on, $source FROM {_OOO}", {"source": source})
        wh.execute(f"INSERT INTO queue_members SELECT queue_id, rep_id, position, $source FROM {_MEMBERS}", {"source": source})
    return rep_frame.height


def sync_config_roster(wh: Warehouse, settings: RoutingSettings, now: datetime) -> None:
    """Make the configured reps, their absences and the queue members current in the warehouse."""
    _store_reps(wh, settings.reps, config_memberships(settings), SOURCE_CONFIG, now)


def import_reps(wh: Warehouse, reps: Iterable[Rep], memberships: Iterable[tuple[str, str]], now: datetime) -> int:
    """Store reps read from a CSV (replacing their earlier absences and CSV queue memberships)."""
    ordered = [(q, r, _CSV_POSITION_BASE + i) for i, (q, r) in enumerate(memberships)]
    return _store_reps(wh, reps, ordered, SOURCE_CSV, now)


def reps_overview(wh: Warehouse) -> pl.DataFrame:
    """Every rep with their settings, queues, out-of-office ranges and load (view ``v_rep_load``), by rep id."""
    return wh.frame(
        "SELECT r.rep_id, r.name, r.active, r.weight, r.daily_cap, r.source, "
        "(SELECT string_agg(queue_id, ', ' ORDER BY queue_id) FROM (SELECT DISTINCT queue_id FROM queue_members m WHERE m.rep_id = r.rep_id)) AS queues, "
        "(SELECT string_agg(starts_on || '..' || ends_on, '; ' ORDER BY starts_on) FROM rep_out_of_office o WHERE o.rep_id = r.rep_id) AS out_of_office, "
        "v.open_leads, v.conversions FROM reps r LEFT JOIN v_rep_load v ON v.owner_id = r.rep_id ORDER BY r.rep_id"
    )


def load_roster(wh: Warehouse, day: date) -> Roster:
    """Reps, absences, queue members and each rep's clusters assigned on ``day``."""
    reps = wh.frame("SELECT rep_id, name, active, coalesce(weight, 1) AS weight, daily_cap FROM reps ORDER BY rep_id")
    ooo = wh.frame("SELECT rep_id, starts_on, ends_on FROM rep_out_of_office")
    members = wh.frame("SELECT queue_id, rep_id, min(position) AS position FROM queue_members GROUP BY ALL ORDER BY queue_id, position")
    start = datetime(day.year, day.month, day.day)
    today = wh.rows(
        "SELECT owner_id, count(DISTINCT coalesce(cluster_id, lead_id)) FROM assignments "
        "WHERE assigned_at >= ? AND assigned_at < ? AND owner_id IN (SELECT rep_id FROM reps) GROUP BY owner_id",
        [start, start + timedelta(days=1)],
    )
    return Roster(
        reps=reps.with_columns(pl.col("weight").cast(pl.Int32), pl.col("daily_cap").cast(pl.Int32)),
        out_of_office=ooo.with_columns(pl.col("starts_on").cast(pl.Date), pl.col("ends_on").cast(pl.Date)),
        members=members.with_columns(pl.col("position").cast(pl.Int32)),
        assigned_today={str(k): int(v) for k, v in today},
    )


#: A cluster needs routing when one of its leads has no user owner (or always, when reassigning).
_UNROUTED_SQL = "bool_or(l.owner_id IS NULL OR r.rep_id IS NULL)"


def routing_units_sql(fields: Iterable[str], reassign: bool) -> str:
    """One row per cluster to route: its user owner and the golden fields and aggregates in ``fields``.

    One pass over the leads finds the clusters to route and computes only the aggregates the
    rules read; the golden fields are joined to those clusters.
    """
    wanted = set(fields)
    state = cluster_state_sql({CURRENT_OWNER} | (wanted & set(STATE_COLUMNS_SQL)), "" if reassign else _UNROUTED_SQL)
    return f"""
        WITH o AS ({state}), gf AS ({golden_values_sql(wanted & set(GOLDEN_FIELDS))})
        SELECT gf.*, o.* EXCLUDE (cluster_id) FROM o JOIN gf USING (cluster_id)
    """


def routing_units(wh: Warehouse, fields: Iterable[str], reassign: bool, now: datetime) -> pl.DataFrame:
    """The clusters to route (see :func:`routing_units_sql`); ``fields``: every field the rules read."""
    sql = routing_units_sql(fields, reassign)
    return wh.frame(sql, {"now": now} if "$now" in sql else None)  # only the age aggregates read $now


def accounts_for_routing(wh: Warehouse) -> pl.DataFrame:
    """Existing accounts with their owners, for sticky routing."""
    return wh.frame("SELECT account_id, domain, company_key, owner_id FROM accounts")


def queue_states(wh: Warehouse) -> dict[str, QueueState]:
    """Saved rotation position and cycle signature of every queue."""
    return {q: QueueState(int(p), sig) for q, p, sig in wh.rows("SELECT queue, next_position, cycle_signature FROM routing_state")}


def _owner_changes_sql(lead: str) -> str:
    """The leads (table alias ``lead``) whose owner the route ``a`` changes."""
    return f"""
        coalesce({lead}.cluster_id, {lead}.lead_id) = a.cluster_id AND NOT {lead}.is_converted
        AND {lead}.owner_id IS DISTINCT FROM a.owner_id
        AND ($reassign OR {lead}.owner_id IS NULL OR {lead}.owner_id NOT IN (SELECT rep_id FROM reps))
    """


# Log first (it reads the previous owners), then set the owners; the same condition selects the
# same leads in both. Two joins are cheaper than materialising a million changed rows with
# their reasons in a temporary table and reading it twice.
_LOG_CHANGES_SQL = f"""
    INSERT INTO assignments (lead_id, owner_id, rule, reason, assigned_at, cluster_id, queue_id, previous_owner_id)
    SELECT l.lead_id, a.owner_id, a.rule, a.reason, $now, a.cluster_id, a.queue_id, l.owner_id
    FROM leads l JOIN {_ROUTES} a ON {_owner_changes_sql("l")}
"""

_SET_OWNERS_SQL = f"""
    UPDATE leads SET owner_id = a.owner_id, updated_at = $now FROM {_ROUTES} a WHERE {_owner_changes_sql("leads")}
"""


def write_routing(wh: Warehouse, decision: RoutingDecision, reassign: bool, now: datetime) -> int:
    """Set owners on the leads whose owner changes, log each change, save the rotations; one transaction.

    Returns:
        How many leads got a new owner.
    """
    # Owners, rules, reasons and queues repeat: categoricals reach DuckDB as Arrow dictionaries.
    routes = decision.assignments.select(
        pl.col(s.CLUSTER_ID).cast(pl.Int64), pl.col(s.OWNER_ID, "rule", "reason", "queue_id").cast(pl.Categorical)
    )
    params = {"now": now, "reassign": reassign}
    with wh.transaction(), wh.registered(_ROUTES, routes):
        logged = wh.rows(_LOG_CHANGES_SQL, params)
        changed = int(logged[0][0]) if logged else 0
        wh.execute(_SET_OWNERS_SQL, params)
        for queue, state in decision.states.items():
            wh.execute(
                "INSERT INTO routing_state (queue, next_position, assigned_total, updated_at, cycle_signature) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (queue) DO UPDATE SET next_position = excluded.next_position, "
                "assigned_total = routing_state.assigned_total + excluded.assigned_total, "
                "updated_at = excluded.updated_at, cycle_signature = excluded.cycle_signature",
                [queue, state.position, decision.counts.get(queue, 0), now, state.signature],
            )
    return changed

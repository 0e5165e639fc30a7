"""Warehouse side of qualification: the clusters to qualify, their submissions, the results.

A cluster is the set of leads sharing ``coalesce(cluster_id, lead_id)``. Its profile is its row
in ``lead_golden``; a cluster that has no golden record yet (the dedup stage has not built one)
is read from its own lead (the one whose id is the cluster id), so qualification never waits
for the matching engine. Clusters with a converted lead are left alone: conversion is one-way.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import polars as pl

from transforms import schema as s
from transforms.criteria import (
    DAYS_SINCE_FIRST_SEEN,
    DAYS_SINCE_LAST_SEEN,
    FORM_SUBMISSIONS,
    GOLDEN_FIELDS,
    SEEN_AT,
    SUBMISSIONS,
)
from transforms.routing import CURRENT_OWNER, HELD_BY
from transforms.scoring import DEMO_RAW, FACTOR, FACTOR_KIND, MQL_AT, Qualification
from warehouse.connection import Warehouse

_SCORES = "_lp_scores"
_FACTORS = "_lp_factors"

#: SQL for the cluster key of a lead (a lead with no duplicate is its own cluster).
CLUSTER_KEY_SQL = "coalesce(cluster_id, lead_id)"

#: Clusters with a converted lead: few, so every "open clusters only" test below is an anti-join
#: against this small set instead of a second DISTINCT over all leads (an EXCEPT of two
#: million-row DISTINCTs cost over a second at 1M leads).
CONVERTED_CLUSTERS_SQL = f"SELECT DISTINCT {CLUSTER_KEY_SQL} AS cluster_id FROM leads WHERE is_converted"


def reached_mql_sql(alias: str = "") -> str:
    """Predicate on ``leads``: the lead reached MQL (``mql_at`` set, MQL now, or converted).

    The one definition of "reached MQL" for the code: the report's funnel and the run summary
    use it, and it is the predicate of the ``v_funnel`` view (migration 003), which data teams
    query. ``mql_at`` is kept when a cluster moves on (Working, Closed - Not Converted), so a
    lead counted once stays counted: the run summary's "now minus before" is never negative.

    Args:
        alias: the table alias of ``leads`` in the query (``"l"``), or empty for none.

    Example:
        >>> reached_mql_sql("l")
        "(l.mql_at IS NOT NULL OR l.status = 'MQL' OR l.is_converted)"
    """
    p = f"{alias}." if alias else ""
    return f"({p}{MQL_AT} IS NOT NULL OR {p}status = 'MQL' OR {p}is_converted)"


#: :func:`reached_mql_sql` on unaliased ``leads``.
REACHED_MQL_SQL = reached_mql_sql()

_SEEN_SQL = "coalesce(l.submitted_at, l.created_at)"

#: Per-cluster aggregates :func:`cluster_state_sql` can compute (leads ``l``, reps ``r``).
#: ``current_owner`` is the owner of the oldest lead with a user (``reps``) owner; ``held_by``
#: the oldest non-user owner (a queue); ``owner_id`` the first of the two that is set. Ages are
#: measured from the parameter ``$now``.
STATE_COLUMNS_SQL: dict[str, str] = {
    CURRENT_OWNER: "arg_min(l.owner_id, l.lead_id) FILTER (WHERE r.rep_id IS NOT NULL)",
    HELD_BY: "arg_min(l.owner_id, l.lead_id) FILTER (WHERE l.owner_id IS NOT NULL AND r.rep_id IS NULL)",
    # coalesce(current_owner, held_by) in one aggregate (user owners sort first): half the cost.
    s.OWNER_ID: "arg_min(l.owner_id, (r.rep_id IS NULL, l.lead_id)) FILTER (WHERE l.owner_id IS NOT NULL)",
    s.SCORE: "arg_min(l.score, l.lead_id)",
    s.GRADE: "arg_min(l.grade, l.lead_id)",
    s.STATUS: "arg_min(l.status, l.lead_id)",
    SUBMISSIONS: "count(*)::INTEGER",
    FORM_SUBMISSIONS: f"(count(*) FILTER (WHERE l.source_kind = '{s.KIND_FORM}'))::INTEGER",
    DAYS_SINCE_LAST_SEEN: f"date_diff('second', max({_SEEN_SQL}), $now) / 86400.0",
    DAYS_SINCE_FIRST_SEEN: f"date_diff('second', min({_SEEN_SQL}), $now) / 86400.0",
    s.HAS_OPTED_OUT_OF_EMAIL: f"bool_or(coalesce(l.{s.HAS_OPTED_OUT_OF_EMAIL}, false))",
    s.DO_NOT_CALL: f"bool_or(coalesce(l.{s.DO_NOT_CALL}, false))",
}


def golden_values_sql(fields: Iterable[str], clusters_table: str | None = None) -> str:
    """``cluster_id`` and the given golden fields of every cluster that has a profile.

    The profile is the cluster's ``lead_golden`` row; a cluster without one is read from its own
    lead (the one whose id is the cluster id). Not restricted to open clusters: callers join it
    to the clusters they want. The fields must be golden-record columns
    (:data:`transforms.criteria.GOLDEN_FIELDS`); the names used are taken from that constant,
    never from the caller's strings.

    Args:
        clusters_table: only the clusters listed in this table's ``cluster_id``, each once (a
            registered frame named by a constant of the calling module); the filter is applied
            inside each branch, so that a few thousand clusters do not pay for scans of all.
    """
    wanted = set(fields)
    cols = [f for f in GOLDEN_FIELDS if f in wanted]
    g = "".join(f", g.{c}" for c in cols)
    f = "".join(f", l.{c}" for c in cols)
    if clusters_table:  # joins, not IN: the few ids filter the scans instead of probing all rows
        return f"""
            SELECT g.cluster_id{g} FROM {clusters_table} k JOIN lead_golden g ON g.cluster_id = k.cluster_id
            UNION ALL
            SELECT l.lead_id{f} FROM {clusters_table} k JOIN leads l ON l.lead_id = k.cluster_id
            WHERE NOT EXISTS (SELECT 1 FROM lead_golden g WHERE g.cluster_id = k.cluster_id)
        """
    # The ids without a golden row first, then their columns: the anti-join then reads one
    # column of the leads instead of decoding every requested text column of a million rows.
    return f"""
        SELECT g.cluster_id{g} FROM lead_golden g
        UNION ALL
        SELECT l.lead_id{f}
        FROM (SELECT DISTINCT x.lead_id FROM leads x WHERE NOT EXISTS (SELECT 1 FROM lead_golden g WHERE g.cluster_id = x.lead_id)) m
        JOIN leads l ON l.lead_id = m.lead_id
    """


def cluster_state_sql(columns: Iterable[str] | None = None, having: str = "", clusters_table: str | None = None) -> str:
    """Per open cluster (no converted lead): the aggregates named in ``columns`` (default: all of
    :data:`STATE_COLUMNS_SQL`) in one pass over the leads.

    Args:
        columns: aggregates wanted; computing only those a caller reads matters at 1M leads.
        having: an extra SQL condition on the group (a constant of the calling module).
        clusters_table: only the clusters listed in this table's ``cluster_id`` (a registered
            frame named by a constant of the calling module).
    """
    wanted = set(STATE_COLUMNS_SQL) if columns is None else set(columns)
    aggs = "".join(f", {sql} AS {name}" for name, sql in STATE_COLUMNS_SQL.items() if name in wanted)
    where = f"WHERE coalesce(l.cluster_id, l.lead_id) IN (SELECT cluster_id FROM {clusters_table})" if clusters_table else ""
    return f"""
        SELECT coalesce(l.cluster_id, l.lead_id) AS cluster_id{aggs}
        FROM leads l LEFT JOIN reps r ON r.rep_id = l.owner_id {where}
        GROUP BY 1 HAVING NOT bool_or(l.is_converted) {('AND ' + having) if having else ''}
    """


def submissions_sql(demo_keys: int) -> str:
    """One row per lead of an open cluster, with what score rules read per submission.

    Args:
        demo_keys: how many JSON paths (parameters) to try in ``leads.extra`` for a demo request.
    """
    demo = "coalesce(" + ", ".join(["json_extract_string(extra, ?)"] * demo_keys) + ")" if demo_keys else "NULL::VARCHAR"
    return f"""
        SELECT {CLUSTER_KEY_SQL} AS cluster_id, source_kind, form_name, campaign,
               coalesce(submitted_at, created_at) AS {SEEN_AT}, {demo} AS {DEMO_RAW}, status, {MQL_AT}
        FROM leads
        WHERE NOT is_converted AND {CLUSTER_KEY_SQL} NOT IN (SELECT cluster_id FROM ({CONVERTED_CLUSTERS_SQL}))
    """


def _json_path(key: str) -> str:
    return '$."' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


def clusters_to_qualify(wh: Warehouse, fields: Iterable[str]) -> pl.DataFrame:
    """The golden fields of every cluster without a converted lead.

    A superset of the open clusters (a stale golden row whose cluster has no lead any more is
    included): :func:`transforms.scoring.qualify` keeps only clusters with submissions, so the
    open-cluster set is not computed a second time here.
    """
    return wh.frame(
        f"WITH gf AS ({golden_values_sql(fields)}) SELECT * FROM gf "
        f"WHERE cluster_id NOT IN (SELECT cluster_id FROM ({CONVERTED_CLUSTERS_SQL}))"
    )


def cluster_submissions(wh: Warehouse, demo_request_fields: tuple[str, ...]) -> pl.DataFrame:
    """Every unconverted lead of an open cluster (see :func:`submissions_sql`)."""
    return wh.frame(submissions_sql(len(demo_request_fields)), [_json_path(k) for k in demo_request_fields] or None)


_UPDATE_SQL = f"""
    UPDATE leads SET score = q.score, grade = q.grade, status = q.status, mql_at = q.mql_at, updated_at = $now
    FROM {_SCORES} q
    WHERE coalesce(leads.cluster_id, leads.lead_id) = q.cluster_id AND NOT leads.is_converted
      AND (leads.score IS DISTINCT FROM q.score OR leads.grade IS DISTINCT FROM q.grade
           OR leads.status IS DISTINCT FROM q.status OR leads.mql_at IS DISTINCT FROM q.mql_at)
"""


def write_qualification(wh: Warehouse, result: Qualification, now: datetime) -> int:
    """Store score, grade, status and mql_at on every lead of each cluster, and the top factors.

    Returns:
        How many leads changed.
    """
    # Repeated labels go in as categoricals: DuckDB scans Arrow dictionaries without copying each
    # string (4M factor rows at 1M clusters: a quarter less time for the insert).
    scores = result.clusters.select(
        pl.col(s.CLUSTER_ID).cast(pl.Int64), s.SCORE, pl.col(s.GRADE, s.STATUS).cast(pl.Categorical),
        pl.col(MQL_AT).cast(pl.Datetime("us")),
    )
    factors = result.factors.with_columns(pl.col(c).cast(pl.Categorical) for c in (FACTOR_KIND, FACTOR) if result.factors.schema[c] == pl.String)
    with wh.transaction(), wh.registered(_SCORES, scores), wh.registered(_FACTORS, factors):
        changed = wh.rows(_UPDATE_SQL, {"now": now})
        wh.execute(f"DELETE FROM lead_score_factors WHERE cluster_id IN (SELECT cluster_id FROM {_SCORES})")
        wh.execute(
            f"INSERT INTO lead_score_factors (cluster_id, kind, rank, factor, points, scored_at) "
            f"SELECT cluster_id, kind, rank, factor, points, $now FROM {_FACTORS}",
            {"now": now},
        )
    return int(changed[0][0]) if changed else 0


def lead_score(wh: Warehouse, lead_id: int) -> tuple[int | None, str | None, str | None, str | None] | None:
    """A lead's (score, grade, status, owner_id), or None for an unknown lead."""
    rows = wh.rows("SELECT score, grade, status, owner_id FROM leads WHERE lead_id = ?", [lead_id])
    return rows[0] if rows else None  # type: ignore[return-value]


def score_factors(wh: Warehouse, lead_id: int) -> pl.DataFrame:
    """The factors behind a lead's score and grade (those of its cluster)."""
    return wh.frame(
        "SELECT f.kind, f.rank, f.factor, f.points FROM lead_score_factors f "
        f"WHERE f.cluster_id = (SELECT {CLUSTER_KEY_SQL} FROM leads WHERE lead_id = ?) ORDER BY f.kind DESC, f.rank",
        [lead_id],
    )

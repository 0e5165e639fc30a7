"""Warehouse side of dedup: fetch the leads to cluster, write cluster ids back."""

from __future__ import annotations

import polars as pl

from transforms import schema as s
from warehouse.connection import Warehouse

_NEW = "_lp_new_keys"
_CLUSTERS = "_lp_lead_clusters"
_MERGES = "_lp_cluster_merges"


def dedup_candidates_sql(columns: tuple[str, ...]) -> str:
    """New leads (no cluster yet) plus the clustered leads that share an email or name+phone key."""
    cols = ", ".join(f"l.{c}" for c in columns)
    name_phone = "lower(l.first_name) || '|' || lower(l.last_name) || '|' || l.phone"
    return f"""
        WITH new AS (SELECT * FROM leads WHERE cluster_id IS NULL),
        keys AS (
            SELECT email AS k FROM new WHERE email IS NOT NULL
            UNION
            SELECT lower(first_name) || '|' || lower(last_name) || '|' || phone FROM new
            WHERE first_name IS NOT NULL AND phone IS NOT NULL
        )
        SELECT {cols} FROM leads l WHERE l.cluster_id IS NULL
        UNION ALL
        SELECT {cols} FROM leads l WHERE l.cluster_id IS NOT NULL
          AND (l.email IN (SELECT k FROM keys) OR ({name_phone}) IN (SELECT k FROM keys))
    """


def dedup_candidates(wh: Warehouse, columns: tuple[str, ...]) -> pl.DataFrame:
    """The leads a dedup run must look at, with the given columns."""
    return wh.frame(dedup_candidates_sql(columns))


def apply_clusters(wh: Warehouse, lead_clusters: pl.DataFrame, merges: pl.DataFrame) -> int:
    """Write cluster ids: new leads get theirs, members of merged clusters take the survivor's.

    Returns:
        The number of lead rows whose cluster id changed.
    """
    before = wh.scalar("SELECT count(*) FROM leads WHERE cluster_id IS NULL")
    with wh.transaction():
        with wh.registered(_MERGES, merges.select(pl.col("old_cluster_id").cast(pl.Int64), pl.col("new_cluster_id").cast(pl.Int64))):
            wh.execute(
                f"UPDATE leads SET cluster_id = m.new_cluster_id, updated_at = now()::TIMESTAMP FROM {_MERGES} m "
                "WHERE leads.cluster_id = m.old_cluster_id"
            )
        merged = merges.height
        with wh.registered(_CLUSTERS, lead_clusters.select(pl.col(s.LEAD_ID).cast(pl.Int64), pl.col(s.CLUSTER_ID).cast(pl.Int64))):
            wh.execute(
                f"UPDATE leads SET cluster_id = c.cluster_id, updated_at = now()::TIMESTAMP FROM {_CLUSTERS} c "
                "WHERE leads.lead_id = c.lead_id AND leads.cluster_id IS DISTINCT FROM c.cluster_id"
            )
    return int(before) + merged

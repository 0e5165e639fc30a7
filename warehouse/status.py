"""Read-only summaries for `leadpipe status` and the end-of-run report."""

from __future__ import annotations

import polars as pl

from warehouse.clusters import review_pair_count
from warehouse.connection import Warehouse

#: Tables whose row counts `leadpipe status` shows, in this order.
STATUS_TABLES = (
    "import_batches", "leads", "lead_rejects", "accounts", "contacts", "opportunities", "assignments",
)


def table_counts(wh: Warehouse) -> dict[str, int]:
    """Row count of every public table."""
    return {t: int(wh.scalar(f"SELECT count(*) FROM {t}")) for t in STATUS_TABLES if wh.table_exists(t)}


def recent_batches(wh: Warehouse, limit: int = 10) -> pl.DataFrame:
    """The newest batches with their conservation figures and whether they balance."""
    return wh.frame(
        "SELECT batch_id, source_file, source_kind, status, rows_read, rows_loaded, rows_rejected, rows_skipped, "
        "rows_read = rows_loaded + rows_rejected + rows_skipped AS balanced, error, finished_at "
        "FROM import_batches ORDER BY batch_id DESC LIMIT ?",
        [limit],
    )


#: How many clusters hold more than one lead.
_CLUSTERS_WITH_DUPLICATES = (
    "(SELECT count(*) FROM (SELECT cluster_id FROM leads WHERE cluster_id IS NOT NULL GROUP BY 1 HAVING count(*) > 1))"
)


def pipeline_summary(wh: Warehouse) -> dict[str, int]:
    """Headline figures of the warehouse: leads, clusters (all, and those of more than one lead),
    duplicate leads (leads beyond the first of their cluster), MQLs, owners, conversions."""
    row = wh.rows(
        "SELECT count(*), count(DISTINCT cluster_id), count(*) FILTER (WHERE status = 'MQL'), "
        "count(*) FILTER (WHERE owner_id IS NOT NULL), count(*) FILTER (WHERE is_converted), "
        "count(*) - count(DISTINCT coalesce(cluster_id, lead_id)), "
        f"{_CLUSTERS_WITH_DUPLICATES} "
        "FROM leads"
    )[0]
    keys = ("leads", "clusters", "mqls", "owned", "converted", "duplicate_leads", "clusters_with_duplicates")
    return dict(zip(keys, (int(v) for v in row), strict=True))


def matching_summary(wh: Warehouse) -> dict[str, object] | None:
    """Where duplicate matching stands (None before the matching tables exist): leads waiting for
    a dedup run, clusters, duplicate leads, pairs waiting for a review, labels (and those the
    clusters do not follow: review answers that conflicted with other labels or rules), the newest model."""
    if not wh.table_exists("match_pairs"):
        return None
    waiting, clustered, clusters, shared = wh.rows(
        "SELECT count(*) FILTER (WHERE cluster_id IS NULL), count(cluster_id), count(DISTINCT cluster_id), "
        f"{_CLUSTERS_WITH_DUPLICATES} "
        "FROM leads"
    )[0]
    # pairs by their newest label: a pair answered twice, or answered after an unmerge, counts once;
    # and those the clusters do not follow: an answer kept as a label but not applied (a conflict)
    rows = wh.rows(
        "SELECT n.label, count(*), count(*) FILTER (WHERE a.cluster_id IS NOT NULL AND b.cluster_id IS NOT NULL "
        "AND (n.label = 'must_link') <> (a.cluster_id = b.cluster_id)) FROM ("
        "SELECT lead_id_l, lead_id_r, arg_max(label::VARCHAR, (created_at, rowid)) AS label FROM match_labels GROUP BY 1, 2"
        ") n LEFT JOIN leads a ON a.lead_id = n.lead_id_l LEFT JOIN leads b ON b.lead_id = n.lead_id_r GROUP BY 1"
    )
    labels = {label: count for label, count, _ in rows}
    unfollowed = sum(int(n) for _, _, n in rows)
    fitted_at, models = wh.rows("SELECT max(fitted_at), count(*) FROM match_models")[0]
    return {
        "leads waiting for a dedup run": int(waiting),
        "clustered leads": int(clustered),
        "clusters": int(clusters),
        "clusters with duplicates": int(shared),
        "duplicate leads": int(clustered) - int(clusters),
        "pairs waiting for a review": review_pair_count(wh),
        "pairs labelled must-link": int(labels.get("must_link", 0)),
        "pairs labelled cannot-link": int(labels.get("cannot_link", 0)),
        "labelled pairs the clusters do not follow": unfollowed,
        "match model fitted at": fitted_at,
        "match models fitted": int(models),
    }


def rejects(wh: Warehouse, batch_id: int | None = None) -> pl.DataFrame:
    """Rejected rows (all, or of one batch) with their reasons and raw record."""
    where = "WHERE batch_id = ?" if batch_id is not None else ""
    return wh.frame(
        f"SELECT batch_id, source_file, source_row, reasons, raw_record::VARCHAR AS raw_record, raw_line "
        f"FROM lead_rejects {where} ORDER BY batch_id, source_row",
        [batch_id] if batch_id is not None else None,
    )

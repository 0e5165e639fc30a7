"""The figures of `leadpipe report`, read from the warehouse into small frames.

Each ``*_sql`` function builds one query; :func:`collect_report` runs them and returns a
:class:`~transforms.report_html.ReportData` for the (pure Python) HTML renderer. Works on an
empty warehouse and before the matching engine fills ``match_pairs`` and ``cluster_events``.
"""

from __future__ import annotations

import polars as pl

from transforms.report_html import ReportData
from warehouse.clusters import PAIR_COMPARISONS, cluster_histories
from warehouse.connection import Warehouse
from warehouse.lifecycle import REACHED_MQL_SQL, reached_mql_sql
from warehouse.runs import runs_frame

#: Clusters whose members (and pair scores) the report shows.
LARGEST_CLUSTERS = 5
#: Weeks of the weekly funnel.
WEEKS = 26

#: Comparisons whose level and weight columns (level_<name>, weight_<name>) match_pairs stores.
MATCH_FIELDS = PAIR_COMPARISONS


def kpis_sql() -> str:
    return (
        "SELECT (SELECT count(*) FROM leads) AS leads, "
        f"(SELECT count(*) FILTER (WHERE {REACHED_MQL_SQL}) FROM leads) AS mqls, "
        "(SELECT count(*) FILTER (WHERE is_converted) FROM leads) AS converted, "
        "(SELECT count(*) FROM lead_rejects) AS rejects, "
        "(SELECT count(*) FROM import_batches WHERE status = 'loaded') AS files_loaded, "
        "(SELECT count(*) FROM import_batches WHERE status = 'failed') AS files_failed, "
        "(SELECT count(*) FROM (SELECT cluster_id FROM leads WHERE cluster_id IS NOT NULL "
        "  GROUP BY cluster_id HAVING count(*) > 1)) AS duplicate_clusters, "
        "(SELECT count(*) - count(DISTINCT coalesce(cluster_id, lead_id)) FROM leads) AS duplicate_leads, "
        "(SELECT count(*) FROM accounts) AS accounts, "
        "(SELECT count(*) FROM opportunities) AS opportunities"
    )


def funnel_by_source_sql() -> str:
    return (
        "SELECT coalesce(lead_source, '(none)') AS lead_source, count(*) AS leads, "
        f"count(*) FILTER (WHERE {REACHED_MQL_SQL}) AS mqls, count(*) FILTER (WHERE is_converted) AS converted "
        "FROM leads GROUP BY ALL ORDER BY leads DESC, lead_source"
    )


def funnel_by_week_sql() -> str:
    """Leads by the week they came in (form submission time, else load time), newest weeks."""
    return (
        "SELECT * FROM (SELECT date_trunc('week', coalesce(submitted_at, created_at))::DATE AS week, "
        "count(*) AS leads, "
        f"count(*) FILTER (WHERE {REACHED_MQL_SQL}) AS mqls, count(*) FILTER (WHERE is_converted) AS converted "
        "FROM leads GROUP BY ALL ORDER BY week DESC LIMIT ?) ORDER BY week"
    )


def rejects_by_reason_sql() -> str:
    return (
        "SELECT reason, count(*) AS rows FROM (SELECT unnest(reasons) AS reason FROM lead_rejects) "
        "GROUP BY ALL ORDER BY rows DESC, reason"
    )


def cluster_sizes_sql() -> str:
    return (
        "SELECT size, count(*) AS clusters FROM (SELECT cluster_id, count(*) AS size FROM leads "
        "WHERE cluster_id IS NOT NULL GROUP BY cluster_id HAVING count(*) > 1) GROUP BY size ORDER BY size"
    )


def largest_cluster_members_sql() -> str:
    return (
        "WITH top AS (SELECT cluster_id, count(*) AS size FROM leads WHERE cluster_id IS NOT NULL "
        "  GROUP BY cluster_id HAVING count(*) > 1 ORDER BY size DESC, cluster_id LIMIT ?) "
        "SELECT l.cluster_id, t.size, l.lead_id, l.first_name, l.last_name, l.email, l.phone, l.company, "
        "l.company_key, l.city, l.lead_source, l.source_kind, regexp_extract(l.source_file, '[^/\\\\]+$') AS file, "
        "l.source_row, l.status "
        "FROM leads l JOIN top t USING (cluster_id) ORDER BY t.size DESC, l.cluster_id, l.lead_id"
    )


def cluster_pairs_sql() -> str:
    """Scored pairs between members of the same (given) clusters, strongest first."""
    fields = ", ".join(f"p.level_{f}, p.weight_{f}" for f in MATCH_FIELDS)
    return (
        f"SELECT a.cluster_id, p.lead_id_l, p.lead_id_r, {fields}, p.match_weight, p.match_probability, "
        "p.decision, p.decided_by FROM match_pairs p "
        "JOIN leads a ON a.lead_id = p.lead_id_l JOIN leads b ON b.lead_id = p.lead_id_r "
        "WHERE a.cluster_id = b.cluster_id AND a.cluster_id IN (SELECT unnest(?::BIGINT[])) "
        "ORDER BY a.cluster_id, p.match_probability DESC, p.lead_id_l, p.lead_id_r"
    )


def score_buckets_sql() -> str:
    return (
        "SELECT (floor(score / 10) * 10)::INTEGER AS bucket, count(*) AS leads FROM leads "
        "WHERE score IS NOT NULL GROUP BY ALL ORDER BY bucket"
    )


def grades_sql() -> str:
    return "SELECT grade, count(*) AS leads FROM leads WHERE grade IS NOT NULL GROUP BY ALL"


def per_rep_sql() -> str:
    return (
        "SELECT l.owner_id, coalesce(any_value(r.name), l.owner_id) AS rep, count(*) AS leads, "
        f"count(*) FILTER (WHERE {reached_mql_sql('l')}) AS mqls, "
        "count(*) FILTER (WHERE l.is_converted) AS converted "
        "FROM leads l LEFT JOIN reps r ON r.rep_id = l.owner_id WHERE l.owner_id IS NOT NULL "
        "GROUP BY l.owner_id ORDER BY leads DESC, l.owner_id"
    )


def collect_report(wh: Warehouse, *, source: str = "") -> ReportData:
    """Every figure of the report, as small frames.

    Args:
        source: what the figures were read from (shown on the page).
    """
    members = wh.frame(largest_cluster_members_sql(), [LARGEST_CLUSTERS])
    cluster_ids = members["cluster_id"].unique().to_list() if members.height else []
    return ReportData(
        source=source,
        kpis=wh.frame(kpis_sql()).row(0, named=True),
        funnel_by_source=wh.frame(funnel_by_source_sql()),
        funnel_by_week=wh.frame(funnel_by_week_sql(), [WEEKS]),
        rejects_by_reason=wh.frame(rejects_by_reason_sql()),
        cluster_sizes=wh.frame(cluster_sizes_sql()),
        cluster_members=members,
        cluster_pairs=wh.frame(cluster_pairs_sql(), [cluster_ids]) if cluster_ids else pl.DataFrame(),
        # each cluster's history with that of the clusters it came from, as `leadpipe explain` shows it
        cluster_events=cluster_histories(wh, cluster_ids).select(
            pl.col("history_of").alias("cluster_id"), "event", "lead_id", "other_cluster_id", "detail",
        ) if cluster_ids else pl.DataFrame(),
        match_fields=MATCH_FIELDS,
        score_buckets=wh.frame(score_buckets_sql()),
        grades=wh.frame(grades_sql()),
        per_rep=wh.frame(per_rep_sql()),
        runs=runs_frame(wh, 10) if wh.table_exists("pipeline_runs") else pl.DataFrame(),
    )

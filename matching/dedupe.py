"""Thin first version of duplicate detection: deterministic keys, then connected components.

Two leads are duplicates when they share a normalised email, or the same first name, last name
and E.164 phone. New leads are compared with each other and with the existing leads that share
a key; clusters are identified by the oldest lead id in them, so a new lead joining a cluster
takes its id and, when clusters merge, the older id survives.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from matching.components import LABEL, NODE, connected_components
from matching.configuration import DedupSettings
from transforms import schema as s

#: Columns the dedup needs from each lead.
DEDUP_COLUMNS = (s.LEAD_ID, s.CLUSTER_ID, s.EMAIL, s.FIRST_NAME, s.LAST_NAME, s.PHONE)


def match_keys(settings: DedupSettings) -> dict[str, pl.Expr]:
    """The blocking keys of the enabled rules, by rule name."""
    keys: dict[str, pl.Expr] = {}
    if settings.match_email:
        keys["email"] = pl.col(s.EMAIL)
    if settings.match_name_phone:
        keys["name_phone"] = pl.concat_str(
            pl.col(s.FIRST_NAME).str.to_lowercase(), pl.col(s.LAST_NAME).str.to_lowercase(), pl.col(s.PHONE),
            separator="|",
        )
    return keys


@dataclass(frozen=True)
class ClusterAssignment:
    """Result of a dedup run."""

    lead_clusters: pl.DataFrame  # lead_id, cluster_id for every lead passed in
    cluster_merges: pl.DataFrame  # old cluster_id -> surviving cluster_id, for existing clusters that merged


def assign_clusters(leads: pl.DataFrame, settings: DedupSettings) -> ClusterAssignment:
    """Cluster new leads (``cluster_id`` null) with each other and with existing leads.

    Args:
        leads: the new leads plus the existing leads that share a key with them, with the
            ``DEDUP_COLUMNS``; existing leads carry their current ``cluster_id``.
        settings: which rules are on.

    Returns:
        The cluster of every lead passed in, and the merges of existing clusters.
    """
    frame = leads.select(DEDUP_COLUMNS).with_columns(pl.col(s.LEAD_ID).cast(pl.Int64), pl.col(s.CLUSTER_ID).cast(pl.Int64))
    edges = []
    for key_expr in match_keys(settings).values():
        keyed = frame.select(s.LEAD_ID, key_expr.alias("k")).drop_nulls("k")
        # A star per key group: every member linked to the group's smallest lead id.
        edges.append(
            keyed.with_columns(pl.col(s.LEAD_ID).min().over("k").alias("b")).select(pl.col(s.LEAD_ID).alias("a"), "b")
        )
    # Existing members stay linked to their cluster (cluster ids are lead ids of the oldest member).
    edges.append(
        frame.filter(pl.col(s.CLUSTER_ID).is_not_null()).select(pl.col(s.LEAD_ID).alias("a"), pl.col(s.CLUSTER_ID).alias("b"))
    )
    edge_frame = pl.concat(edges).filter(pl.col("a") != pl.col("b")) if edges else pl.DataFrame({"a": [], "b": []})
    components = connected_components(edge_frame, frame[s.LEAD_ID])
    lead_clusters = frame.select(s.LEAD_ID, s.CLUSTER_ID).join(
        components.rename({NODE: s.LEAD_ID}), on=s.LEAD_ID, how="left"
    )
    merges = (
        lead_clusters.filter(pl.col(s.CLUSTER_ID).is_not_null() & (pl.col(s.CLUSTER_ID) != pl.col(LABEL)))
        .select(pl.col(s.CLUSTER_ID).alias("old_cluster_id"), pl.col(LABEL).alias("new_cluster_id"))
        .unique()
        .sort("old_cluster_id")
    )
    return ClusterAssignment(
        lead_clusters=lead_clusters.select(s.LEAD_ID, pl.col(LABEL).alias(s.CLUSTER_ID)).sort(s.LEAD_ID),
        cluster_merges=merges,
    )

"""Duplicate detection: blocking keys, connected components, cluster assignment (polars)."""

from matching.components import connected_components
from matching.configuration import DedupSettings
from matching.dedupe import DEDUP_COLUMNS, ClusterAssignment, assign_clusters

__all__ = ["DEDUP_COLUMNS", "ClusterAssignment", "DedupSettings", "assign_clusters", "connected_components"]

"""Duplicate detection: blocking, comparison levels, latent-class scoring, clustering, golden records (polars)."""

from matching.blocking import BlockingReport, blocking_keys, candidate_pairs
from matching.clustering import Clustering, cluster_leads
from matching.comparisons import LEVELS, compare_pairs
from matching.components import connected_components
from matching.configuration import BlockingRule, Comparison, DedupSettings, LinkRule, Survivorship
from matching.engine import MATCH_COLUMNS, MatchOutcome, match_leads, pairs_for_storage
from matching.golden import golden_records
from matching.model import MatchModel, fit_model, score_pairs

__all__ = [
    "LEVELS", "MATCH_COLUMNS", "BlockingReport", "BlockingRule", "Clustering", "Comparison", "DedupSettings", "LinkRule",
    "MatchModel", "MatchOutcome", "Survivorship", "blocking_keys", "candidate_pairs", "cluster_leads", "compare_pairs",
    "connected_components", "fit_model", "golden_records", "match_leads", "pairs_for_storage", "score_pairs",
]

"""From scores to decisions: labels, then cannot-link and must-link rules, then thresholds.

Precedence, strongest first: a human label (``match_labels``: review import, unmerge), a
cannot-link rule, a must-link rule, the model's probability against the two thresholds.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from matching.blocking import LEFT, RIGHT
from matching.comparisons import LEVELS, MISSING, gamma_column
from matching.configuration import Comparison, DedupSettings, LinkRule
from matching.model import PROBABILITY

DECISION = "decision"
DECIDED_BY = "decided_by"
MATCH = "match"
REVIEW = "review"
NON_MATCH = "non_match"
MUST_LINK = "must_link"
CANNOT_LINK = "cannot_link"
#: Decisions that put two leads in one cluster.
LINKING = (MATCH, MUST_LINK)
LABEL = "label"
SOURCE = "source"
#: The source of the labels a person gave while looking at the pair (``leadpipe review import``),
#: as opposed to those an unmerge derives for every other member of the lead's cluster.
REVIEW_SOURCE = "review"


def _rule_condition(rule: LinkRule, comparisons: Sequence[Comparison]) -> pl.Expr:
    by_name = {c.name: c for c in comparisons}
    condition = pl.lit(True)
    for name, accepted in rule.when.items():
        levels = LEVELS[by_name[name].kind]
        indexes = [levels.index(level) for level in accepted if level in levels]
        gamma = pl.col(gamma_column(name))
        holds = gamma.is_in(indexes).fill_null(False)
        if MISSING in accepted:
            holds = holds | gamma.is_null()
        condition = condition & holds
    return condition


def latest_labels(labels: pl.DataFrame) -> pl.DataFrame:
    """The newest label of each pair (labels come oldest first): a later answer overrides."""
    return labels.select(LEFT, RIGHT, LABEL, SOURCE).unique([LEFT, RIGHT], keep="last", maintain_order=True)


def with_answers(pairs: pl.DataFrame, labels: pl.DataFrame | None) -> pl.DataFrame:
    """The pairs with ``label``: the answer a person gave about the pair itself, or null.

    A pair is answered when a review labelled it (``REVIEW_SOURCE``); its answer is its newest
    label (a later unmerge can overturn a review's "yes"). The cannot-links an unmerge writes to
    every other member of a cluster are not answers about those pairs: they keep the leads apart
    (``decide``) but do not teach the model.
    """
    if labels is None or not labels.height:
        return pairs.with_columns(pl.lit(None, pl.String).alias(LABEL))
    reviewed = labels.filter(pl.col(SOURCE) == REVIEW_SOURCE).select(LEFT, RIGHT).unique()
    answers = latest_labels(labels).join(reviewed, on=[LEFT, RIGHT], how="semi").select(LEFT, RIGHT, LABEL)
    return pairs.join(answers, on=[LEFT, RIGHT], how="left", maintain_order="left")


def anchor(settings: DedupSettings) -> pl.Expr:
    """The EM's anchor of a pair: what a person or a rule already decided about it.

    A pair's human label (column ``label``, see ``with_answers``) gives 1.0 for must-link and 0.0
    for cannot-link; otherwise the rules decide (``rule_anchor``). So a model fitted after a review
    learns from its answers: the labelled pairs count as known matches and non-matches, and the
    pairs like them are scored accordingly.
    """
    label = pl.col(LABEL)
    return pl.when(label == MUST_LINK).then(pl.lit(1.0)).when(label == CANNOT_LINK).then(pl.lit(0.0)).otherwise(rule_anchor(settings))


def rule_anchor(settings: DedupSettings) -> pl.Expr:
    """1.0 for pairs a must-link rule decides, 0.0 for cannot-link rules (which win), else null.

    The EM keeps these pairs fixed: deterministic rules anchor its two classes to "same person"
    and "different person", so it cannot drift to another split such as "same company".
    """
    anchor = pl.lit(None, pl.Float64)
    for rule in settings.must_link:
        anchor = pl.when(_rule_condition(rule, settings.comparisons)).then(pl.lit(1.0)).otherwise(anchor)
    for rule in settings.cannot_link:
        anchor = pl.when(_rule_condition(rule, settings.comparisons)).then(pl.lit(0.0)).otherwise(anchor)
    return anchor


def decide(scored: pl.DataFrame, settings: DedupSettings, labels: pl.DataFrame | None = None) -> pl.DataFrame:
    """Add ``decision`` and ``decided_by`` to scored pairs.

    Args:
        scored: pairs with gamma columns and ``match_probability``.
        settings: thresholds and rules.
        labels: ``lead_id_l``, ``lead_id_r``, ``label`` (must_link / cannot_link), ``source``.
    """
    decision = (
        pl.when(pl.col(PROBABILITY) >= settings.match_threshold).then(pl.lit(MATCH))
        .when(pl.col(PROBABILITY) >= settings.review_threshold).then(pl.lit(REVIEW))
        .otherwise(pl.lit(NON_MATCH))
    )
    decided_by = pl.lit("model")
    for rule in reversed(settings.must_link):
        condition = _rule_condition(rule, settings.comparisons)
        decision = pl.when(condition).then(pl.lit(MUST_LINK)).otherwise(decision)
        decided_by = pl.when(condition).then(pl.lit(f"rule:{rule.name}")).otherwise(decided_by)
    for rule in reversed(settings.cannot_link):
        condition = _rule_condition(rule, settings.comparisons)
        decision = pl.when(condition).then(pl.lit(CANNOT_LINK)).otherwise(decision)
        decided_by = pl.when(condition).then(pl.lit(f"rule:{rule.name}")).otherwise(decided_by)
    frame = scored.with_columns(decision.alias(DECISION), decided_by.alias(DECIDED_BY))
    if labels is not None and labels.height:
        frame = frame.join(latest_labels(labels), on=[LEFT, RIGHT], how="left", maintain_order="left").with_columns(
            pl.coalesce(pl.col(LABEL), pl.col(DECISION)).alias(DECISION),
            pl.when(pl.col(LABEL).is_not_null()).then(pl.lit("label:") + pl.col(SOURCE)).otherwise(pl.col(DECIDED_BY)).alias(DECIDED_BY),
        ).drop(LABEL, SOURCE)
    return frame


def labels_in_play(labels: pl.DataFrame, in_play: pl.Series) -> pl.DataFrame:
    """Labels for a run: a cannot-link side that is not among the leads in play stands for its
    cluster (the cluster's id is a node tied to every member in play), so an unmerged lead keeps
    its cluster apart from the other even when the run does not read it. A cannot-link that a
    newer must-link of the same pair replaced (a review "yes" after an unmerge) keeps nothing
    apart: it is left out (the pair's newest label decides, as everywhere). So is one between two
    leads of one cluster (a review "no" that conflicted with other answers): a run never cuts a
    cluster, and taken as binding it would keep every new lead out of that cluster.

    Args:
        labels: ``lead_id_l``, ``lead_id_r``, ``label``, ``source``, ``cluster_id_l``, ``cluster_id_r``.
        in_play: the new leads and the existing leads the run read.

    Returns:
        ``lead_id_l``, ``lead_id_r``, ``label``, ``source``, in the same order.
    """
    ids = in_play.implode()

    def side(lead: str, cluster: str) -> pl.Expr:
        stands_for_cluster = (pl.col(LABEL) == CANNOT_LINK) & ~pl.col(lead).is_in(ids) & pl.col(cluster).is_not_null()
        return pl.when(stands_for_cluster).then(pl.col(cluster)).otherwise(pl.col(lead)).cast(pl.Int64).alias(lead)

    within = (pl.col(LABEL) == CANNOT_LINK) & (pl.col("cluster_id_l") == pl.col("cluster_id_r")).fill_null(False)
    return standing(labels).filter(~within).select(side(LEFT, "cluster_id_l"), side(RIGHT, "cluster_id_r"), LABEL, SOURCE)


def standing(labels: pl.DataFrame) -> pl.DataFrame:
    """The labels (oldest first) without the cannot-links that a newer must-link of the same pair
    replaced: those keep nothing apart any more."""
    return labels.filter((pl.col(LABEL) != CANNOT_LINK) | (pl.col(LABEL).last().over([LEFT, RIGHT]) == CANNOT_LINK))

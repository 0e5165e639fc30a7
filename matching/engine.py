"""The matching engine: block, compare, score, decide, cluster, in one pass over a batch.

New leads are compared with each other **and** with the existing leads that share a blocking
key with them (Salesforce compares a batch only with what was saved before it). Existing pairs
are never compared again: the cost of a run grows with the batch, not with the warehouse.

Everything here is polars on frames handed in by the caller (``warehouse.clusters`` reads them
from DuckDB); nothing here touches the database, except through the ``history`` callable a caller
may hand ``match_leads`` (read only when a fit replaces the stored model).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import polars as pl

from matching.blocking import (
    LEFT, RIGHT, RULES_MASK, BlockingReport, BlockPlan, blocking_keys, pairs_in_blocks, plan_blocks, rule_names, rules_mask,
    with_key_parts,
)
from matching.clustering import RULE_LINK, STRENGTH, UNCUTTABLE, Clustering, cluster_leads
from matching.comparisons import (
    LEVELS, MISSING, compare_pairs, gamma_column, term_frequencies, uses_value_counts, with_lower_columns,
)
from matching.configuration import WAREHOUSE_MATCH_FIELDS, Comparison, DedupSettings
from matching.decisions import CANNOT_LINK, DECISION, LABEL, MATCH, MUST_LINK, anchor, decide, with_answers
from matching.model import (
    ANCHOR, PAIRS, PRIOR_WEIGHT, PROBABILITY, WEIGHT, MatchModel, fit_model, score_pairs, tf_reference_values, weight_column,
)
from transforms import schema as s

#: Lead columns the default comparisons and blocking rules use.
MATCH_COLUMNS: tuple[str, ...] = (s.LEAD_ID, *WAREHOUSE_MATCH_FIELDS)
CLUSTER_SIZE = "cluster_size"
EVENT_COLUMNS = ("event", s.CLUSTER_ID, "other_cluster_id", s.LEAD_ID, "detail")


@dataclass(frozen=True)
class MatchOutcome:
    """Everything one matching pass produced."""

    pairs: pl.DataFrame
    clustering: Clustering
    events: pl.DataFrame
    model: MatchModel
    refitted: bool
    blocking: BlockingReport
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def linked_pairs(self) -> int:
        return int(self.pairs.filter(pl.col(DECISION).is_in([MATCH, MUST_LINK])).height)


def term_frequency_tables(records: pl.DataFrame, comparisons: Sequence[Comparison]) -> dict[str, pl.DataFrame]:
    """Value counts (term frequencies) of the comparisons that use them, from these records."""
    return {c.name: term_frequencies(records, c) for c in comparisons if uses_value_counts(c) and c.field in records.columns}


def random_pairs(records: pl.DataFrame, count: int, seed: int) -> pl.DataFrame:
    """A reproducible sample of random pairs of distinct records."""
    ids = records[s.LEAD_ID].sort().to_numpy()
    if len(ids) < 2:
        return pl.DataFrame(schema={LEFT: pl.Int64, RIGHT: pl.Int64})
    rng = np.random.default_rng(seed)
    a = ids[rng.integers(0, len(ids), count)]
    b = ids[rng.integers(0, len(ids), count)]
    frame = pl.DataFrame({LEFT: np.minimum(a, b), RIGHT: np.maximum(a, b)}).filter(pl.col(LEFT) != pl.col(RIGHT))
    return frame.unique(maintain_order=True)


def needs_fit(model: MatchModel | None, settings: DedupSettings, candidate_count: int) -> bool:
    """Fit again when there is no usable model or this batch has more pairs than it saw."""
    return (
        model is None
        or settings.refit_every_run
        or not model.covers(settings.comparisons)
        or candidate_count > model.pairs_used
    )


def _events(new_ids: pl.Series, existing: pl.DataFrame, pairs: pl.DataFrame, clustering: Clustering) -> pl.DataFrame:
    assignment = clustering.assignment
    new = assignment.filter(pl.col(s.LEAD_ID).is_in(new_ids.implode()))
    with_existing = assignment.filter(pl.col(s.LEAD_ID).is_in(existing[s.LEAD_ID].implode()))[s.CLUSTER_ID].unique()
    sizes = new.group_by(s.CLUSTER_ID).len("n_new")
    # the strongest linking partner of each new lead inside its final cluster, for the detail
    linking = pairs.filter(pl.col(DECISION).is_in([MATCH, MUST_LINK])).select(LEFT, RIGHT, PROBABILITY, "decided_by")
    both = pl.concat([
        linking.select(pl.col(LEFT).alias(s.LEAD_ID), pl.col(RIGHT).alias("partner"), PROBABILITY, "decided_by"),
        linking.select(pl.col(RIGHT).alias(s.LEAD_ID), pl.col(LEFT).alias("partner"), PROBABILITY, "decided_by"),
    ])
    best = (
        both.join(assignment, on=s.LEAD_ID)
        .join(assignment.rename({s.LEAD_ID: "partner", s.CLUSTER_ID: "_pc"}), on="partner")
        .filter(pl.col(s.CLUSTER_ID) == pl.col("_pc"))
        .sort([s.LEAD_ID, PROBABILITY, "partner"], descending=[False, True, False])
        .unique(s.LEAD_ID, keep="first")
        .select(s.LEAD_ID, "partner", PROBABILITY, "decided_by")
    )
    joined = (
        new.join(sizes, on=s.CLUSTER_ID)
        .with_columns(pl.col(s.CLUSTER_ID).is_in(with_existing.implode()).alias("_has_existing"))
        .filter(pl.col("_has_existing") | (pl.col("n_new") > 1))
        .join(best, on=s.LEAD_ID, how="left")
    )
    member = joined.select(
        pl.when(~pl.col("_has_existing") & (pl.col(s.LEAD_ID) == pl.col(s.CLUSTER_ID))).then(pl.lit("create"))
        .otherwise(pl.lit("join")).alias("event"),
        s.CLUSTER_ID,
        pl.lit(None, pl.Int64).alias("other_cluster_id"),
        s.LEAD_ID,
        pl.when(pl.col("partner").is_not_null())
        .then(pl.format("linked to lead {} (p={}, {})", pl.col("partner"), pl.col(PROBABILITY).round(4), pl.col("decided_by")))
        .otherwise(pl.lit("first lead of the cluster"))
        .alias("detail"),
    )
    merges = clustering.merges.select(
        pl.lit("merge").alias("event"), pl.col("new_cluster_id").alias(s.CLUSTER_ID), pl.col("old_cluster_id").alias("other_cluster_id"),
        pl.lit(None, pl.Int64).alias(s.LEAD_ID), pl.format("cluster {} merged into {}", "old_cluster_id", "new_cluster_id").alias("detail"),
    )
    splits = clustering.splits.select(
        pl.lit("split").alias("event"), s.CLUSTER_ID, pl.col("part_cluster_id").alias("other_cluster_id"),
        pl.lit(None, pl.Int64).alias(s.LEAD_ID),
        pl.format("kept apart from cluster {}: {}", s.CLUSTER_ID, pl.coalesce(pl.col("reason"), pl.lit("weak links"))).alias("detail"),
    )
    order = {"merge": 0, "split": 1, "create": 2, "join": 3}
    return (
        pl.concat([merges, splits, member], how="vertical_relaxed")
        .with_columns(pl.col("event").replace_strict(order, return_dtype=pl.Int8).alias("_o"))
        .sort("_o", s.CLUSTER_ID, s.LEAD_ID, "other_cluster_id", nulls_last=True)
        .drop("_o")
        .select(EVENT_COLUMNS)
    )


def match_leads(
    new: pl.DataFrame,
    settings: DedupSettings,
    *,
    new_keys: pl.DataFrame | None = None,
    existing: pl.DataFrame | None = None,
    existing_keys: pl.DataFrame | None = None,
    plan: BlockPlan | None = None,
    labels: pl.DataFrame | None = None,
    tf_tables: dict[str, pl.DataFrame] | None = None,
    model: MatchModel | None = None,
    history: Callable[[], pl.DataFrame] | None = None,
) -> MatchOutcome:
    """Find the duplicates of new leads among themselves and the existing leads, and cluster them.

    Args:
        new: the leads to cluster (``lead_id`` and the compared fields).
        settings: the dedup settings.
        new_keys: their blocking keys (computed when None).
        existing: clustered leads that share a block a new lead can be paired in (at least those:
            ``BlockPlan.stored_leads``), with ``cluster_id`` and ``cluster_size`` (the full size of
            their cluster).
        existing_keys: the stored keys in the blocks of the new leads, also of leads not in
            ``existing`` (they make a block oversized).
        plan: the blocks to join, when the caller planned them already (``plan_blocks`` of
            ``new_keys`` and ``existing_keys``, to learn which leads to read): not planned again.
        labels: must/cannot-link labels touching these leads (``lead_id_l``, ``lead_id_r``,
            ``label``, ``source``); a cannot-link may name a cluster id for a member not read
            (``decisions.labels_in_play``).
        tf_tables: term-frequency tables per comparison (computed from the records when None).
        model: a stored model, reused unless a refit is needed (``needs_fit``).
        history: the stored pairs' levels and labels (as ``refit_model`` takes them), read when a
            fit replaces ``model``: the new model is fitted on them and this batch's pairs together,
            so it keeps what the pairs of earlier runs and their review answers taught.

    Returns:
        The outcome: scored pairs, clustering, events, the model used.
    """
    timings: dict[str, float] = {}
    clock = time.perf_counter()
    planned = plan.seconds if plan is not None else 0.0  # blocking work done before the call
    columns = [c for c in new.columns if c != s.CLUSTER_ID]
    if existing is None:
        existing = pl.DataFrame(schema={**new.select(columns).schema, s.CLUSTER_ID: pl.Int64, CLUSTER_SIZE: pl.Int64})
    records = (
        pl.concat([new.select(columns), existing.select(columns)], how="vertical_relaxed").unique(s.LEAD_ID, keep="first")
        if existing.height else new.select(columns)
    )
    if not existing.height:
        # the transformed key parts once, for blocking and for the comparisons that reuse them
        records = with_key_parts(records, settings.blocking_rules)
    if plan is None and new_keys is None:
        new_keys = blocking_keys(records if not existing.height else new, settings.blocking_rules)
    # keep only the parts a comparison reuses (memory: each is a string per record)
    records = records.drop([c for c in records.columns if ":" in c and not c.endswith(":canonical_email")])
    if plan is None:
        plan = plan_blocks(new_keys, existing_keys, settings.blocking_rules, settings.max_block_size)
    # the keys (strings: 360 MB at 1M leads) go before the join, which holds the run's peak memory
    new_keys = existing_keys = None
    pairs, report = pairs_in_blocks(plan, settings.blocking_rules)
    del plan
    timings["block"] = time.perf_counter() - clock + planned

    clock = time.perf_counter()
    refitted = needs_fit(model, settings, pairs.height)
    # random pairs (to show how often strangers agree) are compared in the same pass
    sample = random_pairs(records, settings.random_pairs, settings.seed) if refitted else None
    both = pairs if sample is None else pl.concat([pairs, sample.with_columns(pl.lit(0, pl.Int64).alias(RULES_MASK))])
    if tf_tables is None:
        records = with_lower_columns(records, settings.comparisons)
        tf_tables = term_frequency_tables(records, settings.comparisons)
    compared = compare_pairs(both, records, settings.comparisons, tf_tables)
    gammas = compared.head(pairs.height)
    random_gammas = compared.slice(pairs.height) if sample is not None else None
    timings["compare"] = time.perf_counter() - clock

    clock = time.perf_counter()
    if refitted:
        # the pairs a person answered (review labels) count as known matches and non-matches
        anchored = with_answers(gammas, labels).with_columns(anchor(settings).alias(ANCHOR), pl.lit(1, pl.Int64).alias(PAIRS))
        if model is not None and model.covers(settings.comparisons) and history is not None:  # its pairs count too
            read = time.perf_counter()
            past = history()
            timings["history"] = time.perf_counter() - read
            anchored = pl.concat([anchored.select(_fit_columns(settings)), _anchored_history(past, settings).select(_fit_columns(settings))])
        model = fit_model(
            anchored, settings.comparisons, classes=settings.non_match_classes, max_iterations=settings.em_max_iterations, random_gammas=random_gammas,
            tf_reference=tf_reference_values(gammas, settings.comparisons),
        )
        model = replace(model, labels_used=sum(_answer_counts(anchored).values()))
    assert model is not None
    scored = decide(score_pairs(gammas, settings.comparisons, model), settings, labels)
    timings["score"] = time.perf_counter() - clock - timings.get("history", 0.0)  # the read is not scoring

    clock = time.perf_counter()
    links = scored.filter(pl.col(DECISION).is_in([MATCH, MUST_LINK])).select(
        LEFT, RIGHT,
        pl.when(pl.col(DECISION) != MUST_LINK).then(pl.col(WEIGHT))
        .when(pl.col("decided_by").str.starts_with("label:")).then(UNCUTTABLE)
        .otherwise(RULE_LINK + pl.col(WEIGHT).clip(-RULE_LINK / 4, RULE_LINK / 4)).alias(STRENGTH)
    )
    cannot = scored.filter(pl.col(DECISION) == CANNOT_LINK).select(LEFT, RIGHT)
    if labels is not None and labels.height:
        cannot = pl.concat([cannot, labels.filter(pl.col(LABEL) == CANNOT_LINK).select(LEFT, RIGHT)]).unique()
    clustering = cluster_leads(
        new[s.LEAD_ID],
        links,
        existing.select(s.LEAD_ID, s.CLUSTER_ID, CLUSTER_SIZE),
        cannot,
        max_cluster_size=settings.max_cluster_size,
    )
    events = _events(new[s.LEAD_ID], existing, scored, clustering)
    timings["cluster"] = time.perf_counter() - clock
    return MatchOutcome(
        pairs=scored, clustering=clustering, events=events, model=model, refitted=refitted, blocking=report,
        timings=timings,
    )


def score_pair(
    records: pl.DataFrame,
    settings: DedupSettings,
    model: MatchModel,
    tf_tables: dict[str, pl.DataFrame],
    *,
    blocking_rules: Sequence[str] = (),
    labels: pl.DataFrame | None = None,
) -> dict:
    """Compare and score two leads as a run would, whether or not a run ever paired them.

    Args:
        records: the two leads (``lead_id`` and the compared fields).
        settings: the dedup settings (comparisons, thresholds, rules).
        model: the model to weigh the levels with.
        tf_tables: term-frequency tables per comparison, from the whole warehouse (two records
            alone would make every value rare).
        blocking_rules: the rules that pair them (recorded on the result; none is allowed).
        labels: must/cannot-link labels between them (``lead_id_l``, ``lead_id_r``, ``label``, ``source``).

    Returns:
        The pair as ``pairs_for_storage`` gives it (a ``match_pairs`` row, without ``created_at``).

    Raises:
        ValueError: ``records`` does not hold exactly two leads.
    """
    ids = sorted(set(records[s.LEAD_ID].to_list()))
    if len(ids) != 2:
        raise ValueError(f"score_pair takes two leads, not {len(ids)}")
    pair = pl.DataFrame(
        {LEFT: [ids[0]], RIGHT: [ids[1]], RULES_MASK: [rules_mask(blocking_rules, settings.blocking_rules)]},
        schema={LEFT: pl.Int64, RIGHT: pl.Int64, RULES_MASK: pl.Int64},
    )
    gammas = compare_pairs(pair, records, settings.comparisons, tf_tables)
    scored = decide(score_pairs(gammas, settings.comparisons, model), settings, labels)
    return pairs_for_storage(scored, settings).row(0, named=True)


def refit_model(stored_levels: pl.DataFrame, settings: DedupSettings, previous: MatchModel) -> tuple[MatchModel, dict[str, int]]:
    """Fit the model again on stored pairs' levels, the labelled pairs as known answers.

    Args:
        stored_levels: per combination of levels (``level_<name>``) and newest label (``label``,
            null when none), how many stored pairs have it (``pairs``).
        settings: the comparisons, classes and rules (rule-decided pairs are anchored too).
        previous: the model replaced: its random-pair frequencies and term-frequency references
            carry over (stored pairs hold neither).

    Returns:
        The model (``labels_used``: the labelled pairs) and the labelled pairs per label.
    """
    gammas = _anchored_history(stored_levels, settings)
    model = fit_model(
        gammas, settings.comparisons, classes=settings.non_match_classes,
        max_iterations=settings.em_max_iterations, tf_reference=previous.tf_reference, u_random=previous.u_random,
    )
    counts = _answer_counts(gammas)
    return replace(model, labels_used=sum(counts.values())), counts


def _answer_counts(anchored: pl.DataFrame) -> dict[str, int]:
    """Answered pairs per answer (must_link / cannot_link) among the EM's input rows."""
    answered = anchored.filter(pl.col(LABEL).is_not_null()).group_by(LABEL).agg(pl.col(PAIRS).sum())
    return {str(label): int(n) for label, n in answered.iter_rows()}


def _anchored_history(stored_levels: pl.DataFrame, settings: DedupSettings) -> pl.DataFrame:
    """Stored pairs' level patterns as the EM takes them: codes, anchors, pairs per row."""
    return gammas_from_levels(stored_levels, settings.comparisons).rename({"pairs": PAIRS}).with_columns(anchor(settings).alias(ANCHOR))


def _fit_columns(settings: DedupSettings) -> list[pl.Expr]:
    return [*[pl.col(gamma_column(c.name)).cast(pl.Int8) for c in settings.comparisons], pl.col(LABEL).cast(pl.String), ANCHOR, pl.col(PAIRS).cast(pl.Int64)]


def gammas_from_levels(stored: pl.DataFrame, comparisons: Sequence[Comparison]) -> pl.DataFrame:
    """Stored level labels (``level_<name>``, as ``pairs_for_storage`` writes them) back to the
    ``gamma_<name>`` codes the model works on; other columns are kept.

    Raises:
        ValueError: a stored level that the comparison does not have (stored by another version).
    """
    codes = []
    for c in comparisons:
        labels = list(LEVELS[c.kind])
        column = f"level_{c.name}"
        unknown = stored.filter(~pl.col(column).cast(pl.String).is_in([*labels, MISSING]))[column].unique().to_list()
        if unknown:
            raise ValueError(f"stored level(s) {', '.join(map(str, unknown))} of {c.name} are not levels of a {c.kind} comparison")
        codes.append(
            pl.col(column).cast(pl.String).replace_strict(labels, list(range(len(labels))), default=None, return_dtype=pl.Int8)
            .alias(gamma_column(c.name))
        )
    return stored.with_columns(codes).drop([f"level_{c.name}" for c in comparisons])


def pairs_for_storage(pairs: pl.DataFrame, settings: DedupSettings) -> pl.DataFrame:
    """Scored pairs as ``match_pairs`` rows: rule names, level labels and weights per comparison."""
    columns = [
        LEFT, RIGHT, rule_names(pl.col(RULES_MASK), settings.blocking_rules).alias("blocking_rules"),
    ]
    for c in settings.comparisons:
        labels = list(LEVELS[c.kind])
        columns.append(
            pl.col(gamma_column(c.name)).replace_strict(list(range(len(labels))), labels, return_dtype=pl.String)
            .fill_null(MISSING).alias(f"level_{c.name}")
        )
        columns.append(pl.col(weight_column(c.name)).round(4).alias(f"weight_{c.name}"))
    columns += [
        pl.col(PRIOR_WEIGHT).round(4), pl.col(WEIGHT).round(4), pl.col(PROBABILITY).round(6), DECISION, "decided_by",
    ]
    return pairs.select(columns).sort(LEFT, RIGHT)

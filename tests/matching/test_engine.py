"""matching.engine: the stored form of pairs, and fitting the model again from it."""

from __future__ import annotations

import polars as pl
import pytest

from benchmarks.matching_data import generated_leads
from matching.blocking import BlockPlan, blocking_keys, plan_blocks
from matching.comparisons import gamma_column, with_lower_columns
from matching.configuration import DedupSettings
from matching.decisions import CANNOT_LINK, LABEL, MUST_LINK
from matching.engine import (
    CLUSTER_SIZE, MATCH_COLUMNS, MatchOutcome, gammas_from_levels, match_leads, pairs_for_storage, refit_model, score_pair,
    term_frequency_tables,
)

SETTINGS = DedupSettings()


@pytest.fixture(scope="module")
def leads() -> pl.DataFrame:
    return generated_leads(3_000, noise="hard", seed=23).select(MATCH_COLUMNS)


@pytest.fixture(scope="module")
def outcome(leads: pl.DataFrame) -> MatchOutcome:
    return match_leads(leads, SETTINGS)


def _patterns(stored: pl.DataFrame) -> pl.DataFrame:
    """What ``warehouse.clusters.stored_level_patterns`` reads: pairs per levels and label."""
    levels = [f"level_{c.name}" for c in SETTINGS.comparisons]
    return stored.select(*levels, LABEL).group_by(*levels, LABEL).agg(pl.len().alias("pairs"))


def test_stored_levels_read_back_as_the_levels_compared(outcome: MatchOutcome) -> None:
    stored = pairs_for_storage(outcome.pairs, SETTINGS)
    back = gammas_from_levels(stored, SETTINGS.comparisons)
    gammas = [gamma_column(c.name) for c in SETTINGS.comparisons]
    compared = outcome.pairs.sort("lead_id_l", "lead_id_r").select("lead_id_l", "lead_id_r", *gammas)
    assert back.select("lead_id_l", "lead_id_r", *gammas).equals(compared)
    assert back[gamma_column("phone")].null_count() > 0  # 'missing' reads back as no level


def test_a_refit_without_answers_finds_the_model_of_the_run(outcome: MatchOutcome) -> None:
    stored = pairs_for_storage(outcome.pairs, SETTINGS).with_columns(pl.lit(None, pl.String).alias(LABEL))
    model, counts = refit_model(_patterns(stored), SETTINGS, outcome.model)
    assert counts == {}
    assert model == outcome.model


def test_a_refit_counts_the_answers_and_they_change_the_model(outcome: MatchOutcome) -> None:
    stored = pairs_for_storage(outcome.pairs, SETTINGS)
    review = stored.filter(pl.col("decision") == "review")
    assert review.height >= 4
    # half the uncertain pairs answered each way
    answers = review.select("lead_id_l", "lead_id_r").with_row_index().select(
        "lead_id_l", "lead_id_r", pl.when(pl.col("index") % 2 == 0).then(pl.lit(MUST_LINK)).otherwise(pl.lit(CANNOT_LINK)).alias(LABEL)
    )
    answered = stored.join(answers, on=["lead_id_l", "lead_id_r"], how="left")
    model, counts = refit_model(_patterns(answered), SETTINGS, outcome.model)
    assert counts == {MUST_LINK: (review.height + 1) // 2, CANNOT_LINK: review.height // 2}
    assert model.labels_used == review.height
    assert model.levels != outcome.model.levels


def test_a_run_that_fits_the_model_anchors_the_answered_pairs(outcome: MatchOutcome) -> None:
    """The first run (or any run that fits) learns from the labels of its candidate pairs too."""
    leads = generated_leads(3_000, noise="hard", seed=23).select(MATCH_COLUMNS)
    review = outcome.pairs.filter(pl.col("decision") == "review").select("lead_id_l", "lead_id_r")
    labels = review.with_columns(pl.lit(CANNOT_LINK).alias(LABEL), pl.lit("review").alias("source"))
    again = match_leads(leads, SETTINGS, labels=labels)
    assert again.refitted and again.model.labels_used == review.height
    assert again.model.levels != outcome.model.levels
    decided = again.pairs.join(review, on=["lead_id_l", "lead_id_r"], how="semi")
    assert decided["decision"].to_list() == [CANNOT_LINK] * review.height


def test_a_stored_level_the_comparison_does_not_have_is_refused(outcome: MatchOutcome) -> None:
    stored = pairs_for_storage(outcome.pairs, SETTINGS).with_columns(
        pl.when(pl.int_range(pl.len()) == 0).then(pl.lit("vowel_shift")).otherwise(pl.col("level_first_name")).alias("level_first_name")
    )
    with pytest.raises(ValueError, match="vowel_shift of first_name are not levels"):
        gammas_from_levels(stored, SETTINGS.comparisons)


def test_a_plan_made_by_the_caller_is_the_one_joined() -> None:
    """An incremental run plans its blocks to learn which stored leads to read, and hands that
    plan to the engine: the run is the one the engine would make planning them itself."""
    leads = generated_leads(3_000, noise="hard", seed=29).select(MATCH_COLUMNS)
    old, new = leads.head(2_000), leads.tail(1_000)
    first = match_leads(old, SETTINGS)
    assignment = first.clustering.assignment
    sizes = assignment.group_by("cluster_id").agg(pl.len().cast(pl.Int64).alias(CLUSTER_SIZE))
    new_keys, old_keys = blocking_keys(new, SETTINGS.blocking_rules), blocking_keys(old, SETTINGS.blocking_rules)
    plan = plan_blocks(new_keys, old_keys, SETTINGS.blocking_rules, SETTINGS.max_block_size)
    existing = (
        old.filter(pl.col("lead_id").is_in(plan.stored_leads().implode()))
        .join(assignment, on="lead_id").join(sizes, on="cluster_id")
    )
    assert 0 < existing.height < old.height  # the plan reads some stored leads, not all

    def run(**planned: BlockPlan) -> MatchOutcome:
        return match_leads(new, SETTINGS, new_keys=new_keys, existing=existing, existing_keys=old_keys, model=first.model, **planned)

    given, own = run(plan=plan), run()
    assert given.pairs.height > 0
    assert given.pairs.sort("lead_id_l", "lead_id_r").equals(own.pairs.sort("lead_id_l", "lead_id_r"))
    assert given.clustering.assignment.equals(own.clustering.assignment)
    # the engine joins the plan it is given: one with no keys makes no pairs
    empty = BlockPlan(keys=plan.keys.head(0), oversized=plan.oversized.head(0))
    assert run(plan=empty).pairs.is_empty()
    # the time the caller spent planning is blocking time: the engine's figures include it
    slow = BlockPlan(keys=plan.keys, oversized=plan.oversized, seconds=60.0)
    assert plan.seconds > 0 and run(plan=slow).timings["block"] >= 60.0 > own.timings["block"]


def test_two_leads_scored_alone_get_the_row_the_run_gave_them(leads: pl.DataFrame, outcome: MatchOutcome) -> None:
    """``score_pair`` (what `leadpipe explain A --with B` shows) compares and weighs two leads
    exactly as the run did, given the run's model and term frequencies: every kind of decision."""
    stored = pairs_for_storage(outcome.pairs, SETTINGS)
    tf_tables = term_frequency_tables(with_lower_columns(leads, SETTINGS.comparisons), SETTINGS.comparisons)
    picked = pl.concat([stored.filter(pl.col("decision") == d).head(15) for d in stored["decision"].unique().sort()])
    assert picked["decision"].n_unique() >= 3
    for row in picked.iter_rows(named=True):
        two = leads.filter(pl.col("lead_id").is_in([row["lead_id_l"], row["lead_id_r"]]))
        again = score_pair(two, SETTINGS, outcome.model, tf_tables, blocking_rules=row["blocking_rules"])
        assert again == row
    with pytest.raises(ValueError, match="two leads"):
        score_pair(leads.head(1), SETTINGS, outcome.model, tf_tables)

"""The latent-class Fellegi-Sunter model: EM against recordlinkage's ECM, calibration, scoring."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pytest
import recordlinkage

from benchmarks.matching_data import best_threshold, generated_leads, pair_scores, true_pairs
from matching.comparisons import LEVELS, gamma_column
from matching.configuration import Comparison, DedupSettings
from matching.engine import MATCH_COLUMNS, match_leads
from matching.model import (
    ANCHOR, IDENTIFYING, PAIRS, PROBABILITY, WEIGHT, MatchModel, _cap_identifying, _identifying, fit_model, score_pairs,
    weight_column,
)

# three-level comparisons used with two levels only (0 = agree, 2 = disagree)
BINARY = [Comparison(name=f"f{i}", kind="postal_code", field=f"f{i}") for i in range(3)]


def binary_sample(n: int, seed: int = 1) -> tuple[pl.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    is_match = rng.random(n) < 0.2
    m, u = np.array([0.95, 0.9, 0.85]), np.array([0.1, 0.05, 0.2])
    agree = np.where(is_match[:, None], rng.random((n, 3)) < m, rng.random((n, 3)) < u)
    frame = pl.DataFrame({gamma_column(f"f{i}"): np.where(agree[:, i], 0, 2).astype(np.int8) for i in range(3)})
    return frame, agree


def test_em_agrees_with_recordlinkage_ecm_on_binary_data() -> None:
    gammas, agree = binary_sample(20_000)
    ours = fit_model(gammas, BINARY, classes=1, pseudo_pairs=0.0, max_iterations=500)
    ecm = recordlinkage.ECMClassifier(binarize=None, max_iter=500)
    ecm.fit(pd.DataFrame(agree.astype(int), columns=["f0", "f1", "f2"]))
    for i in range(3):
        assert ours.m[f"f{i}"][0] == pytest.approx(ecm.m_probs[f"f{i}"][1], abs=0.01)
        assert ours.u(f"f{i}")[0] == pytest.approx(ecm.u_probs[f"f{i}"][1], abs=0.01)
    assert ours.prior == pytest.approx(ecm.p, abs=0.01)
    # and both find the generating parameters
    assert ours.m["f0"][0] == pytest.approx(0.95, abs=0.02)
    assert ours.prior == pytest.approx(0.2, abs=0.02)


def test_weights_add_up_to_the_posterior() -> None:
    gammas, _ = binary_sample(5_000, seed=3)
    model = fit_model(gammas, BINARY, classes=2)
    scored = score_pairs(gammas, BINARY, model)
    total = scored.select(pl.sum_horizontal([pl.col(weight_column(c.name)) for c in BINARY]) + pl.col("prior_weight")).to_series()
    assert np.allclose(total.to_numpy(), scored[WEIGHT].to_numpy())
    # the posterior computed directly from the mixture
    row = gammas.row(0, named=True)
    like = []
    for cls, share in enumerate(model.shares):
        p = share
        for c in BINARY:
            p *= model.levels[cls][c.name][row[gamma_column(c.name)]]
        like.append(p)
    assert scored[PROBABILITY][0] == pytest.approx(like[0] / sum(like), rel=1e-6)


def test_model_round_trips_through_json() -> None:
    gammas, _ = binary_sample(2_000)
    model = fit_model(gammas, BINARY, classes=2)
    again = MatchModel.from_json(model.to_json())
    assert again == model
    assert again.covers(BINARY)
    assert not again.covers(BINARY[:2])


@pytest.fixture(scope="module")
def hard_leads() -> pl.DataFrame:
    return generated_leads(6_000, noise="hard", seed=11)


def test_default_threshold_is_calibrated_on_hard_lead_data(hard_leads: pl.DataFrame) -> None:
    """Name-built emails and shared switchboards must not push colleagues over p >= 0.5."""
    settings = DedupSettings()
    outcome = match_leads(hard_leads.select(MATCH_COLUMNS), settings)
    truth = true_pairs(hard_leads)
    predicted = outcome.pairs.filter(pl.col("decision").is_in(["match", "must_link"])).select("lead_id_l", "lead_id_r")
    at_default = pair_scores(predicted, truth)["f1"]
    _, best = best_threshold(outcome.pairs, truth)
    assert at_default > 0.9
    assert best - at_default < 0.02


def test_non_match_classes_never_share_a_contact_point_more_often_than_duplicates(hard_leads: pl.DataFrame) -> None:
    """u <= m on identifying levels: an exact phone or e-mail never counts against a match."""
    outcome = match_leads(hard_leads.select(MATCH_COLUMNS), DedupSettings())
    model = outcome.model
    for name, kind in (("phone", "phone"), ("email", "email")):
        for level in IDENTIFYING[kind]:
            index = LEVELS[kind].index(level)
            for cls in model.levels[1:]:
                assert cls[name][index] <= model.m[name][index] + 1e-9
    scored = outcome.pairs.filter(pl.col(gamma_column("phone")) == LEVELS["phone"].index("exact"))
    assert scored.height and (scored[weight_column("phone")] >= 0).all()


def test_cap_moves_the_excess_to_the_other_levels() -> None:
    m = [np.array([0.1, 0.6, 0.1, 0.1, 0.1])]  # phone levels: mobile, exact, shared_org, last7, different
    u = [np.array([0.05, 0.5, 0.05, 0.0, 0.4])]
    levels = [m, u]
    _cap_identifying(levels, _identifying([Comparison(name="phone", kind="phone", field="phone")]))
    capped = levels[1][0]
    assert capped.sum() == pytest.approx(1.0, abs=1e-4)
    assert capped[0] == pytest.approx(0.05) and capped[1] == pytest.approx(0.5)  # already below m: unchanged
    levels = [[np.array([0.1, 0.2, 0.3, 0.2, 0.2])], [np.array([0.0, 0.5, 0.1, 0.0, 0.4])]]
    _cap_identifying(levels, _identifying([Comparison(name="phone", kind="phone", field="phone")]))
    capped = levels[1][0]
    assert capped[1] == pytest.approx(0.2, abs=1e-6)
    assert capped.sum() == pytest.approx(1.0, abs=1e-4)
    assert capped[4] / capped[2] == pytest.approx(4.0)  # the excess is shared in proportion


def test_reference_model_has_levels_for_every_default_comparison() -> None:
    # refit with benchmarks/fit_reference_model.py when a comparison is added or its levels change
    from matching.model import reference_model

    levels = reference_model()["levels"]
    for c in DedupSettings().comparisons:
        assert c.name in levels, c.name
        assert all(len(cls) == len(LEVELS[c.kind]) for cls in levels[c.name])


def test_rows_standing_for_many_pairs_fit_as_those_pairs() -> None:
    """A refit from stored pairs hands the EM one row per level pattern with its number of pairs."""
    gammas, _ = binary_sample(5_000)
    counted = gammas.group_by(gammas.columns).agg(pl.len().alias(PAIRS))
    assert counted.height < 10
    assert fit_model(counted, BINARY, classes=2) == fit_model(gammas, BINARY, classes=2)


def test_answered_pairs_stay_fixed_and_the_model_follows_them() -> None:
    """Pairs with an anchor (a review answer, a rule) keep it through the EM: answer 'not a match'
    for every pair agreeing on f0 and f1 but not on f2, mostly matches in this data, and the model
    fitted with those answers scores such a pair as a non-match."""
    gammas, _ = binary_sample(20_000)
    pattern = (pl.col(gamma_column("f0")) == 0) & (pl.col(gamma_column("f1")) == 0) & (pl.col(gamma_column("f2")) == 2)
    one = gammas.filter(pattern).head(1)
    free = fit_model(gammas, BINARY, classes=1)
    answered = fit_model(gammas.with_columns(pl.when(pattern).then(pl.lit(0.0)).alias(ANCHOR)), BINARY, classes=1)
    assert score_pairs(one, BINARY, free)[PROBABILITY][0] > 0.8
    assert score_pairs(one, BINARY, answered)[PROBABILITY][0] < 0.2
    # and answering 'match' for them keeps them matches, with more certainty than the free fit
    sure = fit_model(gammas.with_columns(pl.when(pattern).then(pl.lit(1.0)).alias(ANCHOR)), BINARY, classes=1)
    assert score_pairs(one, BINARY, sure)[PROBABILITY][0] > score_pairs(one, BINARY, free)[PROBABILITY][0]

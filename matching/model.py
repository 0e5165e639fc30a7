"""Fellegi-Sunter scoring with a latent-class model estimated by EM, without labels.

Classic Fellegi-Sunter has two classes, matches and non-matches, and assumes that fields agree
independently within each class. Among candidate pairs of lead data that assumption fails for
the non-matches: blocking keeps pairs that already agree on something, and those are mostly
*kinds* of different people that agree on whole groups of fields at once: colleagues (same
company, switchboard phone, address and e-mail domain), namesakes (same name, nothing else),
neighbours. Splink's two-class EM with u from random pairs counts each of those agreements as
independent, rare evidence and pushes colleagues over p >= 0.5 (F1 0.14 on such data). Here the
non-matches are a mixture of ``non_match_classes`` latent classes, each with its own level
probabilities, fitted by EM together with the match class: within a class the fields are nearly
independent again, so the posterior is calibrated and p >= 0.5 is close to the best threshold.

Identification without labels: pairs decided by the deterministic must-link and cannot-link
rules (``matching.decisions.rule_anchor``) keep a fixed match responsibility, which ties class 0
to "same person"; the other pairs start from a seed (most present comparisons at their top
levels). Pairs a person answered in a review, when there are some, are held fixed the same way
(``matching.decisions.anchor``): the model learns from them without needing them. Pseudo-counts
from reference parameters (``data/reference_model.json``, uniform when absent) keep tiny batches
(a trade-show list of 40 rows) from producing wild estimates.

Random pairs are still sampled: their level frequencies are stored with the model (``u_random``)
for inspection. Term frequencies give the value-specific adjustment: an exact match on a value
is worth ``log2(tf_ref / tf(value))`` bits more than average, where ``tf_ref`` is the median
share of the values that agree in the fitted pairs ("Smith" = "Smith" counts less than
"Wójcik" = "Wójcik"), clipped to [-4, +4] bits.

recordlinkage's ``ECMClassifier`` is not used for fitting: it takes binary features only (our
levels have up to seven values), has two classes, and works row by row on a pandas frame of all
pairs; this EM runs on the distinct level patterns (a few thousand rows whatever the number of
pairs) with numpy. With one non-match class and binary data it is the same estimator, and a
test checks it against recordlinkage's ECM.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import numpy as np
import polars as pl

from matching.comparisons import LEVELS, gamma_column, tf_column
from matching.configuration import Comparison

WEIGHT = "match_weight"
PROBABILITY = "match_probability"
PRIOR_WEIGHT = "prior_weight"
TF_CLIP = 4.0
_EPS = 1e-6


def weight_column(name: str) -> str:
    return f"weight_{name}"


@dataclass(frozen=True)
class MatchModel:
    """Estimated parameters of the latent-class model.

    Class 0 is "same person"; classes 1.. are kinds of different people (colleagues,
    namesakes, strangers sharing a postcode...). ``shares`` are the class shares among
    candidate pairs; ``levels[c][name]`` the level probabilities of each comparison in class c.
    """

    shares: list[float]
    levels: list[dict[str, list[float]]]
    pairs_used: int
    iterations: int = 0
    u_random: dict[str, list[float]] = field(default_factory=dict)
    tf_reference: dict[str, float] = field(default_factory=dict)
    #: pairs whose answer a person gave (review labels): fixed as known matches or non-matches
    labels_used: int = 0

    @property
    def prior(self) -> float:
        return self.shares[0]

    @property
    def m(self) -> dict[str, list[float]]:
        return self.levels[0]

    def u(self, name: str) -> list[float]:
        """Level probabilities of a comparison among non-matches (all classes together)."""
        total = sum(self.shares[1:])
        probs = np.zeros(len(self.levels[0][name]))
        for share, cls in zip(self.shares[1:], self.levels[1:], strict=True):
            probs += share / total * np.asarray(cls[name])
        return probs.tolist()

    def to_json(self) -> str:
        return json.dumps(
            {"shares": self.shares, "levels": self.levels, "pairs_used": self.pairs_used, "iterations": self.iterations,
             "u_random": self.u_random, "tf_reference": self.tf_reference, "labels_used": self.labels_used},
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> MatchModel:
        return cls(**json.loads(text))

    def covers(self, comparisons: Sequence[Comparison]) -> bool:
        """Whether the model has parameters for exactly these comparisons and levels."""
        names = {c.name for c in comparisons}
        return set(self.levels[0]) == names and all(len(self.levels[0][c.name]) == len(LEVELS[c.kind]) for c in comparisons)


def reference_model() -> dict[str, Any]:
    """Level probabilities by comparison kind and class, fitted on generated lead data."""
    text = resources.files("matching").joinpath("data", "reference_model.json").read_text("utf-8")
    return json.loads(text)


ANCHOR = "_lp_anchor"
PATTERN = "_lp_pattern"
#: Optional column of ``fit_model``'s input: how many pairs a row stands for (default one).
PAIRS = "_lp_pairs"


def pattern_key(comparisons: Sequence[Comparison]) -> pl.Expr:
    """One integer per combination of levels (4 bits per comparison; missing = 0)."""
    key = pl.lit(0, pl.Int64)
    for k, c in enumerate(comparisons):
        key = key + (pl.col(gamma_column(c.name)).cast(pl.Int64).fill_null(-1) + 1) * (16**k)
    return key


def _patterns(gammas: pl.DataFrame, comparisons: Sequence[Comparison]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    cols = [gamma_column(c.name) for c in comparisons]
    anchor = pl.col(ANCHOR) if ANCHOR in gammas.columns else pl.lit(None, pl.Float64).alias(ANCHOR)
    pairs = pl.col(PAIRS).cast(pl.Float64) if PAIRS in gammas.columns else pl.lit(1.0).alias(PAIRS)
    grouped = (
        gammas.select(pattern_key(comparisons).alias(PATTERN), *cols, anchor, pairs)
        .group_by(PATTERN, ANCHOR)
        .agg(pl.col(PAIRS).sum().alias("len"), *[pl.col(c).first() for c in cols])
        .sort(PATTERN, ANCHOR, nulls_last=True)
    )
    codes = np.stack([grouped[c].fill_null(-1).to_numpy().astype(np.int64) for c in cols], axis=1) if cols else np.zeros(
        (grouped.height, 0), dtype=np.int64
    )
    anchors = grouped[ANCHOR].fill_null(np.nan).to_numpy().astype(np.float64)
    return codes, grouped["len"].to_numpy().astype(np.float64), anchors


#: Levels that are a personal contact point in common (the same address, the same direct or
#: mobile number). A kind of different people may share a company, a street or a surname more
#: often than duplicates do (colleagues do), but never these: the EM is held to u <= m on them.
#: Without this it can make a "non-match" class out of duplicates that changed company but
#: kept their phone, and an exact phone would count against a match.
IDENTIFYING: dict[str, tuple[str, ...]] = {
    "email": ("exact", "variant"),
    "phone": ("mobile", "exact"),
    "identifier": ("exact",),
}


def _identifying(comparisons: Sequence[Comparison]) -> list[np.ndarray]:
    return [
        np.asarray([LEVELS[c.kind].index(level) for level in IDENTIFYING.get(c.kind, ())], dtype=np.int64)
        for c in comparisons
    ]


def _cap_identifying(levels: list[list[np.ndarray]], identifying: list[np.ndarray]) -> None:
    """Hold every non-match class to u <= m on identifying levels; the excess goes to the other levels."""
    for k, index in enumerate(identifying):
        if not len(index):
            continue
        m = levels[0][k]
        rest = np.ones(len(m), dtype=bool)
        rest[index] = False
        for cls in range(1, len(levels)):
            u = levels[cls][k].copy()
            excess = float(np.clip(u[index] - m[index], 0.0, None).sum())
            if excess <= 0 or not rest.any():
                continue
            u[index] = np.minimum(u[index], m[index])
            u[rest] += excess * u[rest] / u[rest].sum() if u[rest].sum() > 0 else excess / rest.sum()
            levels[cls][k] = np.clip(u / u.sum(), _EPS, 1.0)


def _seed(codes: np.ndarray, comparisons: Sequence[Comparison], classes: int) -> np.ndarray:
    """Starting responsibilities without labels.

    Same person: most present comparisons at their top levels. The non-match classes start
    split by how much they agree (many agreements: colleagues; few: strangers).
    """
    top = np.zeros(len(codes))
    agree = np.zeros(len(codes))
    present = np.zeros(len(codes))
    for k, c in enumerate(comparisons):
        n_levels = len(LEVELS[c.kind])
        level = codes[:, k]
        here = level >= 0
        top += here & (level <= (0 if n_levels <= 3 else 1))
        agree += here & (level == 0)
        present += here
    share = np.divide(top, present, out=np.zeros_like(top), where=present > 0)
    agreement = np.divide(agree, present, out=np.zeros_like(agree), where=present > 0)
    resp = np.zeros((len(codes), classes + 1))
    match = share >= 0.6
    resp[:, 0] = np.where(match, 0.9, 0.02)
    # spread the non-matches over the classes by agreement rank
    rank = np.clip((agreement * classes).astype(np.int64), 0, classes - 1)
    for c in range(classes):
        resp[:, c + 1] = np.where(rank == c, 1 - resp[:, 0], 0.0)
    return resp / resp.sum(axis=1, keepdims=True)


def _anchor(resp: np.ndarray, anchors: np.ndarray) -> np.ndarray:
    """Pairs a rule decided: same person fixed at 1 or 0 (the rest spread over non-match classes)."""
    fixed_match = anchors == 1.0
    fixed_non = anchors == 0.0
    resp = resp.copy()
    resp[fixed_match] = 0.0
    resp[fixed_match, 0] = 1.0
    non = resp[fixed_non, 1:]
    totals = non.sum(axis=1, keepdims=True)
    resp[fixed_non, 1:] = np.divide(non, totals, out=np.full_like(non, 1.0 / non.shape[1]), where=totals > 0)
    resp[fixed_non, 0] = 0.0
    return resp


def fit_model(
    gammas: pl.DataFrame,
    comparisons: Sequence[Comparison],
    *,
    classes: int = 3,
    max_iterations: int = 50,
    random_gammas: pl.DataFrame | None = None,
    pseudo_pairs: float = 200.0,
    tf_reference: dict[str, float] | None = None,
    u_random: dict[str, list[float]] | None = None,
) -> MatchModel:
    """Estimate the class shares and level probabilities by EM over the level patterns.

    Args:
        gammas: one row per candidate pair with ``gamma_<name>`` columns, and optionally
            ``_lp_anchor`` (1 or 0 for pairs a label or a deterministic rule decides; they stay
            fixed) and ``_lp_pairs`` (the row stands for that many pairs with these levels).
        comparisons: the comparisons (their kinds give the level counts).
        classes: number of non-match classes.
        max_iterations: EM iterations at most (stops earlier when parameters settle).
        random_gammas: levels of random pairs, stored as ``u_random`` for inspection.
        pseudo_pairs: weight of the reference parameters, in pairs (keeps tiny batches sane).
        tf_reference: median term frequency of agreeing values per comparison.
        u_random: ``u_random`` to keep when there are no random pairs (a refit from stored pairs).

    Returns:
        The fitted model.
    """
    codes, counts, anchors = _patterns(gammas, comparisons)
    n_levels = [len(LEVELS[c.kind]) for c in comparisons]
    n_classes = classes + 1
    reference = reference_model()

    def ref(c: Comparison, cls: int, size: int) -> np.ndarray:
        levels = reference.get("levels", {})
        table = levels.get(c.name, levels.get(c.kind))
        if table is None or cls >= len(table) or len(table[cls]) != size:
            return np.full(size, 1.0 / size)
        return np.asarray(table[cls], dtype=np.float64)

    if len(reference.get("shares", [])) != n_classes:
        reference = {}  # fitted with another number of classes: use a flat prior
    ref_levels = [[ref(c, cls, n) for c, n in zip(comparisons, n_levels, strict=True)] for cls in range(n_classes)]
    ref_shares = np.asarray(reference.get("shares", [0.2] + [0.8 / classes] * classes), dtype=np.float64)
    ref_shares = ref_shares / ref_shares.sum()
    resp = _anchor(_seed(codes, comparisons, classes), anchors)
    identifying = _identifying(comparisons)
    levels = [[r.copy() for r in cls] for cls in ref_levels]
    shares = ref_shares.copy()
    # a missing level is one more level, past the real ones, that every class gives probability 1
    # (it says nothing): no masks in the loop
    filled = [np.where(codes[:, k] >= 0, codes[:, k], size) for k, size in enumerate(n_levels)]
    iterations = 0
    for iterations in range(1, max_iterations + 1):  # noqa: B007 - iterations is reported
        weighted = counts[:, None] * resp  # pairs per pattern and class
        new_shares = (weighted.sum(axis=0) + pseudo_pairs * ref_shares) / (counts.sum() + pseudo_pairs)
        new_levels = []
        for cls in range(n_classes):
            per = []
            for k, size in enumerate(n_levels):
                tally = np.bincount(filled[k], weights=weighted[:, cls], minlength=size + 1)[:size]
                tally = tally + pseudo_pairs * new_shares[cls] * ref_levels[cls][k]
                per.append(np.clip(tally / tally.sum(), _EPS, 1.0))
            new_levels.append(per)
        _cap_identifying(new_levels, identifying)
        change = max(
            float(np.max(np.abs(a - b)))
            for cls in range(n_classes) for a, b in zip(new_levels[cls], levels[cls], strict=True)
        ) if n_levels else 0.0
        levels, shares = new_levels, np.clip(new_shares, _EPS, 1.0)
        # E-step
        log_like = np.tile(np.log(shares), (len(codes), 1))
        for k, size in enumerate(n_levels):
            table = np.zeros((size + 1, n_classes))  # the extra row (missing) stays log 1 = 0
            table[:size] = np.log(np.stack([levels[cls][k] for cls in range(n_classes)], axis=1))
            log_like += table[filled[k]]
        log_like -= log_like.max(axis=1, keepdims=True)
        resp = np.exp(log_like)
        resp = _anchor(resp / resp.sum(axis=1, keepdims=True), anchors)
        if change < 1e-5:
            break
    u_random = dict(u_random or {})
    if random_gammas is not None and random_gammas.height:
        for c, size in zip(comparisons, n_levels, strict=True):
            level = random_gammas[gamma_column(c.name)].drop_nulls().to_numpy().astype(np.int64)
            freq = np.bincount(level, minlength=size).astype(np.float64)
            u_random[c.name] = (freq / max(freq.sum(), 1.0)).round(8).tolist()
    return MatchModel(
        shares=np.round(shares / shares.sum(), 10).tolist(),
        levels=[{c.name: np.round(levels[cls][k], 10).tolist() for k, c in enumerate(comparisons)} for cls in range(n_classes)],
        pairs_used=int(counts.sum()),
        iterations=iterations,
        u_random=u_random,
        tf_reference=dict(tf_reference or {}),
    )


def tf_reference_values(gammas: pl.DataFrame, comparisons: Sequence[Comparison]) -> dict[str, float]:
    """Median term frequency of the agreed values, per term-frequency comparison."""
    out = {}
    for c in comparisons:
        column = tf_column(c.name)
        if c.term_frequency and column in gammas.columns:
            median = gammas[column].median()
            out[c.name] = float(median) if median is not None else 1e-3
    return out


def score_pairs(gammas: pl.DataFrame, comparisons: Sequence[Comparison], model: MatchModel) -> pl.DataFrame:
    """Add each comparison's weight, the prior weight, the total weight and the probability.

    A pair is weighed against the kind of non-match it most resembles (the non-match class
    with the highest likelihood): each comparison's weight is ``log2(m / u_c)`` for that class
    ``c``, and ``prior_weight`` holds ``log2(share_0 / share_c)`` plus the (small, negative)
    correction for the other non-match classes, so that the weights add up exactly to the
    log-odds and ``match_probability`` is the model's posterior. Missing levels weigh 0.
    Term-frequency comparisons with an exact match get the value's adjustment added.
    """
    n_classes = len(model.shares)
    gamma_cols = [gamma_column(c.name) for c in comparisons]
    keyed = gammas.with_columns(pattern_key(comparisons).alias(PATTERN))
    # the weights depend only on the levels: compute them once per distinct pattern
    frame = keyed.select(PATTERN, *gamma_cols).unique(PATTERN)

    def level_log(cls: int, c: Comparison) -> pl.Expr:
        logs = np.log2(np.asarray(model.levels[cls][c.name])).tolist()
        return pl.col(gamma_column(c.name)).replace_strict(
            list(range(len(logs))), logs, default=0.0, return_dtype=pl.Float64
        ).fill_null(0.0)

    frame = frame.with_columns(
        [level_log(cls, c).alias(f"_ll_{cls}_{c.name}") for cls in range(n_classes) for c in comparisons]
    )
    totals = [
        (pl.sum_horizontal([pl.col(f"_ll_{cls}_{c.name}") for c in comparisons]) if comparisons else pl.lit(0.0))
        + math.log2(model.shares[cls])
        for cls in range(n_classes)
    ]
    frame = frame.with_columns([total.alias(f"_lt_{cls}") for cls, total in enumerate(totals)])
    # the most likely non-match class, and the log2 of the sum over non-match classes
    non = [pl.col(f"_lt_{cls}") for cls in range(1, n_classes)]
    best = pl.max_horizontal(non)
    log_sum = best + pl.sum_horizontal([pl.lit(2.0).pow(x - best) for x in non]).log(2)
    which = pl.lit(1, pl.Int8)
    for cls in range(n_classes - 1, 0, -1):
        which = pl.when(pl.col(f"_lt_{cls}") == best).then(pl.lit(cls, pl.Int8)).otherwise(which)
    frame = frame.with_columns(which.alias("_cls"), log_sum.alias("_lsum"), best.alias("_lbest"))
    columns = []
    for c in comparisons:
        weight = pl.col(f"_ll_0_{c.name}")
        for cls in range(1, n_classes):
            weight = weight - pl.when(pl.col("_cls") == cls).then(pl.col(f"_ll_{cls}_{c.name}")).otherwise(0.0)
        columns.append(weight.alias(weight_column(c.name)))
    prior = pl.lit(math.log2(model.shares[0]))
    for cls in range(1, n_classes):
        prior = prior - pl.when(pl.col("_cls") == cls).then(pl.lit(math.log2(model.shares[cls]))).otherwise(0.0)
    prior = prior + (pl.col("_lbest") - pl.col("_lsum"))
    table = frame.select(PATTERN, *columns, prior.alias(PRIOR_WEIGHT))
    scored = keyed.join(table, on=PATTERN, how="left", maintain_order="left").drop(PATTERN)
    # term-frequency adjustment of exact matches, per pair (it depends on the value)
    for c in comparisons:
        column = tf_column(c.name)
        reference = model.tf_reference.get(c.name)
        if column not in scored.columns or reference is None:
            continue
        scored = scored.with_columns(
            (
                pl.col(weight_column(c.name))
                + pl.when(pl.col(column).is_not_null())
                .then((pl.lit(reference) / pl.col(column)).log(2).clip(-TF_CLIP, TF_CLIP))
                .otherwise(0.0)
            ).alias(weight_column(c.name))
        )
    total = pl.sum_horizontal([pl.col(weight_column(c.name)) for c in comparisons]) + pl.col(PRIOR_WEIGHT)
    return scored.with_columns(total.alias(WEIGHT)).with_columns(
        (1.0 / (1.0 + pl.lit(2.0).pow(-pl.col(WEIGHT)))).alias(PROBABILITY)
    )

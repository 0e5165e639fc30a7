"""Review import: a fully answered review file of a large warehouse, back into it.

    python benchmarks/review_import.py --leads 1000000

Builds a warehouse of ``--leads`` generated leads (hard noise, 10% duplicates), runs the full
dedup, exports the uncertain pairs (``leadpipe review export``), answers every row, "yes" and
"no" in turn, and times ``leadpipe review import`` of the file (``flows.dedupe_run``): the labels,
the merges and detaches the answers make, their events and the golden records of every cluster
they touch, in one transaction. Prints the answers, what they did and the seconds.
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

from benchmarks.matching_data import generated_leads, insert_leads  # noqa: E402
from flows.dedupe_run import export_review, import_review, run_dedupe  # noqa: E402
from matching.configuration import DedupSettings  # noqa: E402
from warehouse.connection import Warehouse  # noqa: E402
from warehouse.migrations import migrate  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--leads", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=17)
    args = parser.parse_args(argv)
    settings = DedupSettings()
    work = Path(tempfile.mkdtemp(prefix="lp_review_"))
    try:
        with Warehouse.open(work / "warehouse.duckdb") as wh:
            migrate(wh)
            insert_leads(wh, generated_leads(args.leads, noise="hard", seed=args.seed), 1)
            clock = time.perf_counter()
            run_dedupe(wh, settings)
            print(f"full dedup of {args.leads:,} leads: {time.perf_counter() - clock:.1f} s")
            review = work / "review.csv"
            exported = export_review(wh, review)
            answered = pl.read_csv(review, infer_schema=False).with_columns(
                pl.when(pl.int_range(pl.len()) % 2 == 0).then(pl.lit("yes")).otherwise(pl.lit("no")).alias("label")
            )
            answered.write_csv(review)
            clock = time.perf_counter()
            counts = import_review(wh, settings, review).counts
            seconds = time.perf_counter() - clock
        print(f"review import of {exported:,} answered pairs: {seconds:.2f} s "
              f"({counts['must_link']:,} yes, {counts['cannot_link']:,} no; {counts['merged']:,} merges, "
              f"{counts['detached']:,} leads detached, {counts['conflicts']:,} conflicts)")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

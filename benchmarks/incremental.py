"""Incremental matching: a batch of new leads against a large clustered warehouse.

Builds a DuckDB warehouse of ``--existing`` generated leads (normalised as ingest does), runs the
full dedup on them (timed), then adds ``--new`` leads of the same population (so many are
duplicates of stored leads) and runs the dedup again (timed), in a process of its own, ``--repeat``
times on a fresh copy of that warehouse (one run's time varies 10-30% on a shared machine: the
median is the figure, every run is printed). Both runs
go through the same path as the pipeline (``flows.dedupe_run.run_dedupe``: read, match, write
pairs, keys, clusters, events and golden records in one transaction). Both times include a
checkpoint, which writes the run into the database file: DuckDB checkpoints by itself at a
commit whose log passed 16 MB and the pipeline once per run (before its snapshot), so without it
a run's time would depend on which side of that threshold its log fell. Prints both times with
their stages, the ratio, and the same ratio for the matching engine alone (block, compare,
score, cluster: no reading or writing).

    python benchmarks/incremental.py --existing 1000000 --new 10000
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.generate_leads import add_rare_names_option  # noqa: E402
from benchmarks.matching_data import generated_leads  # noqa: E402
from flows.dedupe_run import DedupResult, run_dedupe  # noqa: E402
from matching.configuration import DedupSettings  # noqa: E402
from transforms import schema as s  # noqa: E402
from warehouse.connection import Warehouse  # noqa: E402
from warehouse.migrations import migrate  # noqa: E402


def _insert(wh: Warehouse, leads: pl.DataFrame, batch_id: int) -> None:
    frame = leads.select([c for c in s.LEAD_DATA_COLUMNS if c in leads.columns] + [s.LEAD_ID]).with_columns(
        pl.lit(batch_id, pl.Int64).alias(s.BATCH_ID),
        pl.lit(f"generated_{batch_id}.csv").alias(s.SOURCE_FILE),
        pl.lit("bulk").alias(s.SOURCE_KIND),
        pl.col(s.LEAD_ID).alias(s.SOURCE_ROW),
        pl.col(s.LAST_NAME).fill_null("[unknown]"),
        pl.col(s.COMPANY).fill_null("[not provided]"),
        pl.lit(datetime(2026, 11, 1)).alias(s.CREATED_AT),
        pl.lit(datetime(2026, 11, 1)).alias(s.UPDATED_AT),
    ).drop(s.EXTRA, strict=False)
    cols = ", ".join(frame.columns)
    with wh.registered("_bench_leads", frame):
        wh.execute(f"INSERT INTO leads ({cols}) SELECT {cols} FROM _bench_leads")


def _stages(timings: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.2f}" for k, v in timings.items())


def _incremental_child(db: str) -> None:
    with Warehouse.open(db) as wh:
        clock = time.perf_counter()
        result = run_dedupe(wh, DedupSettings())
        wh.checkpoint()  # timed, as in the full run: see the module docstring
        seconds = time.perf_counter() - clock
    print(json.dumps({"seconds": seconds, "result": dataclasses.asdict(result)}))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--incremental-child", help=argparse.SUPPRESS)
    parser.add_argument("--existing", type=int, default=1_000_000)
    parser.add_argument("--new", type=int, default=10_000)
    parser.add_argument("--noise", choices=("normal", "hard"), default="hard")
    parser.add_argument("--repeat", type=int, default=3, help="incremental runs, each on a fresh copy (the median is reported)")
    add_rare_names_option(parser)
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.incremental_child:
        _incremental_child(args.incremental_child)
        return 0

    leads = generated_leads(args.existing + args.new, noise=args.noise, seed=17, rare_names=args.rare_names)
    old, new = leads.head(args.existing), leads.tail(args.new)
    settings = DedupSettings()
    work = Path(tempfile.mkdtemp(prefix="lp_incremental_"))
    template, db = work / "before_incremental.duckdb", work / "warehouse.duckdb"
    with Warehouse.open(template) as wh:
        migrate(wh)
        _insert(wh, old, 1)
        wh.checkpoint()
        os.sync()  # the full run, like the incremental ones, starts from a warehouse on disk
        clock = time.perf_counter()
        full = run_dedupe(wh, settings)
        wh.checkpoint()  # as the pipeline does once per run (before publishing its snapshot)
        full_seconds = time.perf_counter() - clock
        _insert(wh, new, 2)
        wh.checkpoint()
    print(f"full dedup of {args.existing:,} leads: {full_seconds:.2f} s "
          f"({_stages(full.timings)}, {full.candidate_pairs:,} pairs, model fitted: {full.model_refitted})")
    # a later run, in its own process as a scheduled or drop-folder run would be; repeated on a
    # fresh copy of the same warehouse, as one run's time varies 10-30% on a shared machine
    runs = []
    for _ in range(args.repeat):
        shutil.copyfile(template, db)
        os.sync()  # the copy on disk before the run, as a scheduled run finds its warehouse
        done = subprocess.run([sys.executable, __file__, "--incremental-child", str(db)], capture_output=True, text=True, check=True)
        figures = json.loads(done.stdout.strip().splitlines()[-1])
        runs.append((figures["seconds"], DedupResult(**figures["result"])))
        seconds, incremental = runs[-1]
        print(f"{args.new:,} new leads against them: {seconds:.2f} s "
              f"({_stages(incremental.timings)}, {incremental.candidate_pairs:,} pairs, "
              f"{incremental.joined:,} joined existing clusters, model fitted: {incremental.model_refitted})")
    # the median (the mean of the two middle runs when --repeat is even)
    incremental_seconds = statistics.median(seconds for seconds, _ in runs)
    label = f"median of {len(runs)} runs" if len(runs) > 1 else "one run"
    print(f"ratio incremental ({label}) / full: {incremental_seconds / full_seconds:.3f} (1/{full_seconds / incremental_seconds:.0f}); "
          f"every run: " + ", ".join(f"1/{full_seconds / seconds:.0f}" for seconds, _ in runs))
    # the same ratio for the matching engine alone, without reading and writing the warehouse
    engine = ("block", "compare", "score", "cluster")
    full_engine = sum(full.timings.get(k, 0.0) for k in engine)
    incremental_engine = statistics.median(sum(run.timings.get(k, 0.0) for k in engine) for _, run in runs)
    print(f"engine only ({', '.join(engine)}, {label}): {incremental_engine:.2f} s / {full_engine:.2f} s = "
          f"{incremental_engine / full_engine:.3f} (1/{full_engine / incremental_engine:.0f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Incremental matching: a batch of new leads against a large clustered warehouse.

Builds a DuckDB warehouse of ``--existing`` generated leads (normalised as ingest does), runs the
full dedup on them, then adds ``--new`` leads of the same population (so many are duplicates of
stored leads) and runs the dedup again. Both kinds of run are measured alike: each in a process
of its own (as a scheduled or drop-folder run would be), on a fresh copy of its warehouse synced
to disk, ``--repeat`` times, a full run and an incremental run in turn, so that a slower or
faster stretch of a shared machine (one run's time varies 10-30%) touches both. The medians are
the figures; every run is printed, with the ratio of each full run to the incremental run after it.

Both runs go through the same path as the pipeline (``flows.dedupe_run.run_dedupe``: read,
match, write pairs, keys, clusters, events and golden records in one transaction). Both times
include writing the run into the database file: the run's commit does it (``Warehouse.transaction``
with ``checkpoint``, as the pipeline's dedup task, which closes the warehouse right after, and
closing would checkpoint), and the checkpoint timed after it finds nothing left to write. Prints both
times with their stages, the ratio, and the same ratio for the matching engine alone (block,
compare, score, cluster: no reading or writing).

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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.generate_leads import add_rare_names_option  # noqa: E402
from benchmarks.matching_data import generated_leads, insert_leads  # noqa: E402
from flows.dedupe_run import DedupResult, run_dedupe  # noqa: E402
from matching.configuration import DedupSettings  # noqa: E402
from warehouse.connection import Warehouse  # noqa: E402
from warehouse.migrations import migrate  # noqa: E402


def _stages(timings: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.2f}" for k, v in timings.items())


def _run_child(db: str) -> None:
    """One timed dedup run of the warehouse ``db``; prints its figures as JSON."""
    with Warehouse.open(db) as wh:
        clock = time.perf_counter()
        result = run_dedupe(wh, DedupSettings())
        checkpoint = time.perf_counter()
        wh.checkpoint()  # timed: see the module docstring
        seconds = time.perf_counter() - clock
        result.timings["checkpoint"] = seconds - (checkpoint - clock)
    print(json.dumps({"seconds": seconds, "result": dataclasses.asdict(result)}))


def _timed_run(template: Path, db: Path) -> tuple[float, DedupResult]:
    """Time a dedup run in a process of its own, on a fresh copy of ``template`` at ``db``."""
    shutil.copyfile(template, db)
    os.sync()  # the copy on disk before the run, as a scheduled run finds its warehouse
    done = subprocess.run([sys.executable, __file__, "--run-child", str(db)], capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"a timed run failed (exit {done.returncode}):\n{done.stderr}")
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    return figures["seconds"], DedupResult(**figures["result"])


#: The matching engine's stages (no reading or writing).
ENGINE = ("block", "compare", "score", "cluster")


def _engine_seconds(result: DedupResult) -> float:
    return sum(result.timings.get(k, 0.0) for k in ENGINE)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run-child", help=argparse.SUPPRESS)
    parser.add_argument("--existing", type=int, default=1_000_000)
    parser.add_argument("--new", type=int, default=10_000)
    parser.add_argument("--noise", choices=("normal", "hard"), default="hard")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each kind, each on a fresh copy (the medians are reported)")
    add_rare_names_option(parser)
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.run_child:
        _run_child(args.run_child)
        return 0

    leads = generated_leads(args.existing + args.new, noise=args.noise, seed=17, rare_names=args.rare_names)
    old, new = leads.head(args.existing), leads.tail(args.new)
    work = Path(tempfile.mkdtemp(prefix="lp_incremental_"))
    unclustered, clustered, db = work / "unclustered.duckdb", work / "clustered.duckdb", work / "warehouse.duckdb"
    full_runs: list[tuple[float, DedupResult]] = []
    incremental_runs: list[tuple[float, DedupResult]] = []
    try:
        with Warehouse.open(unclustered) as wh:
            migrate(wh)
            insert_leads(wh, old, 1)
            wh.checkpoint()
        for _ in range(args.repeat):
            full_runs.append(_timed_run(unclustered, db))
            seconds, full = full_runs[-1]
            print(f"full dedup of {args.existing:,} leads: {seconds:.2f} s "
                  f"({_stages(full.timings)}, {full.candidate_pairs:,} pairs, model fitted: {full.model_refitted})")
            if not clustered.exists():  # the first full run's result, with the new leads added
                with Warehouse.open(db) as wh:
                    insert_leads(wh, new, 2)
                    wh.checkpoint()
                shutil.copyfile(db, clustered)
            incremental_runs.append(_timed_run(clustered, db))
            seconds, incremental = incremental_runs[-1]
            print(f"{args.new:,} new leads against them: {seconds:.2f} s "
                  f"({_stages(incremental.timings)}, {incremental.candidate_pairs:,} pairs, "
                  f"{incremental.joined:,} joined existing clusters, model fitted: {incremental.model_refitted})")
    finally:  # the warehouse copies take about 2 GB at 1M leads
        shutil.rmtree(work, ignore_errors=True)
    # medians (the mean of the two middle runs when --repeat is even)
    full_seconds = statistics.median(seconds for seconds, _ in full_runs)
    incremental_seconds = statistics.median(seconds for seconds, _ in incremental_runs)
    label = f"medians of {args.repeat} runs each" if args.repeat > 1 else "one run each"
    print(f"full {full_seconds:.2f} s, incremental {incremental_seconds:.2f} s ({label}): ratio "
          f"{incremental_seconds / full_seconds:.3f} (1/{full_seconds / incremental_seconds:.0f}); each full run to the "
          "incremental run after it: " + ", ".join(f"1/{f / i:.0f}" for (f, _), (i, _) in zip(full_runs, incremental_runs, strict=True)))
    # the same ratio for the matching engine alone, without reading and writing the warehouse
    full_engine = statistics.median(_engine_seconds(run) for _, run in full_runs)
    incremental_engine = statistics.median(_engine_seconds(run) for _, run in incremental_runs)
    print(f"engine only ({', '.join(ENGINE)}, {label}): {incremental_engine:.2f} s / {full_engine:.2f} s = "
          f"{incremental_engine / full_engine:.3f} (1/{full_engine / incremental_engine:.0f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

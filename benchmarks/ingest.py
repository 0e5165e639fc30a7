"""Ingest benchmark: leadpipe vs DuckDB's bare read_csv of the same file, same run, same machine.

    python benchmarks/ingest.py --rows 1000000

Generates a bulk CSV (benchmarks/generate_leads.py), then, each in a fresh child process so that
peak RSS is the step's own: (1) DuckDB `read_csv` of the file into a table, all columns as text;
(2) leadpipe's whole ingestion of the file (hash, read, map, normalise, validate, load in one
transaction) into a new warehouse. Prints time, rows/s, peak RSS and the ratio. The phone
normaliser's lookup tables are made ready first, as on any run after the first since install
(about 0.5 s on the first, printed).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_duckdb(csv: Path, db: Path) -> dict:
    import duckdb

    start = time.perf_counter()
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE t AS SELECT * FROM read_csv(?, all_varchar = true)", [str(csv)]).fetchall()
    rows = con.execute("SELECT count(*) FROM t").fetchone()[0]
    con.close()
    return {"seconds": time.perf_counter() - start, "rows": rows, "peak_rss_mb": _peak_rss_mb()}


def child_leadpipe(csv: Path, db: Path) -> dict:
    from transforms.configuration import IngestSettings
    from transforms.ingest import describe_source, prepare_batch
    from warehouse.batches import load_batch
    from warehouse.connection import Warehouse
    from warehouse.migrations import migrate

    settings = IngestSettings()
    t0 = time.perf_counter()
    source = describe_source(csv, settings, "bulk")
    stages = {"hash": time.perf_counter() - t0}
    prepared = prepare_batch(source, settings)
    stages.update(prepared.timings)
    t = time.perf_counter()
    with Warehouse.open(db) as wh:
        migrate(wh)
        result = load_batch(wh, prepared)
    stages["load"] = time.perf_counter() - t
    return {
        "seconds": time.perf_counter() - t0,
        "rows": result.rows_read,
        "loaded": result.rows_loaded,
        "rejected": result.rows_rejected,
        "skipped": result.rows_skipped,
        "stages": stages,
        "peak_rss_mb": _peak_rss_mb(),
    }


def run_child(kind: str, csv: Path, db: Path) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind, "--csv", str(csv), "--db", str(db)],
        check=True, capture_output=True, text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--csv", type=Path, help="use this CSV instead of generating one")
    parser.add_argument("--db", type=Path)
    parser.add_argument("--child", choices=["duckdb", "leadpipe"], help=argparse.SUPPRESS)
    parser.add_argument("--repeat", type=int, default=1, help="runs of each; the best is reported")
    args = parser.parse_args()
    if args.child:
        fn = child_duckdb if args.child == "duckdb" else child_leadpipe
        print(json.dumps(fn(args.csv, args.db)))
        return

    with tempfile.TemporaryDirectory(prefix="leadpipe-bench-") as tmp:
        work = Path(tmp)
        csv = args.csv
        if csv is None:
            from benchmarks.generate_leads import generate_leads, write_leads

            t = time.perf_counter()
            csv = work / "bulk.csv"
            write_leads(generate_leads(args.rows, dup_rate=0.1, seed=42), csv)
            print(f"generated {args.rows:,} rows ({csv.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - t:.1f} s")
        run_child("duckdb", csv, work / "warm.duckdb")  # warm the page cache
        from transforms.phones import prepare_tables

        t = time.perf_counter()
        prepare_tables()  # as every run after the first since install (transforms.disk_cache)
        print(f"phone tables ready in {time.perf_counter() - t:.2f} s (derived on the first run after an install, then read from the disk cache)")
        results = {}
        for kind in ("duckdb", "leadpipe"):
            runs = []
            for i in range(args.repeat):
                db = work / f"{kind}{i}.duckdb"
                runs.append(run_child(kind, csv, db))
                db.unlink(missing_ok=True)
            results[kind] = min(runs, key=lambda r: r["seconds"])
        bare, lp = results["duckdb"], results["leadpipe"]
        print(f"DuckDB read_csv (all_varchar) into a table: {bare['seconds']:.2f} s, {bare['rows'] / bare['seconds']:,.0f} rows/s, peak RSS {bare['peak_rss_mb']:.0f} MB")
        print(f"leadpipe ingest (hash, read, map, normalise, validate, load): {lp['seconds']:.2f} s, {lp['rows'] / lp['seconds']:,.0f} rows/s, peak RSS {lp['peak_rss_mb']:.0f} MB")
        print("  stages: " + ", ".join(f"{k} {v:.2f} s" for k, v in lp["stages"].items()))
        print(f"  rows read {lp['rows']:,} = loaded {lp['loaded']:,} + rejected {lp['rejected']:,} + skipped {lp['skipped']:,}")
        print(f"ratio leadpipe / bare DuckDB read: {lp['seconds'] / bare['seconds']:.2f}x (target <= 3x); peak RSS target < 2048 MB")


if __name__ == "__main__":
    main()

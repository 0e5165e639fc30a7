"""leadpipe's matching engine against Splink 5 on the same generated leads, in the same run.

Both run in their own child process on the same parquet file of normalised leads (the output of
leadpipe's ingest normalisation), one after the other, so neither competes with the other for
the 2 cores; each reports its time (data loading excluded) and its peak RSS. Accuracy is pair
F1 against the generator's truth, at each tool's default threshold (leadpipe: its decisions;
Splink: p >= 0.5) and at the best threshold chosen with the labels.

Splink is not a leadpipe dependency: install it in a separate venv and point at its python::

    python3 -m venv /tmp/splinkenv && /tmp/splinkenv/bin/pip install 'splink>=5' polars pyarrow
    python benchmarks/compare_splink.py --rows 1000000 --splink-python /tmp/splinkenv/bin/python
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

import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.generate_leads import add_rare_names_option  # noqa: E402
from benchmarks.matching_data import best_threshold, generated_leads, pair_scores, true_pairs  # noqa: E402

RUNNER = Path(__file__).with_name("splink_runner.py")


def leadpipe_child(input_path: str, out_pairs: str, out_json: str) -> None:
    """Run leadpipe's whole dedup (block, compare, score, cluster) and write its pairs and figures."""
    from matching.configuration import DedupSettings
    from matching.engine import MATCH_COLUMNS, match_leads

    leads = pl.read_parquet(input_path, columns=list(MATCH_COLUMNS))
    clock = time.perf_counter()
    outcome = match_leads(leads, DedupSettings())
    seconds = time.perf_counter() - clock
    outcome.pairs.select(
        pl.col("lead_id_l").alias("id_l"), pl.col("lead_id_r").alias("id_r"), "match_probability",
        pl.col("decision").is_in(["match", "must_link"]).alias("linked"),
    ).write_parquet(out_pairs)
    figures = {
        "total_seconds": seconds,
        **{f"{k}_seconds": v for k, v in outcome.timings.items()},
        "pairs": outcome.pairs.height,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    Path(out_json).write_text(json.dumps(figures), encoding="utf-8")


def _evaluate(pairs: pl.DataFrame, truth: pl.DataFrame, linked: pl.Expr) -> dict[str, float]:
    renamed = pairs.rename({"id_l": "lead_id_l", "id_r": "lead_id_r"})
    at_default = pair_scores(renamed.filter(linked).select("lead_id_l", "lead_id_r"), truth)
    threshold, best = best_threshold(renamed, truth)
    return {**at_default, "best_f1": best, "best_threshold": threshold}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--noise", choices=("normal", "hard"), default="hard")
    parser.add_argument("--dup-rate", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=7)
    add_rare_names_option(parser)
    parser.add_argument("--splink-python", default=sys.executable, help="a python with splink>=5 installed")
    parser.add_argument("--child", choices=("leadpipe",), help=argparse.SUPPRESS)
    parser.add_argument("--input", help=argparse.SUPPRESS)
    parser.add_argument("--out-pairs", help=argparse.SUPPRESS)
    parser.add_argument("--out-json", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child == "leadpipe":
        leadpipe_child(args.input, args.out_pairs, args.out_json)
        return 0

    work = Path(tempfile.mkdtemp(prefix="lp_vs_splink_"))
    data = work / "leads.parquet"
    clock = time.perf_counter()
    leads = generated_leads(args.rows, dup_rate=args.dup_rate, noise=args.noise, seed=args.seed, rare_names=args.rare_names)
    leads.write_parquet(data)
    print(f"generated {leads.height:,} leads ({args.noise} noise, {args.dup_rate:.0%} duplicates) in "
          f"{time.perf_counter() - clock:.1f} s -> {data}")
    truth = true_pairs(leads)

    results = {}
    for tool in ("leadpipe", "splink"):
        pairs, figures = work / f"{tool}_pairs.parquet", work / f"{tool}.json"
        if tool == "leadpipe":
            command = [sys.executable, __file__, "--child", "leadpipe"]
        else:
            command = [args.splink_python, str(RUNNER), "--task", "leads"]
        command += ["--input", str(data), "--out-pairs", str(pairs), "--out-json", str(figures)]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            print(f"{tool} failed:\n{done.stderr[-3000:]}", file=sys.stderr)
            return 1
        found = pl.read_parquet(pairs)
        linked = pl.col("linked") if tool == "leadpipe" else pl.col("match_probability") >= 0.5
        results[tool] = {**json.loads(figures.read_text()), **_evaluate(found, truth, linked)}

    lp, sp = results["leadpipe"], results["splink"]
    splink_time = sp.get("train_seconds", 0) + sp.get("predict_seconds", 0) + sp.get("cluster_seconds", 0)
    print(f"\n{'':24s}{'leadpipe':>12s}{'Splink 5':>12s}")
    print(f"{'dedup time (s)':24s}{lp['total_seconds']:12.1f}{splink_time:12.1f}   (Splink: train + predict + cluster)")
    print(f"{'peak RSS (MB)':24s}{lp['peak_rss_mb']:12.0f}{sp['peak_rss_mb']:12.0f}")
    print(f"{'candidate pairs':24s}{lp['pairs']:12,d}{sp['pairs']:12,d}")
    for key in ("precision", "recall", "f1", "best_f1"):
        print(f"{key + ' (pairs)':24s}{lp[key]:12.4f}{sp[key]:12.4f}")
    print(f"\nleadpipe stages: " + ", ".join(f"{k[:-8]} {v:.1f} s" for k, v in lp.items() if k.endswith("_seconds") and k != "total_seconds"))
    print(f"time ratio leadpipe / Splink: {lp['total_seconds'] / splink_time:.2f}")
    (work / "results.json").write_text(json.dumps(results, indent=1), encoding="utf-8")
    print(f"details: {work / 'results.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

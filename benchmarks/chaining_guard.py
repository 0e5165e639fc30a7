"""The chaining guard on one huge weak component: how long clustering takes in the worst shapes.

A real run's weak components are small (957 of the 1M leads of ``benchmarks/incremental.py``'s
full run, in 283 components); this times ``matching.clustering.cluster_leads`` on a single weak
component of ``--leads`` new leads, too big for ``max_cluster_size`` (50), in the shapes a
chaining blob could take:

- ``star``: every lead linked to one hub (a switchboard phone), links of 5-10 bits;
- ``random``: random links, ``--degree`` per lead, 5-11 bits;
- ``equal``: the same with every link 10 bits (ties everywhere);
- ``chain``: a line of 10-bit links.

    python benchmarks/chaining_guard.py --leads 20000
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from matching.clustering import cluster_leads  # noqa: E402

NO_EXISTING = pl.DataFrame(schema={"lead_id": pl.Int64, "cluster_id": pl.Int64, "cluster_size": pl.Int64})
NO_CANNOT = pl.DataFrame(schema={"lead_id_l": pl.Int64, "lead_id_r": pl.Int64})


def _random_links(rng: random.Random, n: int, degree: int, strengths: list[float]) -> list[tuple[int, int, float]]:
    seen: set[tuple[int, int]] = set()
    rows = []
    while len(rows) < n * degree // 2:
        a, b = sorted(rng.sample(range(1, n + 1), 2))
        if (a, b) not in seen:
            seen.add((a, b))
            rows.append((a, b, rng.choice(strengths)))
    return rows


def shapes(n: int, degree: int, seed: int) -> dict[str, list[tuple[int, int, float]]]:
    rng = random.Random(seed)
    return {
        "star": [(1, i, rng.choice([5.0, 6.0, 7.0, 9.0, 10.0])) for i in range(2, n + 1)],
        "random": _random_links(rng, n, degree, [5.0, 6.0, 7.0, 9.0, 10.0, 11.0]),
        "equal": _random_links(rng, n, degree, [10.0]),
        "chain": [(i, i + 1, 10.0) for i in range(1, n)],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--leads", type=int, default=5000)
    parser.add_argument("--degree", type=int, default=10, help="links per lead in the random shapes")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    for name, rows in shapes(args.leads, args.degree, args.seed).items():
        links = pl.DataFrame(rows, schema={"lead_id_l": pl.Int64, "lead_id_r": pl.Int64, "strength": pl.Float64}, orient="row")
        clock = time.perf_counter()
        result = cluster_leads(pl.Series(range(1, args.leads + 1), dtype=pl.Int64), links, NO_EXISTING, NO_CANNOT, max_cluster_size=50)
        seconds = time.perf_counter() - clock
        sizes = result.assignment.group_by("cluster_id").len()["len"]
        print(f"{name:7} {args.leads:,} leads, {len(rows):,} links: {seconds:.2f} s; {sizes.len():,} clusters, largest {sizes.max()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

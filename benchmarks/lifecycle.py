"""Lifecycle benchmark: qualify, route and convert 1M leads already ingested and deduplicated.

    python benchmarks/lifecycle.py --rows 1000000

Generates leads (benchmarks/generate_leads.py, 10% duplicates), loads them into a fresh DuckDB
warehouse with simple normalisation done here (the ingest benchmark measures the real one),
gives each lead its cluster (the generator's true entities: duplicates share the cluster of
their oldest lead) and builds one golden record per cluster from its oldest lead. It then times
the three stages exactly as the flows run them (``flows/lifecycle.py``), with the default
settings plus a routing setup of ten weighted reps, two queues, assignment rules, a daily cap
and an absence, and prints the figures and the peak RSS.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

import numpy as np
import polars as pl

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.generate_leads import country_code, generate_leads  # noqa: E402
from flows.lifecycle import convert_stage, qualify_stage, route_stage  # noqa: E402
from transforms.configuration import ConvertSettings, QualifySettings, RoutingSettings  # noqa: E402
from transforms.criteria import Criterion  # noqa: E402
from transforms.routing_config import AssignmentRule, OutOfOffice, Queue, Rep  # noqa: E402
from warehouse.connection import Warehouse  # noqa: E402
from warehouse.migrations import migrate  # noqa: E402

NOW = datetime(2026, 11, 23, 9)
FORMS = ["Request a demo", "Contact us", "Pricing", "Newsletter signup", "Webinar registration", "Whitepaper"]
GOLDEN = (
    "first_name", "last_name", "title", "company", "company_key", "email", "email_domain", "is_freemail", "phone",
    "website", "website_domain", "company_domain", "street", "city", "state", "postal_code", "country", "industry",
    "number_of_employees", "lead_source",
)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def prepare(wh: Warehouse, rows: int, seed: int) -> dict[str, float]:
    """Load ``rows`` leads with cluster ids and golden records; return the preparation timings."""
    t = time.perf_counter()
    raw = generate_leads(rows, dup_rate=0.1, seed=seed)
    generated = time.perf_counter() - t
    rng = np.random.default_rng(seed)
    n = raw.height
    kinds = np.array(["form", "trade_show", "bulk"])[rng.choice(3, n, p=[0.5, 0.2, 0.3])]
    forms = np.array(FORMS)[rng.integers(0, len(FORMS), n)]
    ages = rng.integers(0, 120 * 86400, n)
    codes = {v: country_code(v) for v in raw["Country"].unique().drop_nulls().to_list()}
    email = pl.col("Email").str.to_lowercase().str.strip_chars()
    email_domain = email.str.split("@").list.last()
    freemail = email_domain.is_in(["gmail.com", "yahoo.com", "hotmail.com", "outlook.com", "gmx.de", "web.de", "aol.com"])
    website_domain = pl.col("Website").str.to_lowercase().str.replace(r"^https?://", "").str.replace(r"^www\.", "").str.split("/").list.first()
    leads = raw.with_row_index("lead_id", offset=1).select(
        pl.col("lead_id").cast(pl.Int64),
        pl.lit(1, pl.Int64).alias("batch_id"),
        pl.lit("bench.csv").alias("source_file"),
        pl.Series("source_kind", kinds),
        pl.col("lead_id").cast(pl.Int64).alias("source_row"),
        pl.col("Lead Source").alias("lead_source"),
        pl.col("First Name").alias("first_name"),
        pl.coalesce("Last Name", pl.lit("Unknown")).alias("last_name"),
        pl.col("Title").alias("title"),
        pl.coalesce("Company", pl.lit("[not provided]")).alias("company"),
        pl.col("Company").str.to_lowercase().str.replace_all(r"[^a-z0-9 ]", "")
        .str.replace(r"\s+(inc|ltd|llc|gmbh|corp|sa|ag|plc|co)$", "").str.strip_chars().alias("company_key"),
        email.alias("email"),
        email_domain.alias("email_domain"),
        freemail.alias("is_freemail"),
        pl.col("Phone").alias("phone"),
        pl.col("Website").alias("website"),
        website_domain.alias("website_domain"),
        pl.coalesce(website_domain, pl.when(~freemail).then(email_domain)).alias("company_domain"),
        pl.col("Street").alias("street"),
        pl.col("City").alias("city"),
        pl.col("State").alias("state"),
        pl.col("Postal Code").alias("postal_code"),
        pl.col("Country").replace_strict(codes, default=None).alias("country"),
        pl.col("Industry").alias("industry"),
        pl.col("Employees").alias("number_of_employees"),
        (pl.lit(NOW) - pl.duration(seconds=pl.Series(ages))).alias("submitted_at"),
        pl.when(pl.Series(kinds) == "form").then(pl.Series(forms)).alias("form_name"),
        pl.col("entity_id"),
        pl.lit(datetime(2026, 11, 1)).alias("created_at"),
    ).with_columns(pl.col("lead_id").min().over("entity_id").alias("cluster_id")).drop("entity_id")
    t = time.perf_counter()
    cols = [c for c in leads.columns]
    with wh.transaction(), wh.registered("_bench_leads", leads):
        wh.execute(
            f"INSERT INTO leads ({', '.join(cols)}, updated_at) SELECT {', '.join(cols)}, created_at FROM _bench_leads"
        )
    # Free the generated frames before DuckDB builds the golden records (its aggregate needs over
    # a gigabyte at 1M leads): the peak RSS printed below should be that of the stages' inputs,
    # not of generated data nobody reads any more.
    del raw, leads, kinds, forms, ages
    picked = ", ".join(f"arg_min({c}, lead_id) AS {c}" for c in GOLDEN)
    wh.execute(
        f"INSERT INTO lead_golden (cluster_id, lead_count, lead_ids, source_kinds, first_seen_at, last_seen_at, {', '.join(GOLDEN)}, updated_at) "
        f"SELECT cluster_id, count(*), list(lead_id ORDER BY lead_id), list(DISTINCT source_kind), min(submitted_at), max(submitted_at), "
        f"{picked}, now()::TIMESTAMP FROM leads GROUP BY cluster_id"
    )
    wh.checkpoint()
    return {"generate": generated, "load": time.perf_counter() - t}


def routing_settings() -> RoutingSettings:
    reps = [Rep(id=f"rep_{i:02d}", weight=1 + i % 3) for i in range(10)]
    reps[3] = Rep(id="rep_03", weight=2, daily_cap=5000)
    reps[7] = Rep(id="rep_07", out_of_office=(OutOfOffice(start=date(2026, 11, 20), end=date(2026, 11, 27)),))
    return RoutingSettings(
        reps=tuple(reps),
        queues=(
            Queue(id="inbound", members=tuple(r.id for r in reps[:7])),
            Queue(id="dach", members=tuple(r.id for r in reps[6:])),
        ),
        rules=(
            AssignmentRule(name="dach", criteria=(Criterion(field="country", op="in", value=["DE", "AT", "CH"]),), assign_to="dach"),
            AssignmentRule(name="enterprise", criteria=(Criterion(field="number_of_employees", op="gte", value=5000),
                                                        Criterion(field="grade", op="in", value=["A-", "A", "A+"])), assign_to="rep_00"),
        ),
        default_owner="inbound",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="leadpipe-lifecycle-") as tmp, Warehouse.open(Path(tmp) / "bench.duckdb") as wh:
        migrate(wh)
        prep = prepare(wh, args.rows, args.seed)
        clusters = wh.scalar("SELECT count(*) FROM lead_golden")
        print(f"prepared {args.rows:,} leads in {clusters:,} clusters (generate {prep['generate']:.1f} s, load + golden {prep['load']:.1f} s)")
        times = {}
        t = time.perf_counter()
        changed = qualify_stage(wh, QualifySettings(), NOW)
        times["qualify"] = time.perf_counter() - t
        mqls = wh.scalar("SELECT count(DISTINCT cluster_id) FROM leads WHERE status = 'MQL'")
        print(f"qualify: {times['qualify']:.2f} s  ({changed:,} leads scored, {mqls:,} MQL clusters)")
        t = time.perf_counter()
        routed = route_stage(wh, routing_settings(), NOW)
        times["route"] = time.perf_counter() - t
        print(f"route:   {times['route']:.2f} s  ({routed:,} leads assigned)")
        t = time.perf_counter()
        result = convert_stage(wh, ConvertSettings(), now=NOW)
        times["convert"] = time.perf_counter() - t
        print(
            f"convert: {times['convert']:.2f} s  ({result.clusters_converted:,} clusters / {result.leads_converted:,} leads; "
            f"accounts {result.accounts_created:,} created + {result.accounts_attached:,} attached, contacts "
            f"{result.contacts_created:,}, opportunities {result.opportunities_created:,})"
        )
        print(f"total:   {sum(times.values()):.2f} s (target < 10 s); peak RSS {_peak_rss_mb():,.0f} MB (target < 3072 MB)")
        shares = wh.rows(
            "SELECT r.rep_id, r.weight, count(a.lead_id) FROM reps r LEFT JOIN assignments a ON a.owner_id = r.rep_id "
            "AND a.queue_id = 'inbound' GROUP BY ALL ORDER BY 1"
        )
        print("inbound round-robin (rep weight leads): " + ", ".join(f"{r} {w} {n:,}" for r, w, n in shares))


if __name__ == "__main__":
    main()

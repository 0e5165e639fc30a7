"""Benchmark: phone numbers to E.164 on a million generated leads.

Generates N phone strings (vectorised: numpy draws, polars string assembly) the way lead files
contain them -- E.164, "+44 20 7946 0958", "(415) 555-0132", "030 1234567", "0049 30 1234567",
"1-415-555-0132", "+44 (0) 20 ...", extensions, placeholders, typos, blanks -- with a region
column that is sometimes null, then prints:

* the time of ``phone_to_e164`` over all rows: first call (builds the metadata tables or reads
  them from the disk cache, compiles the regexes) and warm calls;
* the share of rows the fast path decides, and how many rows and distinct values go to
  phonenumbers (every invalid value does: only phonenumbers may call a number invalid);
* the time of the plain approach -- phonenumbers once per distinct (value, region) -- measured
  on a 50k-row sample and extrapolated to the distinct pairs of all N rows, with the ratio.

Numbers are drawn from templates that phonenumbers itself finds valid (a few hundred per region,
the last four digits random), so nearly all of the "well-formed" rows are valid numbers.

Run from the project root::

    .venv/bin/python benchmarks/phones.py            # 1,000,000 rows
    .venv/bin/python benchmarks/phones.py --rows 200000
"""

from __future__ import annotations

import argparse
import os
import random
import time

import numpy as np
import phonenumbers
import polars as pl
from phonenumbers import PhoneNumberType

from transforms.phones import parse_e164, phone_fast_path_e164, phone_to_e164

DEFAULT_REGION = "US"
SAMPLE_ROWS = 50_000
SEED = 2024
TEMPLATES_PER_REGION = 300

#: region -> share of the well-formed numbers (JP and BR are outside the fast path)
REGION_MIX = {
    "US": 0.36, "CA": 0.05, "GB": 0.10, "DE": 0.12, "FR": 0.06, "NL": 0.04, "ES": 0.04,
    "IT": 0.04, "AU": 0.04, "CH": 0.03, "AT": 0.03, "BE": 0.02, "SE": 0.02, "IE": 0.01,
    "IN": 0.01, "PL": 0.01, "DK": 0.01, "JP": 0.003, "BR": 0.003,
}  # fmt: skip
#: share of all rows per kind of value; the rest are well-formed numbers
SPECIAL_MIX = {
    "extension": 0.03,  # "(415) 555-0132 x123": unique values
    "placeholder": 0.02,  # "n/a", "-", "tbd"...: a small pool
    "fake": 0.01,  # "1234567890", "555-555-5555"...: a small pool
    "typo": 0.005,  # a digit lost: unique, mostly invalid
    "empty": 0.01,
    "null": 0.01,
}
PLACEHOLDERS = [
    "n/a", "N/A", "-", "--", "none", "tbd", "x", "?", "call me", "see notes", "email only",
    "ask reception", "0", "+", ".", "unknown", "no phone", "private",
]  # fmt: skip
FAKES = [
    "1234567890", "123-456-7890", "555-555-5555", "(555) 555-5555", "0000000000",
    "9999999999", "+1 000 000 0000", "+49 123 456789", "0123456789", "1111111111",
]  # fmt: skip


def _templates(rng: random.Random) -> pl.DataFrame:
    """Per region, NSN prefixes that phonenumbers finds valid with any last four digits we draw."""
    rows = []
    for region in REGION_MIX:
        cc = phonenumbers.country_code_for_region(region)
        seeds = [
            phonenumbers.national_significant_number(n)
            for kind in (PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE)
            if (n := phonenumbers.example_number_for_type(region, kind)) is not None
        ]
        found: set[str] = set()
        for _ in range(20 * TEMPLATES_PER_REGION):
            seed = rng.choice(seeds)
            keep = max(1, len(seed) - 8)
            nsn = seed[:keep] + "".join(rng.choice("0123456789") for _ in seed[keep:])
            if parse_e164(f"+{cc}{nsn}", None) is not None:
                found.add(nsn[:-4])
            if len(found) >= TEMPLATES_PER_REGION:
                break
        trunk = phonenumbers.ndd_prefix_for_region(region, True) or ""
        md = phonenumbers.PhoneMetadata.metadata_for_region(region)
        idd = md.preferred_international_prefix or md.international_prefix  # "00", "011", "0011"
        idd = idd if idd.isdigit() else "+"  # BR's needs a carrier code: write "+55" instead
        rows += [(region, str(cc), trunk, idd, lead) for lead in sorted(found)]
    return pl.DataFrame(rows, schema=["region", "cc", "trunk", "idd", "lead"], orient="row")


def _group(digits: pl.Expr, sizes: tuple[int, ...], sep: str) -> pl.Expr:
    parts, start = [], 0
    for size in sizes:
        parts.append(digits.str.slice(start, size))
        start += size
    parts.append(digits.str.slice(start))
    return pl.concat_str(parts, separator=sep).str.strip_chars(sep)


def generate(rows: int, seed: int = SEED) -> pl.DataFrame:
    """``rows`` phone strings and a region column (numpy draws, polars assembly: no per-row Python)."""
    rng = np.random.default_rng(seed)
    templates = _templates(random.Random(seed))
    regions = list(REGION_MIX)
    shares = np.array(list(REGION_MIX.values()))
    region = rng.choice(regions, size=rows, p=shares / shares.sum())
    starts = {r: templates["region"].to_list().index(r) for r in regions}
    counts = dict(templates.group_by("region").len().iter_rows())
    names, which = np.unique(region, return_inverse=True)
    first = np.array([starts[r] for r in names])[which]
    count = np.array([counts[r] for r in names])[which]
    pick = first + (rng.random(rows) * count).astype(np.int64)
    kinds = list(SPECIAL_MIX) + ["number"]
    kind_p = list(SPECIAL_MIX.values()) + [1 - sum(SPECIAL_MIX.values())]
    df = templates[pick].with_columns(
        region=pl.Series(region),
        tail=pl.Series(rng.integers(0, 10_000, rows)).cast(pl.String).str.zfill(4),
        style=pl.Series(rng.integers(0, 100, rows)),
        kind=pl.Series(rng.choice(kinds, size=rows, p=kind_p)),
        ext=pl.Series(rng.integers(1, 9999, rows)).cast(pl.String),
        placeholder=pl.Series(rng.choice(PLACEHOLDERS, rows)),
        fake=pl.Series(rng.choice(FAKES, rows)),
        region_null=pl.Series(rng.random(rows) < 0.2),
    )
    nsn = pl.concat_str("lead", "tail")
    nanp = pl.col("cc") == "1"
    national = pl.when(nanp).then(
        pl.concat_str(
            pl.lit("("), nsn.str.slice(0, 3), pl.lit(") "), nsn.str.slice(3, 3), pl.lit("-"),
            nsn.str.slice(6),
        )
    ).otherwise(pl.concat_str("trunk", _group(nsn, (3, 3, 2), " ")))  # fmt: skip
    has_trunk = pl.col("trunk") == "0"
    idd = pl.col("idd")
    style = pl.col("style")
    number = (
        pl.when(style < 15).then(pl.concat_str(pl.lit("+"), "cc", nsn))
        .when(style < 35).then(pl.concat_str(pl.lit("+"), "cc", pl.lit(" "), _group(nsn, (3, 3, 2), " ")))
        .when(style < 65).then(national)
        .when(style < 72).then(pl.when(nanp).then(_group(nsn, (3, 3), ".")).otherwise(pl.concat_str("trunk", _group(nsn, (2, 4), "-"))))
        .when(style < 78).then(pl.when(nanp).then(pl.concat_str(pl.lit("1-"), _group(nsn, (3, 3), "-"))).otherwise(pl.concat_str(idd, "cc", pl.lit(" "), nsn)))
        .when(style < 83).then(pl.when(has_trunk).then(pl.concat_str(pl.lit("+"), "cc", pl.lit(" (0) "), _group(nsn, (2, 4), " "))).otherwise(pl.concat_str(pl.lit("+"), "cc", pl.lit(" "), nsn)))
        .when(style < 88).then(pl.concat_str(idd, "cc", pl.lit("-"), nsn))
        .otherwise(pl.concat_str("trunk", nsn))
    )  # fmt: skip
    kind = pl.col("kind")
    phone = (
        pl.when(kind == "number").then(number)
        .when(kind == "extension").then(pl.concat_str(national, pl.when(style < 50).then(pl.lit(" x")).otherwise(pl.lit(" ext. ")), "ext"))
        .when(kind == "placeholder").then(pl.col("placeholder"))
        .when(kind == "fake").then(pl.col("fake"))
        .when(kind == "typo").then(pl.concat_str(pl.lit("+"), "cc", nsn.str.slice(0, nsn.str.len_chars() - 1)))
        .when(kind == "empty").then(pl.lit(""))
        .otherwise(pl.lit(None, dtype=pl.String))
    )  # fmt: skip
    # no country on the lead: US numbers, and numbers written with "+"
    no_region = pl.col("region_null") & (nanp | (style < 35)) & (kind == "number")
    region_col = pl.when(no_region).then(None).otherwise(pl.col("region"))
    return df.select(phone=phone, region=region_col)


def _per_distinct(df: pl.DataFrame) -> tuple[float, int]:
    """Seconds for phonenumbers once per distinct (value, region), and the number of pairs."""
    start = time.perf_counter()
    pairs = df.select("phone", pl.col("region").fill_null(DEFAULT_REGION)).unique()
    results = [parse_e164(p, r) for p, r in pairs.iter_rows()]
    pairs.with_columns(e164=pl.Series(results, dtype=pl.String))
    return time.perf_counter() - start, pairs.height


def _timed(df: pl.DataFrame, expr: pl.Expr) -> tuple[float, float, pl.Series]:
    wall, cpu = time.perf_counter(), time.process_time()
    out = df.select(expr).to_series()
    return time.perf_counter() - wall, time.process_time() - cpu, out


def main() -> None:
    parser = argparse.ArgumentParser(description="phone_to_e164 on generated leads")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="warm runs (the best is reported)")
    args = parser.parse_args()

    t0 = time.perf_counter()
    df = generate(args.rows)
    distinct = df.select(
        pl.struct("phone", pl.col("region").fill_null(DEFAULT_REGION)).n_unique()
    ).item()
    print(
        f"rows {df.height:,}, distinct (phone, region) {distinct:,}; generated in {time.perf_counter() - t0:.1f} s"
    )
    print(
        f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs (other processes slow every figure)"
    )

    expr = phone_to_e164(pl.col("phone"), pl.col("region"), DEFAULT_REGION)
    first_wall, _, out = _timed(df, expr)
    warm = [_timed(df, expr)[:2] for _ in range(args.repeat)]
    wall, cpu = min(warm)
    valid = out.is_not_null().sum()
    print(f"phone_to_e164: first call {first_wall:.3f} s (tables, built or read from the disk cache, + regex compilation); "
          f"warm best of {args.repeat}: {wall:.3f} s wall, {cpu:.3f} s CPU; valid {valid / df.height:.1%} of rows")  # fmt: skip

    fast_wall, _, fast = _timed(
        df, phone_fast_path_e164(pl.col("phone"), pl.col("region"), DEFAULT_REGION)
    )
    residue = df.filter(fast.is_null() & pl.col("phone").is_not_null())
    calls = residue.select(
        pl.struct("phone", pl.col("region").fill_null(DEFAULT_REGION)).n_unique()
    ).item()
    print(f"fast path alone {fast_wall:.3f} s: decides {fast.is_not_null().mean():.1%} of rows "
          f"({fast.is_not_null().sum() / max(valid, 1):.1%} of the valid ones); phonenumbers gets "
          f"{residue.height:,} rows = at most {calls:,} distinct calls (fewer: spellings of one number share a call)")  # fmt: skip

    sample = df.sample(min(SAMPLE_ROWS, df.height), seed=SEED)
    sample_s, sample_pairs = _per_distinct(sample)
    per_call = sample_s / sample_pairs
    extrapolated = per_call * distinct
    print(f"phonenumbers per distinct value: {sample_s:.2f} s for {sample_pairs:,} pairs of a {sample.height:,}-row sample "
          f"({per_call * 1e6:.0f} us/pair) -> {extrapolated:.1f} s for {distinct:,} pairs; "
          f"phone_to_e164 (warm) is {extrapolated / wall:.0f}x faster")  # fmt: skip


if __name__ == "__main__":
    main()

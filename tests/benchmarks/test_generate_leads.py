"""Sanity checks of the synthetic lead generator used by the benchmarks and the samples."""

from __future__ import annotations

import phonenumbers
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from benchmarks.generate_leads import (
    COMMON_FIRST_NAMES,
    COMMON_LAST_NAMES,
    EXPORT_COLUMNS,
    SUPPORTED_COUNTRIES,
    country_code,
    generate_leads,
)


@pytest.fixture(scope="module")
def hard() -> pl.DataFrame:
    return generate_leads(20_000, dup_rate=0.1, noise="hard", seed=7)


def test_columns_are_export_headers_plus_truth(hard: pl.DataFrame) -> None:
    assert hard.columns == ["record_id", *EXPORT_COLUMNS, "entity_id"]
    assert all(dtype == pl.String for dtype in hard.dtypes)
    assert hard["record_id"].is_unique().all()


def test_same_seed_same_frame_other_seed_other_frame() -> None:
    first = generate_leads(3_000, dup_rate=0.15, noise="hard", seed=3)
    assert_frame_equal(first, generate_leads(3_000, dup_rate=0.15, noise="hard", seed=3))
    assert not first.equals(generate_leads(3_000, dup_rate=0.15, noise="hard", seed=4))


@pytest.mark.parametrize("dup_rate", [0.0, 0.1, 0.3])
def test_duplicate_rate(dup_rate: float) -> None:
    n = 10_000
    frame = generate_leads(n, dup_rate=dup_rate, seed=1)
    sizes = frame.group_by("entity_id").len()["len"]
    extra_records = (n - sizes.len()) / n  # rows beyond the first of each person
    in_groups = sizes.filter(sizes >= 2).sum() / n  # rows whose person has >= 2 rows
    assert extra_records == pytest.approx(dup_rate, abs=0.002)
    # each extra record joins a group with its original: between dup_rate and 2 * dup_rate
    assert dup_rate <= in_groups <= 2 * dup_rate + 1e-9


@pytest.mark.parametrize("countries", [("US", "GB", "DE", "FR"), SUPPORTED_COUNTRIES])
def test_phones_are_valid_for_the_country(countries: tuple[str, ...]) -> None:
    sample = generate_leads(2_000, noise="hard", seed=11, countries=countries)
    rows = sample.filter(pl.col("Phone").is_not_null()).select("Phone", "Country").rows()
    assert len(rows) > 1_000
    invalid = [
        (phone, country)
        for phone, country in rows
        if not phonenumbers.is_valid_number(phonenumbers.parse(phone, country_code(country)))
    ]
    assert invalid == []


def test_an_email_address_never_belongs_to_two_people(hard: pl.DataFrame) -> None:
    local = pl.col("_e").str.split("@").list.first().str.replace(r"\+.*$", "")
    domain = pl.col("_e").str.split("@").list.last().str.replace("googlemail.com", "gmail.com")
    normalised = hard.filter(pl.col("Email").is_not_null()).with_columns(
        _e=pl.col("Email").str.strip_chars().str.to_lowercase()
    ).with_columns(
        _key=pl.when(domain == "gmail.com")
        .then(local.str.replace_all(".", "", literal=True))
        .otherwise(local) + "@" + domain
    )
    shared = normalised.group_by("_key").agg(pl.col("entity_id").n_unique()).filter(
        pl.col("entity_id") > 1
    )
    assert shared.height == 0


def test_hard_noise_has_distinct_people_sharing_a_switchboard(hard: pl.DataFrame) -> None:
    digits = hard.filter(pl.col("Phone").is_not_null()).with_columns(
        _d=pl.col("Phone").str.replace(r"\s*(x|ext\.)\s*\d+$", "").str.replace_all(r"\D", "")
        .str.slice(-9)
    )
    shared = digits.group_by("_d").agg(pl.col("entity_id").n_unique()).filter(
        pl.col("entity_id") > 1
    )
    assert shared.height > 50


def test_duplicates_differ_from_their_original(hard: pl.DataFrame) -> None:
    groups = hard.filter(pl.len().over("entity_id") > 1)
    distinct_rows = groups.select(*EXPORT_COLUMNS, "entity_id").unique().height
    assert distinct_rows > 0.95 * groups.height


def _lower(names: frozenset[str]) -> list[str]:
    return [name.lower() for name in names]


def test_names_have_a_long_tail_beyond_the_curated_lists(hard: pl.DataFrame) -> None:
    people = hard.unique("entity_id", keep="first")
    first = people["First Name"].drop_nulls().str.to_lowercase()
    last = people["Last Name"].drop_nulls().str.to_lowercase()
    # about 40% of the draws come from the tail (7% with the common lists alone: swapped names)
    assert 0.33 < (~first.is_in(_lower(COMMON_FIRST_NAMES))).mean() < 0.47
    assert 0.33 < (~last.is_in(_lower(COMMON_LAST_NAMES))).mean() < 0.47
    # no name dominates: 2.1-2.5% of the generated US people are Smiths (3.6-4.2% with the
    # common lists alone; 0.8% in the 2010 census)
    codes = {country: country_code(country) for country in people["Country"].unique().to_list()}
    us = people.filter(pl.col("Country").replace_strict(codes, return_dtype=pl.String) == "US")
    assert us.height > 3_000
    assert (us["Last Name"] == "Smith").mean() < 0.032
    assert first.n_unique() > 1_500 and last.n_unique() > 2_500


def test_rare_names_zero_draws_the_common_lists_only() -> None:
    people = generate_leads(5_000, dup_rate=0.0, noise="hard", seed=7, rare_names=0.0)
    first = people["First Name"].drop_nulls().str.to_lowercase()
    assert first.is_in(_lower(COMMON_FIRST_NAMES)).all()  # (with the default, about 35% are not)


@pytest.mark.parametrize("rare_names", [-0.1, 1.0, float("nan")])
def test_rare_names_out_of_range_is_refused(rare_names: float) -> None:
    with pytest.raises(ValueError, match="rare_names"):
        generate_leads(10, rare_names=rare_names)

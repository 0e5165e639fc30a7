"""country_to_iso2: names, codes and colloquial spellings to ISO 3166-1 alpha-2."""

from __future__ import annotations

import polars as pl
import pycountry
import pytest
from polars.testing import assert_frame_equal

from transforms.countries import COUNTRY_ALIASES, country_to_iso2

CASES = {
    "Germany": "DE", "Deutschland": "DE", "DE": "DE", "DEU": "DE", "germany ": "DE", "de": "DE",
    "276": "DE", "United States": "US", "USA": "US", "U.S.A.": "US", "U.S.": "US", "US": "US",
    "United States of America": "US", "United Kingdom": "GB", "UK": "GB", "U.K.": "GB",
    "Great Britain": "GB", "England": "GB", "Scotland": "GB", "GB": "GB", "Schweiz": "CH",
    "Suisse": "CH", "Switzerland": "CH", "Österreich": "AT", "Oesterreich": "AT",
    "Austria": "AT", "España": "ES", "Espana": "ES", "Spain": "ES", "France": "FR",
    "Frankreich": "FR", "Nederland": "NL", "Holland": "NL", "The Netherlands": "NL",
    "Netherlands": "NL", "Italia": "IT", "Italy": "IT", "Russia": "RU", "Turkey": "TR",
    "Türkiye": "TR", "South Korea": "KR", "Czech Republic": "CZ", "Czechia": "CZ",
    "Ivory Coast": "CI", "Côte d'Ivoire": "CI", "UAE": "AE", "Brasil": "BR", "Viet Nam": "VN",
    "  united   kingdom  ": "GB", "DEUTSCHLAND": "DE", "Polska": "PL", "Sverige": "SE",
}  # fmt: skip
UNKNOWN = ["", "   ", "Atlantis", "EU", "Europe", "n/a", "-", "XX", "Germ", "123456"]


def test_known_values() -> None:
    frame = pl.DataFrame({"country": list(CASES)})
    got = frame.with_columns(country_to_iso2(pl.col("country")))
    expected = frame.with_columns(country_iso2=pl.Series(list(CASES.values())))
    assert_frame_equal(got, expected)


def test_unknown_values_and_nulls_are_null() -> None:
    frame = pl.DataFrame({"country": [*UNKNOWN, None]}, schema={"country": pl.String})
    got = frame.select(country_to_iso2(pl.col("country"))).to_series()
    assert got.null_count() == frame.height


def test_every_pycountry_name_and_code_round_trips() -> None:
    rows = []
    for c in pycountry.countries:
        for value in (c.alpha_2, c.alpha_3, c.name, c.alpha_2.lower(), c.name.upper()):
            rows.append((value, c.alpha_2))
    frame = pl.DataFrame(rows, schema=["country", "expected"], orient="row")
    got = frame.with_columns(country_to_iso2(pl.col("country")))
    wrong = got.filter(pl.col("country_iso2").ne_missing(pl.col("expected")))
    assert wrong.is_empty(), wrong


@pytest.mark.parametrize("alias", sorted(COUNTRY_ALIASES))
def test_aliases_point_at_real_codes(alias: str) -> None:
    code = COUNTRY_ALIASES[alias]
    assert code == "XK" or pycountry.countries.get(alpha_2=code) is not None
    got = pl.select(country_to_iso2(pl.lit(alias.title()))).item()
    assert got == code


def test_many_rows_few_distinct_values() -> None:
    frame = pl.DataFrame({"country": ["Germany", "USA", None, "UK", "??"] * 20_000})
    got = frame.select(country_to_iso2(pl.col("country"))).to_series()
    assert got.head(5).to_list() == ["DE", "US", None, "GB", None]
    assert got.value_counts().height == 4


def test_empty_and_all_null_columns() -> None:
    empty = pl.DataFrame({"country": []}, schema={"country": pl.String})
    assert empty.select(country_to_iso2(pl.col("country"))).height == 0
    nulls = pl.DataFrame({"country": [None, None]}, schema={"country": pl.String})
    assert nulls.select(country_to_iso2(pl.col("country"))).to_series().to_list() == [None, None]

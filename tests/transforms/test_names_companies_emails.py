from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from transforms import schema as s
from transforms.companies import company_key
from transforms.emails import clean_email, is_valid_email
from transforms.names import case_name, clean_text, split_full_name


def _one(expr: pl.Expr, value: str | None) -> object:
    return pl.DataFrame({"v": [value]}, schema={"v": pl.String}).select(expr)[0, 0]


@pytest.mark.parametrize(
    ("full", "salutation", "first", "last"),
    [
        ("Schmidt, Anna", None, "Anna", "Schmidt"),
        ("Dr. Anna Maria Schmidt", "Dr.", "Anna Maria", "Schmidt"),
        ("Prof. Dr. Hans Müller", "Prof. Dr.", "Hans", "Müller"),
        ("Jan van der Berg", None, "Jan", "van der Berg"),
        ("John Smith Jr.", None, "John", "Smith"),
        ("  Cher ", None, None, "Cher"),
        ("O'Brien, Dr. Sean", None, "Sean", "O'Brien"),
        (None, None, None, None),
    ],
)
def test_split_full_name(
    full: str | None, salutation: str | None, first: str | None, last: str | None
) -> None:
    out = _one(split_full_name(pl.col("v")), full)
    assert out == {"salutation": salutation, "first_name": first, "last_name": last}


@pytest.mark.parametrize(
    ("raw", "surname", "expected"),
    [
        ("MCDONALD", True, "McDonald"),
        ("o'brien", True, "O'Brien"),
        ("VAN DER BERG", True, "van der Berg"),
        ("jean-luc", False, "Jean-Luc"),
        ("  anna   maria ", False, "Anna Maria"),
        ("DeVito", True, "DeVito"),  # mixed case is kept as typed
        ("ÉLODIE", False, "Élodie"),
        ("", False, None),
    ],
)
def test_case_name(raw: str, surname: bool, expected: str | None) -> None:
    assert _one(case_name(pl.col("v"), surname=surname), raw) == expected


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("ACME, Inc.", "acme"),
        ("Acme Inc", "acme"),
        ("Acme LLC", "acme"),
        ("Müller GmbH & Co. KG", "muller"),
        ("Globex Ltd.", "globex"),
        ("Initech S.A.", "initech"),
        ("The Coca-Cola Company", "coca cola"),
        ("Johnson & Johnson", "johnson and johnson"),
        ("GmbH", "gmbh"),
        ("Granitepath Spedition mbH", "granitepath spedition"),
        ("Beck Digital GmbH u. Co.KG", "beck digital"),
        ("Hoffmann GmbH und Co. KG", "hoffmann"),
        ("Cedarleaf Société Anonyme", "cedarleaf"),
        ("U Haul Inc", "u haul"),
        ("   ", None),
    ],
)
def test_company_key(raw: str, key: str | None) -> None:
    assert _one(company_key(pl.col("v")), raw) == key


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("  Berlin ", "Berlin"),
        ("New\t York", "New York"),
        ("Frankfurt\u00a0am  Main", "Frankfurt am Main"),
        ("a\r\nb", "a b"),
        ("\u2003Köln\u3000", "Köln"),  # other Unicode spaces at the ends are trimmed
        ("VP  Sales", "VP Sales"),
        (" \t ", None),
        ("", None),
        (None, None),
    ],
)
def test_clean_text(raw: str | None, clean: str | None) -> None:
    assert _one(clean_text(pl.col("v")), raw) == clean


def test_clean_text_regex_and_strip_agree_on_whitespace() -> None:
    """clean_text leaves a value alone unless ``\\s`` matches at an end: that skips exactly the
    values strip_chars would not change only if both call the same code points whitespace."""
    chars = pl.Series("c", [chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF])
    by_regex = chars.str.contains(r"^\s$")
    by_strip = chars.str.strip_chars() == ""
    assert by_regex.sum() >= 25
    assert chars.filter(by_regex != by_strip).to_list() == []


@given(st.lists(st.one_of(st.none(), st.text(st.sampled_from([*"ab. ", "\t", "\n", "\r", "\u00a0", "\u2003", "\u3000", "\u0085", "\u2028", "\x0b", "\x0c", "é"]), max_size=7)), max_size=40))
@hsettings(max_examples=300, deadline=None)
def test_clean_text_rewrites_only_what_the_one_pass_rewrite_changes(values: list[str | None]) -> None:
    # clean_text skips the values it would leave unchanged: it must agree with rewriting them all
    frame = pl.DataFrame({"v": values}, schema={"v": pl.String})
    everything = pl.col("v").str.replace_all(r"[\s\u00a0]{2,}|[\t\r\n\f\v\u00a0]", " ").str.strip_chars()
    expected = frame.select(pl.when(everything.str.len_chars() > 0).then(everything)).to_series().to_list()
    assert frame.select(clean_text(pl.col("v"))).to_series().to_list() == expected


@given(st.lists(st.sampled_from([*"AbÉé &+.,-/_\t𝐀ℂ🄰Ⅻ", "GmbH", "Inc", " Co. KG", "The ", "und"]), max_size=12).map("".join))
@hsettings(max_examples=300, deadline=None)
def test_company_key_is_stored_lower_case_and_trimmed(raw: str) -> None:
    # the warehouse joins the column as is for term frequencies (schema.LOWER_CASE_COLUMNS)
    assert s.COMPANY_KEY in s.LOWER_CASE_COLUMNS
    key = _one(company_key(pl.col("v")), raw)
    assert key is None or (key == key.lower() == key.strip() and key != "")


@pytest.mark.parametrize(
    ("raw", "clean", "valid"),
    [
        ("  Anna.Schmidt@Example.COM ", "anna.schmidt@example.com", True),
        ("mailto:x@y.de", "x@y.de", True),
        ("<a+tag@sub.example.co.uk>", "a+tag@sub.example.co.uk", True),
        ("jürgen@müller.de", "jürgen@müller.de", True),
        ("john.doe@", "john.doe@", False),
        ("a@b", "a@b", False),
        ("two@@at.com", "two@@at.com", False),
        ("dot..dot@x.com", "dot..dot@x.com", False),
        ("", None, None),
    ],
)
def test_email(raw: str, clean: str | None, valid: bool | None) -> None:
    assert _one(clean_email(pl.col("v")), raw) == clean
    assert _one(is_valid_email(clean_email(pl.col("v"))), raw) == valid

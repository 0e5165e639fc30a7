"""phone_to_e164 must equal phonenumbers, row by row (parse_e164 is the reference)."""

from __future__ import annotations

import random
import re

import phonenumbers
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from phonenumbers import PhoneMetadata, PhoneNumberFormat, PhoneNumberType
from polars.testing import assert_frame_equal

from transforms import phones
from transforms.phones import parse_e164, phone_fast_path_e164, phone_to_e164

DEFAULT = "US"
#: covered and uncovered regions, shared calling codes (NANP, +44, +7, +61, +39), odd inputs
REGIONS = [
    "UA", "PH", "EG", "NG", "PK", "VN", "UY", "KE", "MA", "QA", "JP", "BR", "AR", "CO", "KR",
    "US", "CA", "GB", "DE", "FR", "NL", "ES", "IT", "AU", "CH", "AT", "BE", "SE", "NO", "FI",
    "DK", "IE", "PL", "PT", "LU", "NZ", "IN", "SG", "MX", "KR", "HK", "CO", "BR", "JP", "AR",
    "GG", "JE", "IM", "PR", "JM", "DO", "RU", "KZ", "CC", "VA", "AX", "ZA", "IL", "CN",
]  # fmt: skip
ODD_REGIONS = [None, "XX", "de", "", "UK", "001"]
TYPES = [
    PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE, PhoneNumberType.TOLL_FREE,
    PhoneNumberType.PREMIUM_RATE, PhoneNumberType.SHARED_COST, PhoneNumberType.VOIP,
    PhoneNumberType.PERSONAL_NUMBER, PhoneNumberType.PAGER, PhoneNumberType.UAN,
]  # fmt: skip
JUNK = [
    "", " ", "n/a", "-", "none", "123", "12", "1", "+", "++1 415 555 0132", "+1 415 CALL NOW",
    "tel:+1-415-555-0132", "1-800-FLOWERS", "(0)", "0", "00", "0000000", "+0 30 1234567",
    "+999 123456", "+1", "+12", "٠٣٠ ١٢٣٤٥٦٧", "０３０ １２３４５６７", "+49\u00a030 1234567",
    "\t030 1234567\n", "030/1234567", "+49-(0)30-123 45 67", "+44 (0)20 7946 0958 / x1", "1 2 3",
    "+(44) 20 7946 0958", "((+49)) 30 1234567", "+49 30 1234567+1", "415 555 0132 x 1234567890",
    "4155550132x", "(415) 555-0132 ext: 5", "+1 415 555 0132;ext=12", "+1 (415) 555-0132 #12",
    "0049 30 1234567 x99", "001 415 555 0132", "011 44 20 7946 0958", "0011 61 2 9876 5432",
    "1" * 30, "+" + "4" * 20, "x" * 300, "+1 415 555 0132" + " " * 250,
]  # fmt: skip


def _examples() -> list[tuple[str, phonenumbers.PhoneNumber]]:
    out = []
    for region in REGIONS:
        for kind in TYPES:
            number = phonenumbers.example_number_for_type(region, kind)
            if number is not None:
                out.append((region, number))
    return out


EXAMPLES = _examples()


def _group(rng: random.Random, digits: str) -> str:
    parts, i = [], 0
    while i < len(digits):
        k = rng.choice([2, 3, 3, 4])
        parts.append(digits[i : i + k])
        i += k
    return rng.choice([" ", "-", ".", " ", ""]).join(parts)


def _mutate(rng: random.Random, digits: str) -> str:
    d = list(digits)
    for i in range(max(0, len(d) - rng.choice([0, 0, 1, 2, 3, 4, 6, len(d)])), len(d)):
        d[i] = str(rng.randrange(10))
    r = rng.random()
    if r < 0.05 and len(d) > 3:
        d.pop(rng.randrange(len(d)))
    elif r < 0.1:
        d.insert(rng.randrange(len(d) + 1), str(rng.randrange(10)))
    return "".join(d)


def _phone(rng: random.Random) -> tuple[str, str | None]:
    """One phone string in one of many formats, with the region column's value."""
    home, example = rng.choice(EXAMPLES)
    nsn = _mutate(rng, phonenumbers.national_significant_number(example))
    cc = str(example.country_code)
    region = rng.choice([home] * 8 + [rng.choice(REGIONS), rng.choice(ODD_REGIONS)])
    try:
        number = phonenumbers.parse(f"+{cc}{nsn}", None)
    except phonenumbers.NumberParseException:
        number = None
    style = rng.randrange(15)
    if style == 0:
        return f"+{cc}{nsn}", region
    if style == 1:
        return f"+{cc} {_group(rng, nsn)}", region
    if style == 2 and number is not None:
        return phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL), region
    if style == 3 and number is not None:
        return phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL), region
    if style == 4:
        idd = rng.choice(["00", "011", "0011", "001", "810", "00 ", "(00) ", "0015"])
        return f"{idd}{cc} {_group(rng, nsn)}", region
    if style == 5:
        return f"{cc}{_group(rng, nsn)}", region  # the calling code without "+"
    if style == 6:
        trunk = rng.choice(["0", "1", "", "0 ", "(0)", "8", "06", "1 ", "00"])
        return f"{trunk}{_group(rng, nsn)}", region
    if style == 7:
        return f"+{cc} (0) {_group(rng, nsn)}", region
    if style == 8 and number is not None:
        ext = rng.choice([" x123", " ext. 5", ";ext=9", " #12", ",,3", " x", " ext", " X 7", "x1"])
        return phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL) + ext, region
    if style == 9:
        return rng.choice(JUNK), region
    if style == 10:
        return str(rng.randrange(10 ** rng.randrange(1, 20))), region
    if style == 11:
        return f"({nsn[:3]}) {nsn[3:6]}-{nsn[6:]}", region
    if style == 12:
        return f"{rng.choice(['+', '00', '0'])}{cc}{nsn}{rng.randrange(10**4)}", region  # too long
    if style == 13:
        return f"{cc}0{nsn}", region  # calling code, then a national prefix
    return nsn, region


def _reference(frame: pl.DataFrame) -> pl.Series:
    values = [
        parse_e164(p, DEFAULT if r is None else r)
        for p, r in zip(frame["phone"], frame["region"], strict=True)
    ]
    return pl.Series("expected", values, dtype=pl.String)


def _frame(rows: list[tuple[str | None, str | None]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={"phone": pl.String, "region": pl.String}, orient="row")


def _with_results(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(
        got=phone_to_e164(pl.col("phone"), pl.col("region"), DEFAULT),
        fast=phone_fast_path_e164(pl.col("phone"), pl.col("region"), DEFAULT),
        expected=_reference(frame),
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_matches_phonenumbers_on_random_numbers(seed: int) -> None:
    rng = random.Random(seed)
    out = _with_results(_frame([_phone(rng) for _ in range(6000)]))
    wrong = out.filter(pl.col("got").ne_missing(pl.col("expected")))
    assert wrong.is_empty(), wrong.head(20)
    # where the fast path answers, it is phonenumbers' answer (and it never answers "invalid")
    fast_wrong = out.filter(pl.col("fast").is_not_null() & pl.col("fast").ne(pl.col("expected")))
    assert fast_wrong.is_empty(), fast_wrong.head(20)


def test_fast_path_covers_common_formats() -> None:
    """Valid numbers of covered regions, as people write them, mostly skip phonenumbers."""
    rng = random.Random(7)
    rows = []
    for region in ("US", "CA", "GB", "DE", "FR", "NL", "ES", "IT", "AU", "CH", "AT"):
        for kind in (PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE):
            example = phonenumbers.example_number_for_type(region, kind)
            for fmt in (
                PhoneNumberFormat.E164,
                PhoneNumberFormat.INTERNATIONAL,
                PhoneNumberFormat.NATIONAL,
            ):
                for _ in range(20):
                    nsn = phonenumbers.national_significant_number(example)
                    nsn = nsn[:-3] + f"{rng.randrange(1000):03d}"
                    number = phonenumbers.parse(f"+{example.country_code}{nsn}", None)
                    rows.append((phonenumbers.format_number(number, fmt), region))
    out = _with_results(_frame(rows))
    valid = out.filter(pl.col("expected").is_not_null())
    assert valid.height > 0.9 * out.height
    assert valid["fast"].is_not_null().mean() > 0.97
    assert (valid["got"] == valid["expected"]).all()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            st.text(alphabet="0123456789 +-().x/#eEtT", min_size=0, max_size=22),
            st.sampled_from(REGIONS + ODD_REGIONS),
        ),
        min_size=1,
        max_size=60,
    )
)
def test_matches_phonenumbers_on_arbitrary_strings(rows: list[tuple[str, str | None]]) -> None:
    out = _with_results(_frame(rows))
    wrong = out.filter(pl.col("got").ne_missing(pl.col("expected")))
    assert wrong.is_empty(), wrong


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["+", "", "00", "011", "0", "(0)", "1"]),
            st.sampled_from(sorted({str(r[1].country_code) for r in EXAMPLES})),
            st.text(alphabet="0123456789", min_size=4, max_size=12),
            st.sampled_from(REGIONS),
        ),
        min_size=1,
        max_size=60,
    )
)
def test_matches_phonenumbers_on_digit_strings(rows: list[tuple[str, str, str, str]]) -> None:
    out = _with_results(_frame([(f"{p}{cc} {digits}", r) for p, cc, digits, r in rows]))
    wrong = out.filter(pl.col("got").ne_missing(pl.col("expected")))
    assert wrong.is_empty(), wrong


def test_literal_cases() -> None:
    frame = _frame(
        [
            ("+1 (415) 555-0132", "US"),
            ("415.555.0132", "US"),
            ("1-415-555-0132", None),
            ("(415) 555-0132 x123", "US"),
            ("0049 30 1234567", "DE"),
            ("030 1234567", "DE"),
            ("+44 20 7946 0958", "GB"),
            ("+44 (0) 20 7946 0958", "GB"),
            ("07911 123456", "GB"),
            ("07700 900123", "GB"),  # Ofcom's range for drama: phonenumbers says invalid
            ("604 555 0123", "CA"),
            ("", "US"),
            (None, "US"),
            ("n/a", "US"),
            ("12345", "DE"),
            ("030 1234567", None),  # the default region US: invalid
        ]
    )
    got = frame.select(phone_to_e164(pl.col("phone"), pl.col("region"), DEFAULT).alias("e164"))
    expected = pl.DataFrame(
        {
            "e164": [
                "+14155550132", "+14155550132", "+14155550132", "+14155550132",
                "+49301234567", "+49301234567", "+442079460958", "+442079460958",
                "+447911123456", None, "+16045550123", None, None, None, None, None,
            ]
        },
        schema={"e164": pl.String},
    )  # fmt: skip
    assert_frame_equal(got, expected)


def test_lazy_and_literal_region() -> None:
    lf = pl.LazyFrame({"phone": ["+49 30 1234567", "020 7946 0958", "bad"]})
    out = lf.select(phone_to_e164(pl.col("phone"), pl.lit(None), "GB")).collect()
    assert out.to_series().to_list() == ["+49301234567", "+442079460958", None]


def test_empty_frame() -> None:
    out = _frame([]).select(phone_to_e164(pl.col("phone"), pl.col("region"), DEFAULT))
    assert out.height == 0


@pytest.mark.parametrize("attr", ["international_prefix", "national_prefix_for_parsing"])
def test_prefix_order_matches_python_re(attr: str) -> None:
    """The tables assume the first word of _ordered that prefixes a number is re.match's."""
    rng = random.Random(attr)
    for region in phones._tables().parse_regions:
        pattern = getattr(PhoneMetadata.metadata_for_region(region), attr)
        if not pattern:
            continue
        try:
            words = phones._ordered(phones._language(pattern))
        except phones._Unsupported:
            continue  # anchors, huge languages: the tables treat those prefixes as undecided
        for _ in range(300):
            digits = "".join(rng.choice("0000111123456789") for _ in range(8))
            m = re.match(pattern, digits)
            first = next((w for w in words if digits.startswith(w)), None)
            assert (m.group(0) if m else None) == first, (region, pattern, digits)


def test_can_start_with_agrees_with_fullmatch() -> None:
    """_can_start_with must never say "no" when some number with that prefix is valid."""
    for region in ("DE", "GB", "US", "IT", "AU"):
        md = PhoneMetadata.metadata_for_region(region)
        general = md.general_desc.national_number_pattern
        node = phones._language(general)
        example = phonenumbers.national_significant_number(phonenumbers.example_number(region))
        for k in range(1, len(example) + 1):
            assert phones._can_start_with(node, example[:k])
        assert re.fullmatch(general, example)


def test_prefix_tables_match_phonenumbers_helpers() -> None:
    """The international and national prefix tables against phonenumbers' own strip helpers."""
    from phonenumbers.phonenumberutil import (
        CountryCodeSource,
        _maybe_strip_i18n_prefix_and_normalize,
        _maybe_strip_national_prefix_carrier_code,
    )

    tables = phones._tables()
    idd, npp = tables.idd.to_numpy(), tables.npp.to_numpy()
    rng = random.Random(11)
    for i, region in enumerate(tables.parse_regions):
        md = PhoneMetadata.metadata_for_region(region)
        for _ in range(400):
            digits = "".join(rng.choice("0000011112345689") for _ in range(rng.randrange(5, 13)))
            # national prefix: the table's strip count, unless it says "undecided"
            strip = int(npp[i * 100 + int(digits[:2])])
            if strip != phones._AMBIGUOUS:
                _, rest, _ = _maybe_strip_national_prefix_carrier_code(digits, md)
                assert len(digits) - len(rest) == strip and digits.endswith(rest), (region, digits)
            # international prefix (4-digit prefixes: stripped unless the fifth digit is 0)
            strip = int(idd[i * 10_000 + int(digits[:4])])
            if strip == 4 and digits[4] == "0":
                strip = 0
            if strip != phones._AMBIGUOUS and md.international_prefix:
                source, rest = _maybe_strip_i18n_prefix_and_normalize(
                    digits, md.international_prefix
                )
                expected = (
                    0
                    if source == CountryCodeSource.FROM_DEFAULT_COUNTRY
                    else len(digits) - len(rest)
                )
                assert strip == expected, (region, digits)


def test_random_digits_after_every_covered_calling_code() -> None:
    """Validity (general pattern skipped where provably implied, number types, shared calling
    codes) on random digits: mostly invalid numbers, which the fast path must never accept."""
    rng = random.Random(5)
    tables = phones._tables()
    rows = []
    for region in tables.parse_regions:
        cc = phonenumbers.country_code_for_region(region)
        example = phonenumbers.example_number(region)
        nsn = phonenumbers.national_significant_number(example) if example else "2"
        for _ in range(60):
            keep = rng.randrange(0, len(nsn) + 1)
            tail = "".join(rng.choice("0123456789") for _ in range(rng.randrange(0, 6)))
            rows.append((f"+{cc} {nsn[:keep]}{tail}", region))
    out = _with_results(_frame(rows))
    wrong = out.filter(pl.col("got").ne_missing(pl.col("expected")))
    assert wrong.is_empty(), wrong.head(20)
    assert out["fast"].is_not_null().sum() > 0.1 * out.height  # the valid ones, mostly


def test_tables_read_from_the_disk_cache_equal_freshly_built_ones(tmp_path, monkeypatch, caplog) -> None:
    """The tables go through transforms.disk_cache: a stored copy must be the same tables, and
    read back without being built again."""
    from dataclasses import fields

    from transforms.disk_cache import ENV_CACHE_DIR

    monkeypatch.setenv(ENV_CACHE_DIR, str(tmp_path))
    built = phones._build_tables()
    phones._tables.cache_clear()
    try:
        phones._tables()  # builds and stores them
        assert len(list(tmp_path.glob("phone-tables-*.lpcache"))) == 1

        def no_build() -> None:
            raise AssertionError("built again: the stored tables were not used")

        monkeypatch.setattr(phones, "_build_tables", no_build)
        phones._tables.cache_clear()
        with caplog.at_level("WARNING"):
            stored = phones._tables()
    finally:
        phones._tables.cache_clear()
    assert caplog.text == ""
    for f in fields(built):
        want, got = getattr(built, f.name), getattr(stored, f.name)
        if isinstance(want, pl.Series):
            assert got.equals(want, check_dtypes=True, check_names=True), f.name
        else:
            assert got == want and type(got) is type(want), f.name

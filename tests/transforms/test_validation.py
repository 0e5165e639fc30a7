from __future__ import annotations

import polars as pl
import pytest

from transforms import schema as s
from transforms.configuration import IngestSettings
from transforms.normalise import normalise_leads
from transforms.validation import BLANK, blank_records, validate_leads


def frame(**columns: list) -> pl.LazyFrame:  # type: ignore[type-arg]
    n = len(next(iter(columns.values())))
    data = {f: columns.get(f, [None] * n) for f in s.INPUT_FIELDS}
    base = pl.DataFrame(data, schema={f: pl.String for f in s.INPUT_FIELDS}).with_columns(
        pl.lit(None, pl.String).alias(s.EXTRA),
        pl.Series(s.SOURCE_ROW, list(range(1, n + 1)), dtype=pl.Int64),
        pl.Series(s.ROW_ERROR, columns.get("_err", [None] * n), dtype=pl.String),
        pl.Series(BLANK, columns.get("_blank", [False] * n), dtype=pl.Boolean),
    )
    return normalise_leads(base.lazy(), lead_source="Web", default_region="US")


ROWS = dict(
    last_name=["Lee", None, "Kim", "Ng", "Oz", "Li", None],
    company=["Acme", "Acme", None, "Acme", "Acme", "Acme", None],
    email=["ann@acme.com", "b@acme.com", "c@acme.com", "bad@", None, None, None],
    phone=[None, None, None, None, "12345", "+1 (212) 456-7890", None],
    _err=[None, None, None, None, None, None, "too many fields: expected 26, got 27"],
)


def reasons(result) -> dict[int, list[str]]:  # type: ignore[no-untyped-def]
    return dict(zip(result.rejects[s.SOURCE_ROW], result.rejects[s.REASONS].to_list(), strict=True))


def test_default_rules() -> None:
    result = validate_leads(frame(**ROWS), IngestSettings())
    assert result.leads[s.SOURCE_ROW].to_list() == [1, 6]
    assert reasons(result) == {
        2: ["missing_last_name"],
        3: ["missing_company"],
        4: ["invalid_email"],
        5: ["no_contact_channel"],  # the phone is not a valid number and there is no email
        7: ["malformed_row"],
    }
    assert result.rows_read == 7 and result.rows_skipped == 0


@pytest.mark.parametrize(
    ("settings", "loaded", "changed"),
    [
        (IngestSettings(missing_company="not_provided"), [1, 3, 6], {}),
        (IngestSettings(invalid_email="drop_value"), [1, 6], {4: ["no_contact_channel"]}),
        (IngestSettings(require_contact_channel=False), [1, 5, 6], {}),
        (IngestSettings(invalid_phone="reject"), [1, 6], {5: ["invalid_phone"]}),
    ],
)
def test_settings_relax_or_tighten_rules(settings: IngestSettings, loaded: list[int], changed: dict) -> None:  # type: ignore[type-arg]
    result = validate_leads(frame(**ROWS), settings)
    assert result.leads[s.SOURCE_ROW].to_list() == loaded
    for row, codes in changed.items():
        assert reasons(result)[row] == codes


def test_not_provided_company_and_dropped_email() -> None:
    result = validate_leads(frame(**ROWS), IngestSettings(missing_company="not_provided", invalid_email="drop_value", require_contact_channel=False))
    leads = {r[s.SOURCE_ROW]: r for r in result.leads.iter_rows(named=True)}
    assert leads[3][s.COMPANY] == s.NOT_PROVIDED_COMPANY
    assert leads[4][s.EMAIL] is None and leads[4][s.EMAIL_DOMAIN] is None


def test_blank_rows_are_skipped_not_rejected() -> None:
    result = validate_leads(frame(last_name=[None, "Lee"], company=[None, "A"], email=[None, "a@a.com"], _blank=[True, False]), IngestSettings())
    assert (result.rows_read, result.rows_loaded, result.rows_rejected, result.rows_skipped) == (2, 1, 0, 1)


def test_too_long_field() -> None:
    result = validate_leads(frame(last_name=["x" * 20], company=["A"], email=["a@a.com"]), IngestSettings(max_field_length=10))
    assert reasons(result) == {1: ["field_too_long"]}


def test_blank_records() -> None:
    read = pl.DataFrame(
        {
            "Name": [None, " ", "Ann", None, "\t", None, " "],
            "Notes": [None, "", None, " x ", "\u00a0", None, None],
            "Id": [None, None, None, None, None, 7, None],
            s.ROW_ERROR: [None, None, None, None, None, None, "too many fields"],
        }
    )
    # a value in any column makes a record; so does a read error (it is rejected with its reason)
    assert blank_records(read, [0, 1, 2]).to_list() == [True, True, False, False, True, False, False]
    # only the given columns count
    assert blank_records(read, [0, 1]).to_list() == [True, True, False, False, True, True, False]
    assert blank_records(read, [0, 1, 2]).name == BLANK
    # no columns to look at: every record is blank but the one with a read error
    assert blank_records(read, []).to_list() == [True, True, True, True, True, True, False]
    assert blank_records(read.clear(), [0, 1, 2]).to_list() == []

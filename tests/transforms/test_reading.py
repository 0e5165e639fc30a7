"""Tests for transforms.reading: every format, encoding and kind of damage a lead file has."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from pathlib import Path

import polars as pl
import pytest
import xlsxwriter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from transforms import reading
from transforms.errors import IngestError
from transforms.headers import header_score
from transforms.reading import RAW_LINE, read_table
from transforms.schema import ROW_ERROR, SOURCE_ROW


def write(tmp_path: Path, name: str, content: bytes | str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode(encoding) if isinstance(content, str) else content)
    return path


def values(table: reading.RawTable) -> list[tuple[str | None, ...]]:
    return table.frame.select(table.headers).rows()


def robust(path: Path, **kwargs: object) -> reading.RawTable:
    """The Python-csv fallback path, forced."""
    head = path.read_bytes()[: reading._HEAD_BYTES]
    return reading._read_delimited(path, head, force_robust=True, **kwargs)  # type: ignore[arg-type]


# --- encodings ---------------------------------------------------------------------------------

LEADS = "Email,Vorname,Firma\nanna@müller.de,Jürgen,Müller & Söhne GmbH\nb@x.fr,Zoë,Café Œuvre\n"
EXPECTED = [
    ("anna@müller.de", "Jürgen", "Müller & Söhne GmbH"),
    ("b@x.fr", "Zoë", "Café Œuvre"),
]


@pytest.mark.parametrize(
    ("encoding", "reported"),
    [
        ("utf-8", "utf-8"),
        ("utf-8-sig", "utf-8-sig"),
        ("cp1252", "cp1252"),
        ("utf-16", "utf-16"),  # little-endian with BOM, what Excel's "Unicode text" writes
        ("utf-16-be", "utf-16-be"),  # no BOM: recognised from the NUL pattern
    ],
)
def test_encodings_decode_to_the_same_values(tmp_path: Path, encoding: str, reported: str) -> None:
    table = read_table(write(tmp_path, "leads.csv", LEADS, encoding))
    assert table.encoding == reported
    assert table.headers == ("Email", "Vorname", "Firma")
    assert values(table) == EXPECTED


def test_utf16_big_endian_with_bom(tmp_path: Path) -> None:
    table = read_table(write(tmp_path, "leads.csv", "\ufeff" + LEADS, "utf-16-be"))
    assert table.encoding == "utf-16"
    assert values(table) == EXPECTED


def test_excel_unicode_text_is_utf16_tab_delimited(tmp_path: Path) -> None:
    content = LEADS.replace(",", "\t").replace("\n", "\r\n")
    table = read_table(write(tmp_path, "leads.txt", content, "utf-16"))
    assert (table.encoding, table.delimiter) == ("utf-16", "\t")
    assert values(table) == EXPECTED


def test_cyrillic_cp1251_is_not_read_as_cp1252(tmp_path: Path) -> None:
    content = "Имя;Фамилия;Компания\nИван;Петров;ООО Ромашка\nАнна;Смирнова;Рога и копыта\n"
    table = read_table(write(tmp_path, "leads.csv", content, "cp1251"))
    assert table.encoding == "cp1251"
    assert table.headers == ("Имя", "Фамилия", "Компания")
    assert values(table)[0] == ("Иван", "Петров", "ООО Ромашка")


def test_cp1252_byte_after_a_long_utf8_looking_head(tmp_path: Path) -> None:
    """The head (256 KiB) is ASCII; the first cp1252 byte is far down the file."""
    rows = "".join(f"lead{i}@example.com,Acme {i}\n" for i in range(15_000))
    content = "Email,Company\n" + rows + "mueller@example.de,Müller GmbH\n"
    path = write(tmp_path, "leads.csv", content, "cp1252")
    assert path.stat().st_size > reading._HEAD_BYTES
    table = read_table(path)
    assert table.encoding == "cp1252"
    assert table.frame.height == 15_001
    assert values(table)[-1] == ("mueller@example.de", "Müller GmbH")


# --- delimiters and quoting --------------------------------------------------------------------


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_each_delimiter_is_detected(tmp_path: Path, delimiter: str) -> None:
    rows = [["Email", "Company", "City"], ["a@x.de", "Acme, Inc; Ltd|Tab\there", "Köln"]]
    rows += [[f"{i}@x.de", f"Co {i}", "Bonn"] for i in range(5)]
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter).writerows(rows)
    table = read_table(write(tmp_path, "leads.csv", buffer.getvalue()))
    assert table.delimiter == delimiter
    assert values(table) == [tuple(r) for r in rows[1:]]


def test_semicolon_file_with_decimal_commas_in_every_row(tmp_path: Path) -> None:
    content = "Firma;Umsatz;Ort\nA;1,5;Köln\nB;2,5;Bonn\nC;3,5;Ulm\n"
    assert read_table(write(tmp_path, "leads.csv", content)).delimiter == ";"


def test_quoted_newlines_delimiters_and_doubled_quotes(tmp_path: Path) -> None:
    content = (
        "Email,Notes,Company\r\n"
        'a@x.de,"line one\r\nline two, with comma","Acme ""Best"" Inc"\r\n'
        'b@x.de,"",plain\r\n'
    )
    table = read_table(write(tmp_path, "leads.csv", content))
    assert RAW_LINE not in table.frame.columns
    assert values(table) == [
        ("a@x.de", "line one\r\nline two, with comma", 'Acme "Best" Inc'),
        ("b@x.de", None, "plain"),
    ]


def test_values_are_not_stripped(tmp_path: Path) -> None:
    table = read_table(write(tmp_path, "leads.csv", "Email, Company \n a@x.de ,   \n"))
    assert table.headers == ("Email", "Company")
    assert values(table) == [(" a@x.de ", "   ")]


def test_ragged_short_rows_are_padded_on_the_fast_path(tmp_path: Path) -> None:
    table = read_table(write(tmp_path, "leads.csv", "Email,Company,City\na@x.de\nb@x.de,B\n"))
    assert RAW_LINE not in table.frame.columns
    assert values(table) == [("a@x.de", None, None), ("b@x.de", "B", None)]
    assert table.frame[ROW_ERROR].null_count() == 2


def test_blank_lines_are_all_null_records_that_keep_their_number(tmp_path: Path) -> None:
    table = read_table(write(tmp_path, "leads.csv", "Email,Company\na@x.de,A\n\n\r\nb@x.de,B\n\n"))
    assert values(table) == [
        ("a@x.de", "A"),
        (None, None),
        (None, None),
        ("b@x.de", "B"),
        (None, None),
    ]
    assert table.frame[SOURCE_ROW].to_list() == [1, 2, 3, 4, 5]
    assert table.frame.schema[SOURCE_ROW] == pl.Int64


def test_classic_mac_line_endings(tmp_path: Path) -> None:
    table = read_table(write(tmp_path, "leads.csv", "Email,Company\ra@x.de,A\rb@x.de,B\r"))
    assert values(table) == [("a@x.de", "A"), ("b@x.de", "B")]


# --- malformed records: the fallback path ------------------------------------------------------


def test_too_many_fields_keeps_the_row_and_its_raw_line(tmp_path: Path) -> None:
    content = "Email,Company,City\na@x.de,A,Köln\nb@x.de,B,Bonn,extra,more\n\nc@x.de,C\n"
    table = read_table(write(tmp_path, "leads.csv", content))
    frame = table.frame
    assert values(table) == [
        ("a@x.de", "A", "Köln"),
        ("b@x.de", "B", "Bonn"),
        (None, None, None),
        ("c@x.de", "C", None),
    ]
    assert frame[SOURCE_ROW].to_list() == [1, 2, 3, 4]
    assert frame[ROW_ERROR].to_list() == [None, "too many fields: expected 3, got 5", None, None]
    assert frame[RAW_LINE].to_list() == [None, "b@x.de,B,Bonn,extra,more", None, None]


def test_multi_line_malformed_record_keeps_its_full_text(tmp_path: Path) -> None:
    content = 'Email,Notes\r\na@x.de,"one\r\ntwo",surplus\r\nb@x.de,ok\r\n'
    frame = read_table(write(tmp_path, "leads.csv", content)).frame
    assert frame[RAW_LINE].to_list() == ['a@x.de,"one\r\ntwo",surplus', None]
    assert frame["Notes"].to_list() == ["one\r\ntwo", "ok"]


def test_surplus_empty_fields_are_not_an_error(tmp_path: Path) -> None:
    table = read_table(write(tmp_path, "leads.csv", "Email,Company\na@x.de,A,,\nb@x.de,B\n"))
    assert values(table) == [("a@x.de", "A"), ("b@x.de", "B")]
    assert table.frame[ROW_ERROR].null_count() == 2
    assert RAW_LINE not in table.frame.columns


def test_unterminated_quote_costs_only_its_own_line(tmp_path: Path) -> None:
    content = 'Email,Company\na@x.de,"Acme\nb@x.de,B\nc@x.de,C\n'
    frame = read_table(write(tmp_path, "leads.csv", content)).frame
    assert frame["Email"].to_list() == ["a@x.de", "b@x.de", "c@x.de"]
    assert frame[ROW_ERROR].to_list() == ["unterminated quote", None, None]
    assert frame[RAW_LINE].to_list() == ['a@x.de,"Acme', None, None]
    assert frame[SOURCE_ROW].to_list() == [1, 2, 3]


def test_text_after_a_closing_quote(tmp_path: Path) -> None:
    frame = read_table(
        write(tmp_path, "leads.csv", 'Email,Company\na@x.de,"Acme" Inc\nb@x.de,B\n')
    ).frame
    assert frame[ROW_ERROR].to_list() == ["text after a closing quote", None]
    assert frame[RAW_LINE].to_list() == ['a@x.de,"Acme" Inc', None]
    assert frame["Company"].to_list() == ["Acme Inc", "B"]


def test_quote_inside_an_unquoted_field_is_literal(tmp_path: Path) -> None:
    table = read_table(write(tmp_path, "leads.csv", 'Email,Company\na@x.de,Acme "Best" Inc\n'))
    assert values(table) == [("a@x.de", 'Acme "Best" Inc')]


FAST_READABLE = (
    "\ufeffTitle of the export\r\n"
    "\r\n"
    "Email,Company,Notes,City\r\n"
    'a@x.de,"Acme, Inc","multi\r\nline ""quoted""",Köln\r\n'
    "\r\n"
    "b@x.de,B\r\n"
    ",,,\r\n"
    '"","",x,\r\n'
    "c@x.de,C,with\rbare CR,Bonn\r\n"
    "   ,  ,\t,\r\n"
    "\r\n"
)


@pytest.mark.parametrize("score", [None, header_score])
def test_fast_and_fallback_paths_give_the_same_frame(tmp_path: Path, score: object) -> None:
    path = write(tmp_path, "leads.csv", FAST_READABLE)
    fast = read_table(path, header_score=score)  # type: ignore[arg-type]
    slow = robust(path, header_score=score)
    assert fast.headers == slow.headers
    assert (fast.header_row, fast.delimiter) == (slow.header_row, slow.delimiter)
    assert_frame_equal(fast.frame, slow.frame)
    if score is not None:
        assert fast.header_row == 3
        assert fast.frame.height == 8


# --- header row ---------------------------------------------------------------------------------


def test_preamble_above_the_header_with_header_score(tmp_path: Path) -> None:
    content = (
        "Messe Berlin 2026 – Besucherliste,,,\n"
        ",,,\n"
        "Exported by: scanner 7,,,\n"
        "Vorname,Nachname,Firma,E-Mail\n"
        "Anna,Schmidt,ACME,anna@acme.de\n"
    )
    table = read_table(write(tmp_path, "expo.csv", content), header_score=header_score)
    assert table.header_row == 4
    assert table.headers == ("Vorname", "Nachname", "Firma", "E-Mail")
    assert values(table) == [("Anna", "Schmidt", "ACME", "anna@acme.de")]
    assert table.frame[SOURCE_ROW].to_list() == [1]


def test_without_header_score_the_first_non_blank_row_is_the_header(tmp_path: Path) -> None:
    table = read_table(write(tmp_path, "leads.csv", "\n\n  \nEmail,Company\na@x.de,A\n"))
    assert table.header_row == 4
    assert values(table) == [("a@x.de", "A")]


def test_no_recognised_header_falls_back_to_the_first_non_blank_row(tmp_path: Path) -> None:
    table = read_table(write(tmp_path, "leads.csv", "foo,bar\n1,2\n"), header_score=header_score)
    assert table.headers == ("foo", "bar")


def test_duplicate_and_empty_headers(tmp_path: Path) -> None:
    content = "\ufeff Email ,Email,,Email (2),source_row\na,b,c,d,e\n,,,,\n"
    table = read_table(write(tmp_path, "leads.csv", content))
    assert table.headers == ("Email", "Email (3)", "column_3", "Email (2)", "source_row (2)")
    assert values(table)[0] == ("a", "b", "c", "d", "e")


def test_quoted_newline_in_the_header(tmp_path: Path) -> None:
    path = write(tmp_path, "leads.csv", 'Title line\nEmail,"Company\nName"\na@x.de,ACME\n')
    fast = read_table(path, header_score=header_score)
    assert (fast.header_row, fast.headers) == (2, ("Email", "Company\nName"))
    assert values(fast) == [("a@x.de", "ACME")]
    assert_frame_equal(robust(path, header_score=header_score).frame, fast.frame)


def test_single_column_file(tmp_path: Path) -> None:
    table = read_table(write(tmp_path, "emails.tsv", "Email\na@x.de\nb@x.de\n"))
    assert (table.delimiter, values(table)) == ("\t", [("a@x.de",), ("b@x.de",)])


def test_unnamed_columns_without_any_value_are_dropped(tmp_path: Path) -> None:
    table = read_table(write(tmp_path, "leads.csv", "Email,Company,,\na,b,,\nc,d\n"))
    assert table.headers == ("Email", "Company")


# --- xlsx ---------------------------------------------------------------------------------------


def make_workbook(path: Path) -> Path:
    book = xlsxwriter.Workbook(str(path))
    notes = book.add_worksheet("Notes")
    notes.write(0, 0, "not the leads")
    sheet = book.add_worksheet("Besucher")
    sheet.write(0, 0, "Messe Berlin 2026 – Besucherliste")
    headers = ["Vorname", "Nachname", "Telefon", "Datum", "Umsatz", "Newsletter", "Uhrzeit", "PLZ"]
    sheet.write_row(2, 0, headers)
    date_format = book.add_format({"num_format": "dd.mm.yyyy"})
    time_format = book.add_format({"num_format": "hh:mm"})
    sheet.write_row(3, 0, ["Anna", "Müller", 4155550132, None, 12.5, True, None, "01067"])
    sheet.write_datetime(3, 3, dt.datetime(2026, 3, 1), date_format)
    sheet.write_datetime(3, 6, dt.time(14, 30), time_format)
    # row 5 (index 4) left empty
    sheet.write_row(5, 0, ["Bob", None, 4.9301234567e10, "2026-01-05", 0.1, False, None, 10115])
    book.close()
    return path


def test_xlsx_preamble_numbers_dates_and_empty_rows(tmp_path: Path) -> None:
    path = make_workbook(tmp_path / "expo.xlsx")
    table = read_table(path, header_score=header_score, sheet="Besucher")
    assert (table.file_format, table.encoding, table.delimiter) == ("xlsx", None, None)
    assert table.header_row == 3
    assert values(table) == [
        ("Anna", "Müller", "4155550132", "2026-03-01", "12.5", "true", "14:30:00", "01067"),
        (None, None, None, None, None, None, None, None),
        ("Bob", None, "49301234567", "2026-01-05", "0.1", "false", None, "10115"),
    ]
    assert table.frame[SOURCE_ROW].to_list() == [1, 2, 3]
    assert table.frame.schema[ROW_ERROR] == pl.String


def test_xlsx_first_sheet_by_default_and_sheet_by_index(tmp_path: Path) -> None:
    path = make_workbook(tmp_path / "expo.xlsx")
    assert read_table(path).headers == ("not the leads",)
    assert read_table(path, sheet=1, header_score=header_score).headers[0] == "Vorname"


def test_xlsx_unknown_sheet(tmp_path: Path) -> None:
    path = make_workbook(tmp_path / "expo.xlsx")
    with pytest.raises(IngestError, match="no sheet named 'Leads'") as info:
        read_table(path, sheet="Leads")
    assert "Besucher" in (info.value.hint or "")


def test_xlsx_leading_empty_rows_count_as_physical_rows(tmp_path: Path) -> None:
    book = xlsxwriter.Workbook(str(tmp_path / "a.xlsx"))
    sheet = book.add_worksheet()
    sheet.write_row(4, 1, ["Email", "Company"])
    sheet.write_row(5, 1, ["a@x.de", "A"])
    book.close()
    table = read_table(tmp_path / "a.xlsx")
    assert table.header_row == 5
    assert values(table) == [("a@x.de", "A")]


# --- JSON ---------------------------------------------------------------------------------------


def test_jsonl_nested_values_bad_lines_and_blank_lines(tmp_path: Path) -> None:
    lines = [
        '{"email": "a@x.de", "company": "A", "extra": {"utm": {"source": "li"}, "score": 1.50}}',
        "",
        "{not json",
        '["an", "array"]',
        '{"email": "b@x.de", "phone": 4155550132, "revenue": 12.50, "opt_in": true, "x": null}',
    ]
    path = write(tmp_path, "form.jsonl", "\r\n".join(lines) + "\r\n")
    table = read_table(path)
    frame = table.frame
    assert (table.file_format, table.header_row, table.delimiter) == ("jsonl", 0, None)
    assert table.headers == ("email", "company", "extra", "phone", "revenue", "opt_in", "x")
    assert frame[SOURCE_ROW].to_list() == [1, 2, 3, 4, 5]
    assert json.loads(frame["extra"][0]) == {"utm": {"source": "li"}, "score": 1.5}
    assert frame.row(4, named=True) == {
        "email": "b@x.de",
        "company": None,
        "extra": None,
        "phone": "4155550132",
        "revenue": "12.50",
        "opt_in": "true",
        "x": None,
        SOURCE_ROW: 5,
        ROW_ERROR: None,
        RAW_LINE: None,
    }
    assert frame[ROW_ERROR].to_list()[1:4] == [
        None,
        "invalid JSON: Expecting property name enclosed in double quotes at column 2",
        "not a JSON object",
    ]
    assert frame[RAW_LINE].to_list()[2:4] == ["{not json", '["an", "array"]']
    assert frame.row(1) == (None,) * 7 + (2, None, None)


def test_json_array_file(tmp_path: Path) -> None:
    content = json.dumps(
        [{"email": "a@x.de"}, 3, {"email": "b@x.de", "tags": ["x", "ü"]}], indent=2
    )
    frame = read_table(write(tmp_path, "form.json", content)).frame
    assert frame["email"].to_list() == ["a@x.de", None, "b@x.de"]
    assert frame["tags"].to_list() == [None, None, '["x","ü"]']
    assert frame[ROW_ERROR].to_list() == [None, "not a JSON object", None]
    assert frame[RAW_LINE].to_list() == [None, "3", None]


def test_broken_json_array_is_a_file_error(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="not valid JSON"):
        read_table(write(tmp_path, "form.json", '[{"email": "a@x.de"},'))


def test_unknown_extension_is_sniffed(tmp_path: Path) -> None:
    assert read_table(write(tmp_path, "export.dat", '{"email": "a"}\n')).file_format == "jsonl"
    assert read_table(write(tmp_path, "export", "Email;Firma\na;b\n")).delimiter == ";"
    assert read_table(
        write(tmp_path, "export.bin", '\ufeff[{"email": "a"}]', "utf-16")
    ).headers == ("email",)


def test_xlsx_with_a_csv_name_is_read_as_xlsx(tmp_path: Path) -> None:
    path = make_workbook(tmp_path / "expo.xlsx")
    renamed = path.rename(tmp_path / "expo.csv")
    assert read_table(renamed).file_format == "xlsx"


# --- whole-file errors ---------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="not found") as info:
        read_table(tmp_path / "nope.csv")
    assert info.value.file == str(tmp_path / "nope.csv")
    assert info.value.hint


@pytest.mark.parametrize("content", [b"", b"\xef\xbb\xbf", b"  \r\n\n", " \r\n".encode("utf-16")])
def test_empty_file(tmp_path: Path, content: bytes) -> None:
    with pytest.raises(IngestError, match="empty"):
        read_table(write(tmp_path, "leads.csv", content))


def test_only_separators_means_no_header(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="no header"):
        read_table(write(tmp_path, "leads.csv", ",,,\n , ,\n\n"))


def test_binary_garbage(tmp_path: Path) -> None:
    garbage = bytes(range(256)) * 40
    with pytest.raises(IngestError, match="binary"):
        read_table(write(tmp_path, "leads.csv", garbage))
    with pytest.raises(IngestError, match="binary"):
        read_table(write(tmp_path, "leads.csv", b"\x89PNG\r\n\x1a\n" + bytes(range(1, 30)) * 50))


def test_unreadable_xlsx(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="not a valid xlsx"):
        read_table(write(tmp_path, "leads.xlsx", "Email,Company\n"))
    with pytest.raises(IngestError, match="could not be read as an xlsx"):
        read_table(write(tmp_path, "leads.xlsx", b"PK\x03\x04" + b"\x00broken" * 20))


def test_legacy_xls_is_refused_with_a_hint(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="legacy Excel") as info:
        read_table(write(tmp_path, "leads.xls", reading._OLE_MAGIC + b"\x00" * 600))
    assert "xlsx" in (info.value.hint or "")


# --- property: what csv.writer writes, read_table reads back -------------------------------------

WESTERN = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZäöüßÄÖÜéèàçñÉ"
TEXT_CHARS = st.one_of(
    st.sampled_from(list(" \",;|\t\n'@.-" + WESTERN + "0123456789")),
    # U+FEFF is left out: polars drops it at the start of the first record after the header
    # (it takes it for a byte-order mark); a zero-width no-break space carries no lead data.
    st.characters(exclude_categories=("Cs", "Cc"), exclude_characters="\ufeff"),
)


def _western(value: str) -> str:
    """cp1252-encodable text that reads like western European words (see _looks_non_latin)."""
    kept = "".join(ch if ch.isascii() or ch in WESTERN else "x" for ch in value)
    return re.sub(r"([^\x00-\x7f]{2})", r"\1a", kept)


@st.composite
def tables(draw: st.DrawFn) -> tuple[list[str], list[list[str]], str, str, str]:
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]))
    delimiter = draw(st.sampled_from([",", ";", "\t", "|"]))
    terminator = draw(st.sampled_from(["\n", "\r\n"]))
    width = draw(st.integers(2, 5))
    header = [f"col{i}" for i in range(width)]
    cell = st.text(TEXT_CHARS, max_size=12)
    if encoding == "cp1252":
        cell = cell.map(_western)
    rows = draw(st.lists(st.lists(cell, min_size=width, max_size=width), max_size=12))
    return header, rows, encoding, delimiter, terminator


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(tables())
def test_property_round_trip_of_csv_writer_output(
    tmp_path: Path, table: tuple[list[str], list[list[str]], str, str, str]
) -> None:
    header, rows, encoding, delimiter, terminator = table
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=terminator)
    writer.writerow(header)
    writer.writerows(rows)
    path = tmp_path / "prop.csv"
    path.write_bytes(buffer.getvalue().encode(encoding))

    result = read_table(path)
    expected = [tuple(v or None for v in row) for row in rows]
    assert result.delimiter == delimiter
    assert result.frame.select(header).rows() == expected
    assert result.frame[SOURCE_ROW].to_list() == list(range(1, len(rows) + 1))
    assert_frame_equal(robust(path, header_score=None).frame, result.frame)

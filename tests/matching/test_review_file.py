"""matching.review_file: a review file read back as a reviewer saved it."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from matching.decisions import CANNOT_LINK, MUST_LINK
from matching.review_file import read_answers
from transforms.errors import MatchingError


def test_excel_saves_in_any_encoding_delimiter_and_case_read_alike(tmp_path: Path) -> None:
    rows = "Lead_ID_L;Lead_ID_R;Label ;Note\r\n1072;1111; Yes ;O’Brien, the same\r\n5;3;NO;\r\n8;9;;\r\n"
    expected = [(1072, 1111, MUST_LINK, "O’Brien, the same"), (3, 5, CANNOT_LINK, None)]
    cp1252 = tmp_path / "cp1252.csv"  # Windows Excel, "CSV (Comma delimited)" in a locale with ';'
    cp1252.write_bytes(rows.encode("cp1252"))
    utf16 = tmp_path / "unicode.txt"  # Excel's "Unicode text": UTF-16, tabs
    utf16.write_text(rows.replace(";", "\t"), encoding="utf-16")
    for path in (cp1252, utf16):
        read = read_answers(path)
        assert read.answers == expected, path
        assert read.rows == [2, 3]
    xlsx = tmp_path / "review.xlsx"
    pl.DataFrame({"lead_id_l": [1072, 5], "lead_id_r": [1111, 3], "label": ["match", "different"], "note": [None, "x"]}).write_excel(xlsx)
    assert read_answers(xlsx).answers == [(1072, 1111, MUST_LINK, None), (3, 5, CANNOT_LINK, "x")]


def test_lead_ids_as_a_spreadsheet_writes_them(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("lead_id_l,lead_id_r,label\n1072.0,+1111,y\n", encoding="utf-8")
    assert read_answers(path).answers == [(1072, 1111, MUST_LINK, None)]


@pytest.mark.parametrize(("content", "message"), [
    ("lead_id_l,lead_id_r,label\n1,2,yes\n1,2,perhaps\n", r"row 3: label 'perhaps' is not understood"),
    ("lead_id_l,lead_id_r,label\n1,2,yes\n1.5,2,no\n", r"row 3: lead_id_l must be a lead id \(a whole number\), not '1.5'"),
    ("lead_id_l,lead_id_r,label\n1,abc,no\n", r"row 2: lead_id_r must be a lead id \(a whole number\), not 'abc'"),
    ("lead_id_l,lead_id_r,label\n4,4,no\n", r"row 2: both sides are lead 4"),
    ("lead_id_l,lead_id_r,label\n1,2,yes,extra,more\n", r"row 2: too many fields: expected 3, got 5"),
    ("id_a,id_b,label\n1,2,yes\n", r"lacks the column\(s\) lead_id_l, lead_id_r \(columns found: 'id_a', 'id_b', 'label'\)"),
    ("\ufeff\r\n", r"the review file .* is empty"),
])
def test_what_cannot_be_read_is_named_with_its_line(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "r.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(MatchingError, match=message):
        read_answers(path)


def test_rows_are_numbered_as_a_spreadsheet_shows_them(tmp_path: Path) -> None:
    # a note typed over two lines is one row: the bad label after it is on row 3, not line 4
    path = tmp_path / "r.csv"
    path.write_text('lead_id_l,lead_id_r,label,note\n1,2,yes,"first line\nsecond line"\n3,4,maybe,\n', encoding="utf-8")
    with pytest.raises(MatchingError, match="row 3: label 'maybe'"):
        read_answers(path)


def test_two_label_columns_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("lead_id_l,lead_id_r,label,Label\n1,2,,yes\n", encoding="utf-8")
    with pytest.raises(MatchingError, match="two label columns \\('label' and 'Label'\\)"):
        read_answers(path)


def test_unanswered_rows_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("lead_id_l,lead_id_r,label,note\n1,2,,\n3,4,  ,why\n", encoding="utf-8")
    assert read_answers(path).answers == []


def test_a_pair_answered_twice_differently_is_refused_and_alike_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    # the same answer twice, the sides swapped and spaces around the note: one answer, kept twice
    path.write_text("lead_id_l,lead_id_r,label,note\n3,960,no,other person\n960,3,No, other person \n", encoding="utf-8")
    assert read_answers(path).answers == [(3, 960, CANNOT_LINK, "other person")] * 2
    for second in ("3,960,yes,", "3,960,no,checked again"):  # another answer, or the same with another note
        path.write_text(f"lead_id_l,lead_id_r,label,note\n3,960,no,other person\n1,2,yes,\n{second}\n", encoding="utf-8")
        with pytest.raises(MatchingError, match="rows 2 and 4 answer the pair of leads 3 and 960 differently") as raised:
            read_answers(path)
        assert "keep one answer" in (raised.value.hint or "")

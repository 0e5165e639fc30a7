"""A reviewed pairs file read back (``leadpipe review import``): the answered rows as answers.

The file is the CSV ``leadpipe review export`` wrote, as a reviewer saved it: read by the lead
files' reader (``transforms.reading.read_table``), so any encoding (UTF-8, UTF-16, cp1252 as
Excel writes it), any delimiter (``,``, ``;``, tab) and xlsx are taken. Column names are matched
without regard to case or surrounding spaces; only ``lead_id_l``, ``lead_id_r`` and ``label`` are
needed (``note`` is kept when present, other columns are ignored). A row with a blank label is
skipped. Errors name the file and the row, numbered as a spreadsheet shows it (the header on
row 1, if it is the first line; a note over several lines is one row).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from matching.decisions import CANNOT_LINK, MUST_LINK
from matching.edits import Answer
from transforms import schema as s
from transforms.errors import IngestError, MatchingError
from transforms.reading import read_table

#: The answers understood in the ``label`` column (after trimming, in any case).
REVIEW_ANSWERS = {"match": MUST_LINK, "yes": MUST_LINK, "same": MUST_LINK, "y": MUST_LINK,
                  "no": CANNOT_LINK, "not a match": CANNOT_LINK, "different": CANNOT_LINK, "n": CANNOT_LINK}
NEEDED = ("lead_id_l", "lead_id_r", "label")
_LEAD_ID = re.compile(r"^\+?(\d+)(?:\.0*)?$")  # 1072, or 1072.0 as a spreadsheet may write it


@dataclass(frozen=True)
class ReviewFile:
    """The answered rows of a review file, in file order, with the row of each (as a spreadsheet
    numbers it)."""

    answers: list[Answer]
    rows: list[int]


def _lead_id(path: Path, row: int, column: str, value: str | None) -> int:
    found = _LEAD_ID.match((value or "").strip())
    if not found:
        raise MatchingError(f"{path}, row {row}: {column} must be a lead id (a whole number), not {value!r}",
                            hint="the ids come from `leadpipe review export`; leave them as they are")
    return int(found.group(1))


def read_answers(path: Path) -> ReviewFile:
    """The answered rows of a reviewed file.

    Raises:
        MatchingError: the file cannot be read, lacks a needed column, or has a malformed row, an
            answer that is not understood, a lead id that is not a whole number, a lead paired
            with itself, or two rows that answer one pair differently (answer or note; the message
            names the rows).
    """
    if not path.read_bytes().strip(b" \t\r\n\x00\xef\xbb\xbf\xff\xfe"):
        raise MatchingError(f"the review file {path} is empty", hint="export it with `leadpipe review export`")
    try:
        table = read_table(path)
    except IngestError as exc:
        raise MatchingError(f"cannot read the review file {path}: {exc.message}", hint="export it with `leadpipe review export`") from exc
    by_name: dict[str, str] = {}
    for header in table.headers:
        name = header.strip().lower()
        if name in (*NEEDED, "note") and name in by_name:
            raise MatchingError(f"{path} has two {name} columns ({by_name[name]!r} and {header!r})", hint="keep one of them")
        by_name.setdefault(name, header)
    missing = [c for c in NEEDED if c not in by_name]
    if missing:
        found = ", ".join(repr(h) for h in table.headers[:6]) or "none"
        raise MatchingError(
            f"{path} lacks the column(s) {', '.join(missing)} (columns found: {found})",
            hint="keep the header `leadpipe review export` wrote; the file is read as "
                 f"{table.file_format}" + (f" with {table.delimiter!r} between fields" if table.delimiter else ""),
        )
    note = by_name.get("note")
    frame = table.frame.select(
        *[pl.col(by_name[c]).alias(c) for c in NEEDED],
        (pl.col(note) if note else pl.lit(None, pl.String)).alias("note"),
        pl.col(s.SOURCE_ROW), pl.col(s.ROW_ERROR),
    )
    answers: list[Answer] = []
    rows: list[int] = []
    first: dict[tuple[int, int], tuple[int, Answer]] = {}  # each pair's first answered row
    for record in frame.iter_rows(named=True):  # a file a person answered: hundreds, a few thousand rows
        row = table.header_row + record[s.SOURCE_ROW]
        if record[s.ROW_ERROR]:
            raise MatchingError(f"{path}, row {row}: {record[s.ROW_ERROR]}", hint="fix the row, or blank its label to skip it")
        answer = (record["label"] or "").strip().lower()
        if not answer:
            continue
        if answer not in REVIEW_ANSWERS:
            raise MatchingError(f"{path}, row {row}: label {record['label']!r} is not understood",
                                hint="use match / yes, or no / not a match (blank = skip)")
        left, right = (_lead_id(path, row, c, record[c]) for c in ("lead_id_l", "lead_id_r"))
        if left == right:
            raise MatchingError(f"{path}, row {row}: both sides are lead {left}")
        note = (record["note"] or "").strip() or None
        given: Answer = (min(left, right), max(left, right), REVIEW_ANSWERS[answer], note)
        earlier = first.setdefault(given[:2], (row, given))
        if earlier[1] != given:
            # two answers about one pair: which one the person meant is not for the import to guess,
            # and importing the file again could not tell them from new answers
            raise MatchingError(f"{path}, rows {earlier[0]} and {row} answer the pair of leads {given[0]} and {given[1]} differently",
                                hint="keep one answer for the pair (blank the other row's label), then import the file")
        answers.append(given)
        rows.append(row)
    return ReviewFile(answers, rows)

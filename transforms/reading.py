"""Read one lead file (CSV/TSV, JSON Lines, xlsx) into an all-string polars frame, losing nothing.

Every source column becomes one ``pl.String`` column named by its header text; ``SOURCE_ROW``
numbers the data records from 1 (the header and any preamble above it are not counted) and
``ROW_ERROR`` says why a record is malformed. Nothing is cleaned here: values arrive exactly as
written, except that empty cells are null.

Delimited files take a fast path (``pl.read_csv`` straight on the file) and only fall back to
Python's ``csv`` module, record by record, when polars refuses the file (a record with too many
fields, broken quoting). Both paths number records identically, blank lines included.

Example:
    >>> table = read_table(Path("leads.csv"), header_score=header_score)  # doctest: +SKIP
    >>> table.frame.columns  # doctest: +SKIP
    ['Email', 'Company', 'source_row', '_row_error']
"""

from __future__ import annotations

import codecs
import csv
import json
import logging
import re
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Self

import charset_normalizer
import fastexcel
import polars as pl

from transforms.blanks import blank_to_null
from transforms.errors import IngestError
from transforms.schema import RAW_LINE, ROW_ERROR, SOURCE_ROW

__all__ = ["RAW_LINE", "HeaderScore", "RawTable", "read_table"]

log = logging.getLogger(__name__)

#: The whole original record of a malformed row; present only when some row is malformed.

#: How many cells of a candidate header row are recognised lead headers.
HeaderScore = Callable[[Sequence[str]], int]

_DELIMITED_EXTENSIONS: Final = {".csv": ",", ".txt": ",", ".tsv": "\t", ".tab": "\t"}
_JSON_EXTENSIONS: Final = frozenset({".jsonl", ".ndjson", ".json"})
_EXCEL_EXTENSIONS: Final = frozenset({".xlsx", ".xlsm"})
_DELIMITERS: Final = (",", ";", "\t", "|")
_RESERVED: Final = frozenset({SOURCE_ROW, ROW_ERROR, RAW_LINE})

_HEAD_BYTES: Final = 256 * 1024  # enough to sniff encoding, delimiter and header
_HEADER_CANDIDATES: Final = 10  # non-blank physical rows examined for the header
_SNIFF_RECORDS: Final = 100  # records used to count delimiters
_NON_LATIN_SHARE: Final = 0.2  # share of all-accented words above which cp1252 is doubted
_WORD: Final = re.compile(r"[^\W\d_]{4,}")  # runs of 4+ letters
_CONTROL_RATIO: Final = 0.01  # control-character share above which text is "binary"

_ZIP_MAGIC: Final = b"PK\x03\x04"
_OLE_MAGIC: Final = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_MIDNIGHT: Final = r"^(\d{4}-\d{2}-\d{2}) 00:00:00$"  # calamine renders date cells this way
_TIME_ONLY: Final = r"^1899-12-31 (\d{2}:\d{2}:\d{2})$"  # time-of-day cells (serial < 1)


@dataclass(frozen=True)
class RawTable:
    """One source file as read: all-string columns plus bookkeeping.

    Attributes:
        frame: one ``pl.String`` column per source column (named by the de-duplicated header),
            ``SOURCE_ROW`` (Int64, 1-based data record), ``ROW_ERROR`` (String, null unless the
            record is malformed) and, only when some record is malformed, ``RAW_LINE``.
        headers: the source column names in file order.
        file_format: ``"csv"``, ``"jsonl"`` or ``"xlsx"``.
        encoding: the text encoding detected (``None`` for xlsx).
        delimiter: the field delimiter (``None`` unless delimited).
        header_row: 1-based physical row (line or sheet row) of the header; 0 for JSON.
    """

    frame: pl.DataFrame
    headers: tuple[str, ...]
    file_format: str
    encoding: str | None
    delimiter: str | None
    header_row: int


@dataclass(frozen=True)
class _Layout:
    """Where the header is in a delimited text and how it splits."""

    delimiter: str
    header_cells: list[str]
    header_row: int  # 1-based physical line where the header record starts
    skip_lines: int  # physical lines up to and including the header record


def read_table(
    path: Path,
    *,
    header_score: HeaderScore | None = None,
    sheet: str | int | None = None,
) -> RawTable:
    """Read one lead file of any supported format into an all-string frame.

    Args:
        path: the file; the format comes from the extension (.csv/.txt/.tsv, .jsonl/.ndjson/.json,
            .xlsx/.xlsm), else from the content.
        header_score: counts recognised lead headers in a candidate row; when given, the first of
            the first 10 non-blank rows with the highest score (at least 1) is the header.
            Without it the first non-blank row is the header.
        sheet: xlsx sheet name or 0-based index; the first sheet by default.

    Returns:
        The :class:`RawTable`.

    Raises:
        IngestError: the file is missing, empty, binary, has no header or cannot be parsed.

    Example:
        >>> read_table(Path("expo.xlsx")).headers  # doctest: +SKIP
        ('Vorname', 'Nachname', 'Firma', 'E-Mail')
    """
    path = Path(path)
    if not path.is_file():
        raise IngestError(
            f"Lead file not found: {path}",
            file=str(path),
            hint="Check the path and that the file was fully copied into the inbox.",
        )
    with path.open("rb") as handle:
        head = handle.read(_HEAD_BYTES)
    if not _strip_bom(head).strip(b" \t\r\n\x00"):
        raise IngestError(
            f"The lead file {path.name} is empty.",
            file=str(path),
            hint="Export the leads again; the file has no content.",
        )
    file_format = _detect_format(path, head)
    if file_format == "xlsx":
        table = _read_excel(path, header_score=header_score, sheet=sheet)
    elif file_format == "jsonl":
        table = _read_json(path, head)
    else:
        table = _read_delimited(path, head, header_score=header_score)
    log.info(
        "read %s: %d records, %d columns (%s, encoding=%s, delimiter=%r, header row %d)",
        path.name,
        table.frame.height,
        len(table.headers),
        table.file_format,
        table.encoding,
        table.delimiter,
        table.header_row,
    )
    return table


# --- format and encoding ---------------------------------------------------------------------


def _detect_format(path: Path, head: bytes) -> str:
    """Pick the reader: the file signature for workbooks, else the extension, else the content."""
    suffix = path.suffix.lower()
    if head.startswith(_OLE_MAGIC):
        raise IngestError(
            f"{path.name} is a legacy Excel 97-2003 (.xls) or other OLE file, which is not read.",
            file=str(path),
            hint="Open it in Excel or LibreOffice and save it as .xlsx or CSV (UTF-8).",
        )
    if head.startswith(_ZIP_MAGIC):
        if suffix not in _EXCEL_EXTENSIONS:
            log.warning("%s is a zip file; reading it as an xlsx workbook", path.name)
        return "xlsx"
    if suffix in _EXCEL_EXTENSIONS:
        raise IngestError(
            f"{path.name} is not a valid xlsx workbook (it is not a zip archive).",
            file=str(path),
            hint="Re-export the workbook from Excel, or save it as CSV (UTF-8).",
        )
    if suffix in _JSON_EXTENSIONS:
        return "jsonl"
    if suffix in _DELIMITED_EXTENSIONS:
        return "csv"
    encoding = _sniff_encoding(path, head, complete=False)
    first = head.decode(encoding, errors="ignore").lstrip("\ufeff \t\r\n")[:1]
    return "jsonl" if first in ("{", "[") else "csv"


def _strip_bom(data: bytes) -> bytes:
    for bom in (codecs.BOM_UTF8, codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE):
        if data.startswith(bom):
            return data[len(bom) :]
    for bom in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        if data.startswith(bom):
            return data[len(bom) :]
    return data


def _binary_error(path: Path) -> IngestError:
    return IngestError(
        f"{path.name} looks like a binary file, not a lead export.",
        file=str(path),
        hint="Send a CSV, JSON Lines or xlsx file; check that the right file was dropped.",
    )


def _sniff_encoding(path: Path, head: bytes, *, complete: bool) -> str:
    """Encoding from the BOM, the NUL pattern (BOM-less UTF-16) or UTF-8 validity of ``head``."""
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "utf-32"
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\x00" in head:
        half = max(len(head) // 2, 1)
        even, odd = head[0::2].count(0), head[1::2].count(0)
        if odd > 0.3 * half and even < 0.05 * half:
            return "utf-16-le"
        if even > 0.3 * half and odd < 0.05 * half:
            return "utf-16-be"
        raise _binary_error(path)
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut by the head boundary is still UTF-8.
        if complete or exc.start < len(head) - 3 or exc.reason != "unexpected end of data":
            return _decode_single_byte(path, head)[1]
    return "utf-8"


def _decode_single_byte(path: Path, data: bytes) -> tuple[str, str]:
    """Decode as cp1252 (what Excel writes in western Europe) unless that is clearly wrong.

    cp1252 is clearly wrong when it cannot decode the bytes (five byte values are undefined) or
    when the text reads as words made only of accented letters, which western text never has
    but Cyrillic cp1251/KOI8-R read as cp1252 always has ("Èâàí Ïåòðîâ"). Only then is
    charset-normalizer asked; it is deterministic for the same bytes.

    Returns:
        ``(text, encoding)``.
    """
    try:
        text: str | None = data.decode("cp1252")
    except UnicodeDecodeError:
        text = None
    if text is not None and not _looks_non_latin(text):
        return text, "cp1252"
    best = charset_normalizer.from_bytes(data[:_HEAD_BYTES]).best()
    if best is not None:
        try:
            return data.decode(best.encoding), best.encoding
        except (UnicodeDecodeError, LookupError):
            log.debug("charset-normalizer's guess %s does not decode %s", best.encoding, path.name)
    if text is not None:
        return text, "cp1252"
    raise _binary_error(path)


def _looks_non_latin(text: str) -> bool:
    words = _WORD.findall(text[:200_000])
    foreign = sum(1 for word in words if not any(ch.isascii() for ch in word))
    return foreign >= 3 and foreign >= _NON_LATIN_SHARE * len(words)


def _decode_all(path: Path, data: bytes, sniffed: str) -> tuple[str, str]:
    """Decode the whole file; a UTF-8 guess from the head may still fail further down."""
    if not sniffed.startswith("utf-"):
        return _decode_single_byte(path, data)
    try:
        return data.decode(sniffed), sniffed
    except UnicodeDecodeError:
        if sniffed in ("utf-8", "utf-8-sig"):
            text, encoding = _decode_single_byte(path, _strip_bom(data))
            log.warning("%s is not valid UTF-8 throughout; decoding as %s", path.name, encoding)
            return text, encoding
        log.warning("%s has bytes invalid in %s; they are replaced by U+FFFD", path.name, sniffed)
        return data.decode(sniffed, errors="replace"), sniffed


def _check_text(path: Path, text: str) -> None:
    """Reject decoded text that is mostly control characters (a binary file)."""
    sample = text[:100_000]
    controls = sum(1 for ch in sample if ch < " " and ch not in "\t\n\r\f\v")
    # A few stray control characters in a small export are data, not a binary file (a binary
    # file that slips through still fails later: no header maps to a lead field).
    if controls > max(_CONTROL_RATIO * len(sample), 16):
        raise _binary_error(path)


# --- delimited text --------------------------------------------------------------------------


def _read_delimited(
    path: Path,
    head: bytes,
    *,
    header_score: HeaderScore | None,
    force_robust: bool = False,
) -> RawTable:
    """Read a delimited file: polars on the file itself when it can, else the robust reader.

    ``force_robust`` skips both polars attempts (used by tests to compare the two paths).
    """
    complete = len(head) < _HEAD_BYTES
    encoding = _sniff_encoding(path, head, complete=complete)
    default_delimiter = _DELIMITED_EXTENSIONS.get(path.suffix.lower(), ",")
    sniffed, tried_polars = encoding, False
    if encoding in ("utf-8", "utf-8-sig") and not force_robust:
        head_text = head.decode(encoding, errors="ignore")
        _check_text(path, head_text)
        if not _needs_line_fix(head_text):
            tried_polars = True
            layout = _find_layout(path, head_text, complete, default_delimiter, header_score)
            frame = _try_polars(path, str(path) if not complete else head, layout)
            if frame is not None:
                return _delimited_table(frame, layout, encoding)
    data = head if complete else path.read_bytes()
    text, encoding = _decode_all(path, data, encoding)
    _check_text(path, text)
    fixed_lines = _needs_line_fix(text)
    if fixed_lines:
        text = text.replace("\r", "\n")
    text_head = text[:_HEAD_BYTES]
    layout = _find_layout(
        path, text_head, len(text) <= _HEAD_BYTES, default_delimiter, header_score
    )
    if not force_robust and (encoding != sniffed or fixed_lines or not tried_polars):
        frame = _try_polars(path, text.encode("utf-8"), layout)
        if frame is not None:
            return _delimited_table(frame, layout, encoding)
    return _delimited_table(_read_with_csv_module(text, layout), layout, encoding)


def _needs_line_fix(text: str) -> bool:
    """Classic-Mac files end lines with a bare CR, which polars does not split on."""
    return "\r" in text and "\n" not in text


def _find_layout(
    path: Path,
    text: str,
    complete: bool,
    default_delimiter: str,
    header_score: HeaderScore | None,
) -> _Layout:
    """Find delimiter and header record in the first part of the decoded text."""
    if not complete and "\n" in text:
        text = text[: text.rindex("\n") + 1]  # drop the line cut by the sample boundary
    delimiter = _sniff_delimiter(text, default_delimiter)
    lines = re.sub(r"\r(?!\n)", " ", text).split("\n")  # csv would end a record at a bare CR
    if lines[-1] == "":
        lines.pop()
    reader = csv.reader((line + "\n" for line in lines), delimiter=delimiter, strict=False)
    candidates: list[tuple[list[str], int, int]] = []
    start = 0
    try:
        for fields in reader:
            if any(field.strip() for field in fields):
                candidates.append(([_clean_header(f) for f in fields], start, reader.line_num))
                if header_score is None or len(candidates) == _HEADER_CANDIDATES:
                    break
            start = reader.line_num
    except csv.Error as exc:  # e.g. a huge unterminated field: use the rows found so far
        log.debug("stopped header search in %s: %s", path.name, exc)
    if not candidates:
        raise IngestError(
            f"{path.name} has no header row (only blank lines at the top).",
            file=str(path),
            hint="The first non-blank row must name the columns, e.g. Email,First Name,Company.",
        )
    chosen = candidates[0]
    if header_score is not None:
        scores = [header_score(cells) for cells, _, _ in candidates]
        if max(scores) >= 1:
            chosen = candidates[scores.index(max(scores))]
    cells, start, end = chosen
    return _Layout(delimiter, cells, header_row=start + 1, skip_lines=end)


def _sniff_delimiter(text: str, default: str) -> str:
    """The candidate whose count outside quotes is the same on the most records.

    Ties go to the larger count, then to the order , ; TAB | (TAB first for .tsv files).
    A file with none of them is one column.
    """
    per_record: dict[str, list[int]] = {d: [] for d in _DELIMITERS}
    current = dict.fromkeys(_DELIMITERS, 0)
    in_quotes = non_blank = False
    for ch in text + "\n":
        if ch == '"':
            in_quotes = not in_quotes
            non_blank = True
        elif in_quotes:
            continue
        elif ch == "\n":
            if non_blank:
                for delimiter in _DELIMITERS:
                    per_record[delimiter].append(current[delimiter])
                if len(per_record[","]) >= _SNIFF_RECORDS:
                    break
            current = dict.fromkeys(_DELIMITERS, 0)
            non_blank = False
        elif ch in current:
            current[ch] += 1
            non_blank = True
        elif not ch.isspace():
            non_blank = True
    preference = [default] + [d for d in _DELIMITERS if d != default]
    best, best_key = default, (0.0, 0)
    for delimiter in preference:
        counts = per_record[delimiter]
        if not counts:
            continue
        tally = Counter(counts)
        mode = max(tally, key=lambda c: (tally[c], c))
        key = (tally[mode] / len(counts), mode)
        if mode > 0 and key > best_key:
            best, best_key = delimiter, key
    return best


def _clean_header(cell: str | None) -> str:
    """Header text as written, minus surrounding whitespace and byte-order marks."""
    return "" if cell is None else cell.strip().strip("\ufeff").strip()


def _unique_names(cells: Sequence[str]) -> list[str]:
    """Empty headers become ``column_<n>``; repeats become ``Email (2)``, ``Email (3)``."""
    names: list[str] = []
    used: set[str] = set(_RESERVED)
    literal = set(cells)  # a header written as "Email (2)" keeps that name
    for position, cell in enumerate(cells, start=1):
        name = cell or f"column_{position}"
        candidate, n = name, 2
        while candidate in used or (candidate != cell and candidate in literal):
            candidate, n = f"{name} ({n})", n + 1
        used.add(candidate)
        names.append(candidate)
    return names


def _try_polars(path: Path, source: str | bytes, layout: _Layout) -> pl.DataFrame | None:
    """``pl.read_csv`` with all columns as strings; None when polars refuses the file."""
    width = len(layout.header_cells)
    try:
        frame = pl.read_csv(
            source,
            has_header=False,
            skip_lines=layout.skip_lines,
            separator=layout.delimiter,
            quote_char='"',
            schema={f"_c{i}": pl.String for i in range(width)},
            missing_columns="insert",  # short records are padded with nulls
            null_values=[""],  # quoted "" too, so both paths agree
            row_index_name=SOURCE_ROW,
            row_index_offset=1,
            raise_if_empty=False,
            glob=False,
        )
    except pl.exceptions.PolarsError as exc:
        log.info("fast CSV read of %s failed (%s); using the robust reader", path.name, exc)
        return None
    return frame.with_columns(pl.col(SOURCE_ROW).cast(pl.Int64))


def _read_with_csv_module(text: str, layout: _Layout) -> pl.DataFrame:
    """Parse record by record so that a bad record costs only itself.

    A record with more fields than the header keeps its first fields in the columns, gets
    ``ROW_ERROR`` and its whole text in ``RAW_LINE`` (extra fields that are all empty are
    dropped silently). A record with broken quoting is taken as its first physical line alone
    and parsing resumes on the next line, so one stray quote cannot swallow the file.
    """
    sentinel = ""
    if re.search(r"\r(?!\n)", text):
        # Python's csv ends a record at a bare CR; polars keeps it in the field. Hide them.
        sentinel = next(c for c in map(chr, range(0xE000, 0xF900)) if c not in text)
        text = re.sub(r"\r(?!\n)", sentinel, text)
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    width = len(layout.header_cells)
    padding = [""] * width
    flat: list[str] = []  # one flat list, not a list per record: cheap for the GC
    problems: dict[int, tuple[str, str]] = {}  # record index -> (error, raw text)
    count = 0
    for fields, first, end, error in _split_records(lines, layout.skip_lines, layout.delimiter):
        if len(fields) != width:
            if len(fields) > width and any(fields[width:]):
                error = error or f"too many fields: expected {width}, got {len(fields)}"
            fields = (fields + padding)[:width]
        if error:
            problems[count] = (error, "\n".join(lines[first:end]).removesuffix("\r"))
        flat.extend(fields)
        count += 1
    cells = pl.Series("cells", flat, dtype=pl.String)
    del flat
    names = [f"_c{i}" for i in range(width)]
    frame = pl.DataFrame([cells.gather_every(width, i).alias(name) for i, name in enumerate(names)])
    empty_to_null = [blank_to_null(pl.col(n)) for n in names]
    if sentinel:
        empty_to_null = [e.str.replace_all(sentinel, "\r", literal=True) for e in empty_to_null]
    frame = frame.with_columns(
        *empty_to_null, pl.int_range(1, count + 1, dtype=pl.Int64).alias(SOURCE_ROW)
    )
    at = pl.Series(list(problems), dtype=pl.Int64)
    errors = pl.Series(ROW_ERROR, [None] * count, pl.String)
    frame = frame.with_columns(errors.scatter(at, [e for e, _ in problems.values()]))
    if problems:
        raws = [raw.replace(sentinel, "\r") if sentinel else raw for _, raw in problems.values()]
        frame = frame.with_columns(pl.Series(RAW_LINE, [None] * count, pl.String).scatter(at, raws))
        log.warning("%d malformed record(s) kept with %s set", len(problems), ROW_ERROR)
    return frame


def _split_records(
    lines: list[str], start: int, delimiter: str
) -> Iterator[tuple[list[str], int, int, str | None]]:
    """Yield ``(fields, first_line, end_line, error)`` for each record from line ``start``."""
    position = start
    while position < len(lines):
        base = position
        feed = (lines[i] + "\n" for i in range(base, len(lines)))
        reader = csv.reader(feed, delimiter=delimiter, quotechar='"', strict=True)
        first = base
        try:
            for fields in reader:
                end = base + reader.line_num
                yield fields, first, end, None
                first = end
            return
        except csv.Error as exc:
            yield _split_leniently(lines[first], delimiter), first, first + 1, _describe(exc)
            position = first + 1


def _split_leniently(line: str, delimiter: str) -> list[str]:
    try:
        return next(csv.reader([line.removesuffix("\r")], delimiter=delimiter, strict=False), [])
    except csv.Error:
        return line.removesuffix("\r").split(delimiter)


def _describe(exc: csv.Error) -> str:
    message = str(exc)
    if "unexpected end of data" in message:
        return "unterminated quote"
    if "expected after" in message:
        return "text after a closing quote"
    if "field larger than field limit" in message:
        return f"field longer than {csv.field_size_limit()} characters"
    return f"malformed record: {message}"


def _delimited_table(frame: pl.DataFrame, layout: _Layout, encoding: str) -> RawTable:
    names = _unique_names(layout.header_cells)
    frame = frame.rename({f"_c{i}": name for i, name in enumerate(names)})
    if ROW_ERROR not in frame.columns:
        frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias(ROW_ERROR))
    frame, headers = _finish(frame, names, layout.header_cells)
    return RawTable(frame, headers, "csv", encoding, layout.delimiter, layout.header_row)


def _finish(
    frame: pl.DataFrame, names: list[str], cells: Sequence[str | None]
) -> tuple[pl.DataFrame, tuple[str, ...]]:
    """Drop unnamed columns that hold no value at all; order the bookkeeping columns last.

    Columns are taken with ``get_column``, never ``pl.col(name)``: a header such as ``^ID.*$``
    would be read by ``pl.col`` as a regular expression.
    """
    nulls = dict(zip(frame.columns, frame.null_count().row(0), strict=True))
    keep = [
        name for name, cell in zip(names, cells, strict=True) if cell or nulls[name] < frame.height
    ]
    tail = [c for c in (SOURCE_ROW, ROW_ERROR, RAW_LINE) if c in frame.columns]
    return pl.DataFrame([frame.get_column(c) for c in (*keep, *tail)]), tuple(keep)


# --- JSON ------------------------------------------------------------------------------------


class _FloatText(float):
    """A JSON float that remembers its literal, so "12.50" stays "12.50"."""

    text: str

    def __new__(cls, literal: str) -> Self:
        value = super().__new__(cls, literal)
        value.text = literal
        return value


def _json_cell(value: object) -> str | None:
    """A top-level JSON value as text: strings as is, numbers as written, nesting as JSON."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, _FloatText):
        return value.text
    if isinstance(value, int):
        return str(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _read_json(path: Path, head: bytes) -> RawTable:
    """JSON Lines (one object per line), or one top-level array / object in a .json file.

    Parsed with ``json`` line by line rather than ``pl.read_ndjson``: polars fails the whole file
    on one bad line, turns nested objects into structs with the union of keys (adding nulls that
    were never sent) and infers types. Web-form exports are small to medium, so this is fine.
    """
    data = path.read_bytes()
    text, encoding = _decode_all(path, data, _sniff_encoding(path, head, complete=False))
    _check_text(path, text)
    text = text.removeprefix("\ufeff")
    records: list[dict[str, Any] | None] = []
    errors: list[str | None] = []
    raws: list[str | None] = []
    document = _whole_document(path, text)
    if document is not None:
        for item in document:
            ok = isinstance(item, dict)
            records.append(item if ok else None)
            errors.append(None if ok else "not a JSON object")
            raws.append(None if ok else json.dumps(item, ensure_ascii=False))
    else:
        lines = text.split("\n")
        if lines[-1] == "":
            lines.pop()
        for line in lines:
            record, error = _parse_json_line(line)
            records.append(record)
            errors.append(error)
            raws.append(line.removesuffix("\r") if error else None)
    keys: dict[str, None] = {}
    for record in records:
        if record:
            keys.update(dict.fromkeys(record))
    if not keys:
        raise IngestError(
            f"{path.name} contains no JSON objects with fields.",
            file=str(path),
            hint='Each line must be one JSON object, e.g. {"email": "a@b.com", "company": "Acme"}.',
        )
    names = _unique_names(list(keys))
    columns = {
        name: pl.Series(name, [_json_cell(r.get(k)) if r else None for r in records], pl.String)
        for name, k in zip(names, keys, strict=True)
    }
    frame = pl.DataFrame(columns).with_columns(
        pl.int_range(1, len(records) + 1, dtype=pl.Int64).alias(SOURCE_ROW),
        pl.Series(ROW_ERROR, errors, dtype=pl.String),
    )
    if any(raw is not None for raw in raws):
        frame = frame.with_columns(pl.Series(RAW_LINE, raws, dtype=pl.String))
        log.warning(
            "%s: %d malformed JSON record(s)", path.name, sum(e is not None for e in errors)
        )
    return RawTable(frame, tuple(names), "jsonl", encoding, None, 0)


def _whole_document(path: Path, text: str) -> list[Any] | None:
    """The records of a file holding one JSON array (or one object); None for JSON Lines."""
    start = text.lstrip()[:1]
    if start not in ("[", "{"):
        return None
    try:
        document = json.loads(text, parse_float=_FloatText)
    except json.JSONDecodeError as exc:
        if start == "[" and path.suffix.lower() == ".json":
            raise IngestError(
                f"{path.name} is not valid JSON: {exc.msg} at line {exc.lineno}, "
                f"column {exc.colno}.",
                file=str(path),
                row=exc.lineno,
                hint="Fix the JSON, or export one object per line (JSON Lines, .jsonl).",
            ) from exc
        return None  # several values: JSON Lines
    return document if isinstance(document, list) else [document]


def _parse_json_line(line: str) -> tuple[dict[str, Any] | None, str | None]:
    if not line.strip():
        return None, None  # blank line: an all-null record, counted like in CSV
    try:
        value = json.loads(line, parse_float=_FloatText)
    except json.JSONDecodeError as exc:
        return None, f"invalid JSON: {exc.msg} at column {exc.colno}"
    if not isinstance(value, dict):
        return None, "not a JSON object"
    return value, None


# --- xlsx ------------------------------------------------------------------------------------


def _read_excel(
    path: Path, *, header_score: HeaderScore | None, sheet: str | int | None
) -> RawTable:
    """Read one sheet with fastexcel (calamine), every cell as text.

    fastexcel renders whole numbers without ".0" (a phone stored as a number stays
    "4155550132") and floats at the precision Excel shows. Date cells come out as
    "2026-03-01 00:00:00" and are shortened to "2026-03-01"; time-only cells to "14:30:00".
    ``skip_rows=0`` keeps leading empty rows, so row positions are physical sheet rows.
    """
    try:
        reader = fastexcel.read_excel(str(path))
        target = 0 if sheet is None else sheet
        if isinstance(target, str) and target not in reader.sheet_names:
            raise IngestError(
                f"{path.name} has no sheet named {target!r}.",
                file=str(path),
                hint=f"Available sheets: {', '.join(reader.sheet_names)}.",
            )
        if isinstance(target, int) and not 0 <= target < len(reader.sheet_names):
            raise IngestError(
                f"{path.name} has {len(reader.sheet_names)} sheet(s); "
                f"sheet index {target} is out of range.",
                file=str(path),
                hint=f"Available sheets: {', '.join(reader.sheet_names)}.",
            )
        grid = reader.load_sheet(target, header_row=None, skip_rows=0, dtypes="string").to_polars()
    except IngestError:
        raise
    except Exception as exc:  # fastexcel raises its own hierarchy and CalamineError for bad zips
        raise IngestError(
            f"{path.name} could not be read as an xlsx workbook: {exc}",
            file=str(path),
            hint="Open it in Excel and save it again as .xlsx, or export the sheet as CSV (UTF-8).",
        ) from exc
    header_index = _excel_header_index(path, grid, header_score)
    cells = [_clean_header(cell) for cell in grid.row(header_index)]
    names = _unique_names(cells)
    frame = grid.slice(header_index + 1)
    frame = frame.rename(dict(zip(frame.columns, names, strict=True)))
    frame = frame.with_columns(
        pl.all().str.replace(_MIDNIGHT, "${1}").str.replace(_TIME_ONLY, "${1}")
    ).with_columns(
        pl.int_range(1, frame.height + 1, dtype=pl.Int64).alias(SOURCE_ROW),
        pl.lit(None, dtype=pl.String).alias(ROW_ERROR),
    )
    frame, headers = _finish(frame, names, cells)
    return RawTable(frame, headers, "xlsx", None, None, header_index + 1)


def _excel_header_index(path: Path, grid: pl.DataFrame, header_score: HeaderScore | None) -> int:
    """0-based sheet row of the header among the first non-blank rows."""
    candidates: list[tuple[int, list[str]]] = []
    for index, row in enumerate(grid.iter_rows()):
        cells = [_clean_header(cell) for cell in row]
        if any(cells):
            candidates.append((index, cells))
            if header_score is None or len(candidates) == _HEADER_CANDIDATES:
                break
    if not candidates:
        raise IngestError(
            f"The sheet in {path.name} is empty.",
            file=str(path),
            hint="Pick the sheet with the leads (sheet name or index in the source settings).",
        )
    if header_score is not None:
        scores = [header_score(cells) for _, cells in candidates]
        if max(scores) >= 1:
            return candidates[scores.index(max(scores))][0]
    return candidates[0][0]

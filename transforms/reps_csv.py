"""Reading a reps CSV (``leadpipe reps import FILE``): reps, their weights, caps, absences, queues.

Columns (header names are case-insensitive; only ``rep_id`` is required)::

    rep_id,name,email,active,weight,daily_cap,queues,out_of_office
    rep_ana,Ana Lima,ana@example.com,true,2,40,inbound;emea,2026-12-20..2027-01-02
    rep_ben,Ben Okafor,,yes,1,,inbound,

``queues`` lists queue ids (``;`` or ``|`` between them); ``out_of_office`` lists date ranges
``start..end`` (inclusive, ISO dates; ``;`` between ranges; a single date is one day). Every row
is validated like a ``[[routing.reps]]`` entry; an error names the file, the row and the column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from pydantic import ValidationError

from transforms import schema as s
from transforms.errors import ConfigError, IngestError
from transforms.reading import read_table
from transforms.routing_config import OutOfOffice, Rep

COLUMNS = ("rep_id", "name", "email", "active", "weight", "daily_cap", "queues", "out_of_office")
_ALIASES = {"id": "rep_id", "rep": "rep_id", "owner_id": "rep_id", "cap": "daily_cap", "ooo": "out_of_office", "queue": "queues"}
_TRUE = {"true", "yes", "y", "1", "x", "active"}
_FALSE = {"false", "no", "n", "0", "inactive", ""}


@dataclass(frozen=True)
class RepsImport:
    """The reps of a CSV, and their queue memberships (queue id, rep id) in file order."""

    reps: tuple[Rep, ...]
    memberships: tuple[tuple[str, str], ...]


def _split(value: str | None) -> list[str]:
    return [p.strip() for p in re.split(r"[;|]", value or "") if p.strip()]


def _ranges(value: str | None) -> list[OutOfOffice]:
    out = []
    for part in _split(value):
        start, _, end = part.partition("..")
        out.append(OutOfOffice(start=start.strip(), end=(end or start).strip()))  # type: ignore[arg-type]
    return out


def parse_reps_csv(path: str | Path, known_queues: set[str] | frozenset[str]) -> RepsImport:
    """Read and validate a reps CSV.

    Args:
        path: the CSV file with a header row (any encoding or delimiter, or an xlsx: read as lead files are).
        known_queues: queue ids defined in the configuration; a row naming another queue, or
            a rep whose id is one of them (an assignee must name one thing), fails.

    Raises:
        ConfigError: the file cannot be read, has no ``rep_id`` column, or a row is invalid
            (the message names the row and the column).
    """
    file = Path(path)
    try:  # read as lead files are: any encoding, delimiter, or an xlsx (a list kept in a spreadsheet)
        table = read_table(file)
    except IngestError as exc:
        raise ConfigError(f"cannot read reps file {file}: {exc.message}", hint="a CSV with a header row: rep_id,name,weight,...") from exc
    malformed = table.frame.filter(pl.col(s.ROW_ERROR).is_not_null())
    if malformed.height:
        row = malformed.row(0, named=True)
        raise ConfigError(f"{file} row {table.header_row + row[s.SOURCE_ROW]}: {row[s.ROW_ERROR]}")
    # a blank line (or a row of empty cells, as a spreadsheet leaves) is no rep: skipped, as blank
    # records of lead files are; the others keep the row a spreadsheet shows them on
    filled = pl.any_horizontal([pl.col(h).cast(pl.String).str.strip_chars().fill_null("") != "" for h in table.headers])
    kept = table.frame.filter(filled)
    numbers = (table.header_row + kept[s.SOURCE_ROW]).to_list()
    frame = kept.select(table.headers)
    renamed = {c: _ALIASES.get(c.strip().lower(), c.strip().lower()) for c in frame.columns}
    frame = frame.rename(renamed)
    unknown = [c for c in frame.columns if c not in COLUMNS]
    if "rep_id" not in frame.columns or unknown:
        raise ConfigError(
            f"{file}: " + ("no rep_id column" if "rep_id" not in frame.columns else f"unknown column {unknown[0]!r}"),
            key="rep_id", hint=f"columns: {', '.join(COLUMNS)}",
        )
    reps: list[Rep] = []
    memberships: list[tuple[str, str]] = []
    seen: set[str] = set()
    for row_no, row in zip(numbers, frame.iter_rows(named=True), strict=True):  # small file: one loop per rep
        where = f"{file} row {row_no}"
        active = (row.get("active") or "true").strip().lower()
        if active not in _TRUE | _FALSE:
            raise ConfigError(f"{where}: active must be true/false, not {row['active']!r}", key="active")
        try:
            rep = Rep(
                id=(row.get("rep_id") or "").strip(),
                name=(row.get("name") or "").strip() or None,
                email=(row.get("email") or "").strip() or None,
                active=active in _TRUE,
                weight=int(row.get("weight") or 1),
                daily_cap=int(row["daily_cap"]) if (row.get("daily_cap") or "").strip() else None,
                out_of_office=tuple(_ranges(row.get("out_of_office"))),
            )
        except (ValidationError, ValueError) as exc:
            column = next((str(e["loc"][0]) for e in exc.errors() if e["loc"]), None) if isinstance(exc, ValidationError) else None
            detail = "; ".join(
                ": ".join(filter(None, ['.'.join(map(str, e['loc'])), e['msg'].removeprefix('Value error, ')])) for e in exc.errors()
            ) if isinstance(exc, ValidationError) else str(exc)
            raise ConfigError(f"{where}: {detail}", key=column) from exc
        if rep.id in seen:
            raise ConfigError(f"{where}: rep {rep.id!r} appears twice", key="rep_id")
        if rep.id in known_queues:
            raise ConfigError(
                f"{where}: rep id {rep.id!r} is also a queue id", key="rep_id",
                hint="a rep and a queue cannot share an id: rename the rep (or the queue in [[routing.queues]])",
            )
        seen.add(rep.id)
        for queue in _split(row.get("queues")):
            if queue not in known_queues:
                raise ConfigError(
                    f"{where}: unknown queue {queue!r}", key="queues",
                    hint=f"define it in [[routing.queues]]; known: {', '.join(sorted(known_queues)) or '-'}",
                )
            memberships.append((queue, rep.id))
        reps.append(rep)
    return RepsImport(tuple(reps), tuple(memberships))

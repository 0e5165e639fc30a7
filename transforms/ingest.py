"""Prepare one file for loading: hash, read, map headers, normalise, validate.

Pure with respect to the warehouse: the result, a :class:`PreparedBatch`, is handed to
``warehouse.batches.load_batch`` which commits it in one transaction.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

import polars as pl

from transforms import schema as s
from transforms.clock import utc_now
from transforms.configuration import IngestSettings
from transforms.errors import IngestError
from transforms.headers import HeaderMapping, apply_mapping, header_score, map_headers, raw_records
from transforms.normalise import normalise_leads
from transforms.reading import RawTable, read_table
from transforms.validation import Validated, blank_records, validate_leads

log = logging.getLogger(__name__)

_HASH_CHUNK = 1 << 20


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes: the identity of a batch (same bytes = same batch)."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(_HASH_CHUNK):
                digest.update(chunk)
    except FileNotFoundError as exc:
        raise IngestError(f"file not found: {path}", file=str(path)) from exc
    except OSError as exc:
        raise IngestError(f"cannot read {path}: {exc.strerror}", file=str(path)) from exc
    return digest.hexdigest()


@dataclass(frozen=True)
class SourceInfo:
    """What is known about a file before its rows are read."""

    path: Path
    kind: str
    lead_source: str
    sha256: str
    size: int
    columns: dict[str, str] = field(default_factory=dict)


def describe_source(path: Path, settings: IngestSettings, kind: str | None = None) -> SourceInfo:
    """Hash the file and decide its kind, lead source and mapping profile.

    Args:
        path: the file.
        settings: ingest settings (source rules, default kind).
        kind: an explicit kind (``--kind``), which wins over rules.
    """
    if not path.is_file():
        raise IngestError(f"file not found: {path}", file=str(path), hint="check the path; directories are not ingested")
    rule = settings.rule_for(str(path))
    chosen = kind or (rule.kind if rule and rule.kind else None) or settings.default_kind
    if chosen not in s.SOURCE_KINDS:
        raise IngestError(f"unknown source kind {chosen!r}; allowed: {', '.join(s.SOURCE_KINDS)}", file=str(path))
    lead_source = (rule.lead_source if rule and rule.lead_source else None) or s.DEFAULT_LEAD_SOURCE[chosen]
    # Mapping profiles come only from configured rules (built-in rules carry none).
    columns = next((r.columns for r in settings.sources if r.matches(str(path)) and r.columns), {})
    return SourceInfo(
        path=path,
        kind=chosen,
        lead_source=lead_source,
        sha256=file_sha256(path),
        size=path.stat().st_size,
        columns=dict(columns),
    )


@dataclass(frozen=True)
class ReadInfo:
    """How a file was read (recorded on its batch); the rows themselves are not kept."""

    file_format: str
    encoding: str | None
    delimiter: str | None
    header_row: int

    @classmethod
    def of(cls, table: RawTable) -> ReadInfo:
        return cls(table.file_format, table.encoding, table.delimiter, table.header_row)


@dataclass(frozen=True)
class PreparedBatch:
    """A file's rows, split into leads and rejects, ready to load in one transaction."""

    source: SourceInfo
    table: ReadInfo
    mapping: HeaderMapping
    validated: Validated
    started_at: datetime
    timings: dict[str, float] = field(default_factory=dict)  # seconds per step: read, map, normalise+validate

    @property
    def column_mapping_json(self) -> str:
        return json.dumps(self.mapping.fields, ensure_ascii=False, sort_keys=True)


def prepare_batch(source: SourceInfo, settings: IngestSettings) -> PreparedBatch:
    """Read, map, normalise and validate one file.

    Raises:
        IngestError: the file as a whole cannot be ingested (unreadable, no lead columns).
    """
    started = utc_now()
    profile = source.columns or None
    timings: dict[str, float] = {}
    clock = time.perf_counter()
    table = read_table(source.path, header_score=lambda headers: header_score(headers, profile))
    timings["read"], clock = time.perf_counter() - clock, time.perf_counter()
    try:
        mapping = map_headers(table.headers, profile)
    except IngestError as exc:
        raise IngestError(f"{source.path.name}: {exc.message}", file=str(source.path), hint=exc.hint) from exc
    blank = blank_records(table.frame, list(range(len(table.headers))))
    mapped = apply_mapping(table.frame, mapping).with_columns(blank)
    timings["map"], clock = time.perf_counter() - clock, time.perf_counter()
    normalised = normalise_leads(
        mapped.lazy(), lead_source=source.lead_source, default_region=settings.default_region
    )
    validated = validate_leads(normalised, settings)
    # The raw record (JSON of the row as read) is built for rejected rows only: it is what a
    # person needs to fix them, and building it for every lead would double the load time.
    rejected = table.frame.filter(pl.col(s.SOURCE_ROW).is_in(validated.rejects[s.SOURCE_ROW].implode()))
    rejects = validated.rejects.join(raw_records(rejected), on=s.SOURCE_ROW, how="left", maintain_order="left")
    validated = replace(validated, rejects=rejects)
    timings["normalise+validate"] = time.perf_counter() - clock
    log.info(
        "%s: %d read, %d valid, %d rejected, %d skipped",
        source.path.name, validated.rows_read, validated.rows_loaded, validated.rows_rejected, validated.rows_skipped,
    )
    return PreparedBatch(
        source=source, table=ReadInfo.of(table), mapping=mapping, validated=validated, started_at=started, timings=timings
    )

"""Loading a prepared batch: one file, one transaction, identified by its content hash."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from transforms import schema as s
from transforms.clock import utc_now
from transforms.errors import WarehouseError
from transforms.ingest import PreparedBatch, SourceInfo
from transforms.validation import ORDINAL
from warehouse.connection import Warehouse

log = logging.getLogger(__name__)

STATUS_LOADED = "loaded"
STATUS_FAILED = "failed"

_BATCH_LEADS = "_lp_batch_leads"
_BATCH_REJECTS = "_lp_batch_rejects"


@dataclass(frozen=True)
class BatchResult:
    """What happened to one file."""

    batch_id: int | None
    source_file: str
    source_kind: str
    status: str  # "loaded", "already_loaded" or "failed"
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    rows_skipped: int = 0
    error: str | None = None


def find_loaded_batch_sql() -> str:
    return (
        "SELECT batch_id, source_file, source_kind, rows_read, rows_loaded, rows_rejected, rows_skipped "
        "FROM import_batches WHERE file_sha256 = ? AND status = 'loaded' ORDER BY batch_id LIMIT 1"
    )


def insert_batch_sql() -> str:
    return (
        "INSERT INTO import_batches (batch_id, source_file, source_kind, file_sha256, file_size, file_format, "
        "encoding, delimiter, header_row, column_mapping, unmapped_columns, rows_read, rows_loaded, "
        "rows_rejected, rows_skipped, status, error, started_at, finished_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    )


def insert_leads_sql(view: str) -> str:
    """INSERT of a registered frame of validated leads, numbered from ``$first_id`` in file order."""
    data = ", ".join(s.LEAD_DATA_COLUMNS)
    return (
        f"INSERT INTO leads (lead_id, batch_id, source_file, source_kind, source_row, {data}, "
        "created_at, updated_at) "
        f"SELECT $first_id + {ORDINAL}, $batch_id, $source_file, "
        f"$source_kind, {s.SOURCE_ROW}, {data}, $now, $now FROM {view}"
    )


def insert_rejects_sql(view: str) -> str:
    return (
        "INSERT INTO lead_rejects (batch_id, source_file, source_row, reasons, raw_record, raw_line, created_at) "
        f"SELECT $batch_id, $source_file, {s.SOURCE_ROW}, {s.REASONS}, {s.RAW_RECORD}, raw_line, $now FROM {view}"
    )


def find_loaded_batch(wh: Warehouse, sha256: str) -> BatchResult | None:
    """The loaded batch with this content hash, if any."""
    rows = wh.rows(find_loaded_batch_sql(), [sha256])
    if not rows:
        return None
    batch_id, source_file, kind, read, loaded, rejected, skipped = rows[0]
    return BatchResult(batch_id, source_file, kind, "already_loaded", read, loaded, rejected, skipped)


def _next_id(wh: Warehouse, table: str, column: str) -> int:
    return int(wh.scalar(f"SELECT coalesce(max({column}), 0) + 1 FROM {table}"))


def load_batch(wh: Warehouse, batch: PreparedBatch) -> BatchResult:
    """Commit one prepared batch: its batch row, leads and rejects, all or nothing.

    A file whose content hash is already loaded is not loaded again (``already_loaded``).
    The conservation figures are checked against what was inserted before the commit.
    """
    src = batch.source
    v = batch.validated
    with wh.transaction(checkpoint=True):  # into the file, not the log first: a large write
        existing = find_loaded_batch(wh, src.sha256)
        if existing is not None:
            return existing
        batch_id = _next_id(wh, "import_batches", "batch_id")
        first_lead = _next_id(wh, "leads", s.LEAD_ID)
        now = utc_now()
        params = {"batch_id": batch_id, "source_file": str(src.path), "now": now}
        wh.execute(
            insert_batch_sql(),
            [batch_id, str(src.path), src.kind, src.sha256, src.size, batch.table.file_format,
             batch.table.encoding, batch.table.delimiter, batch.table.header_row, batch.column_mapping_json,
             list(batch.mapping.unmapped), v.rows_read, v.rows_loaded, v.rows_rejected, v.rows_skipped,
             STATUS_LOADED, None, batch.started_at, now],
        )
        with wh.registered(_BATCH_LEADS, v.leads):
            wh.execute(insert_leads_sql(_BATCH_LEADS), {**params, "first_id": first_lead, "source_kind": src.kind})
        with wh.registered(_BATCH_REJECTS, v.rejects):
            wh.execute(insert_rejects_sql(_BATCH_REJECTS), params)
        loaded = wh.scalar("SELECT count(*) FROM leads WHERE batch_id = ?", [batch_id])
        rejected = wh.scalar("SELECT count(*) FROM lead_rejects WHERE batch_id = ?", [batch_id])
        if loaded != v.rows_loaded or rejected != v.rows_rejected:
            raise WarehouseError(
                f"batch {batch_id} inserted {loaded} leads and {rejected} rejects, expected "
                f"{v.rows_loaded} and {v.rows_rejected}; rolled back",
                table="leads",
            )
    log.info("batch %d loaded from %s", batch_id, src.path)
    return BatchResult(batch_id, str(src.path), src.kind, STATUS_LOADED, v.rows_read, v.rows_loaded, v.rows_rejected, v.rows_skipped)


def record_failed_batch(wh: Warehouse, source: SourceInfo | None, path: str, kind: str | None, error: str) -> BatchResult:
    """Record a file that could not be ingested at all, so that `status` shows it."""
    with wh.transaction():
        batch_id = _next_id(wh, "import_batches", "batch_id")
        now = utc_now()
        wh.execute(
            insert_batch_sql(),
            [batch_id, path, (source.kind if source else kind) or "unknown", source.sha256 if source else "",
             source.size if source else None, None, None, None, None, None, None, 0, 0, 0, 0,
             STATUS_FAILED, error, now, now],
        )
    return BatchResult(batch_id, path, (source.kind if source else kind) or "unknown", STATUS_FAILED, error=error)

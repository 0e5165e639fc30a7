"""`leadpipe export --parquet DIR`: every table (and view) of the warehouse as one Parquet file."""

from __future__ import annotations

import os
from pathlib import Path

from warehouse.connection import Warehouse


def public_tables_sql() -> str:
    return (
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' "
        "AND table_name NOT LIKE '\\_lp\\_%' ESCAPE '\\' ORDER BY table_name"
    )


def copy_table_sql(table: str, target: str) -> str:
    """COPY of one table to a Parquet file. ``table`` comes from the catalogue, never from a user;
    a path cannot be a parameter of COPY, so it is quoted (the one place a path enters SQL text)."""
    return f'COPY (SELECT * FROM "{table}") TO \'{target.replace(chr(39), chr(39) * 2)}\' (FORMAT parquet, COMPRESSION zstd)'


def export_parquet(wh: Warehouse, folder: str | Path) -> list[tuple[str, int, Path]]:
    """Write ``<folder>/<table>.parquet`` for every table; each file appears whole (temp file + rename).

    Returns:
        (table, rows, path) per table.
    """
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for (table,) in wh.rows(public_tables_sql()):
        target = out / f"{table}.parquet"
        tmp = out / f".{table}.parquet.tmp-{os.getpid()}"
        rows = int(wh.scalar(copy_table_sql(table, str(tmp))))  # COPY returns the rows it wrote
        os.replace(tmp, target)
        written.append((table, rows, target))
    return written

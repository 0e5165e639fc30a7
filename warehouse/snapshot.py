"""A read-only copy of the warehouse for data teams, published after every run.

DuckDB allows one writer and locks the file against every other process, readers included,
while it is open read-write. So the pipeline publishes a snapshot: ``COPY FROM DATABASE`` into
a temporary file beside the target, then an atomic ``os.replace``. Readers open the snapshot
(``duckdb.connect(path, read_only=True)``) and never block the next run.
"""

from __future__ import annotations

import os
from pathlib import Path

from transforms.errors import WarehouseError
from warehouse.connection import IN_MEMORY, Warehouse


def default_snapshot_path(db_path: str | Path) -> Path:
    """``leadpipe.duckdb`` -> ``leadpipe.snapshot.duckdb`` beside it."""
    path = Path(db_path)
    return path.with_name(f"{path.stem}.snapshot{path.suffix or '.duckdb'}")


def publish_snapshot(wh: Warehouse, target: str | Path) -> Path:
    """Copy the whole warehouse into ``target`` atomically and return its path."""
    if wh.path == IN_MEMORY:
        raise WarehouseError("an in-memory warehouse has no snapshot")
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)  # a configured snapshot_path in a folder of its own
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    for stale in (tmp, Path(f"{tmp}.wal")):
        stale.unlink(missing_ok=True)
    source = wh.scalar("SELECT current_database()")
    wh.execute(f"ATTACH '{_quote(str(tmp))}' AS lp_snapshot")
    try:
        wh.execute(f'COPY FROM DATABASE "{source}" TO lp_snapshot')
    finally:
        wh.execute("DETACH lp_snapshot")
    os.replace(tmp, target)
    return target


def _quote(text: str) -> str:
    """Quote a path for an ATTACH statement (the one place a path enters SQL text)."""
    return text.replace("'", "''")

"""Typed settings of the warehouse."""

from __future__ import annotations

from pydantic import Field

from transforms.models import StrictModel


class WarehouseSettings(StrictModel):
    """Where the DuckDB warehouse lives and where its read-only snapshot is published."""

    path: str = Field("leadpipe.duckdb", description="DuckDB file (overridden by --db or LEADPIPE_DB).")
    publish_snapshot: bool = Field(True, description="Publish a read-only snapshot after every run.")
    snapshot_path: str | None = Field(
        None, description="Snapshot file; default '<db name>.snapshot.duckdb' beside the database."
    )

"""Prefect flows: ingest, dedupe, qualify, route, convert, and lead_pipeline (all in order).

Flows only order steps and pass references (paths, the db file, a config file); they load the
settings and hand each task its section.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from prefect import flow

from flows.config import load_settings
from flows.tasks import (
    convert_task, dedupe_task, ingest_file_task, migrate_task, qualify_task, route_task, snapshot_task,
)
from warehouse.batches import BatchResult
from warehouse.conversion import ConversionResult
from warehouse.snapshot import default_snapshot_path


@dataclass
class PipelineResult:
    """What one pipeline run did."""

    db: str
    batches: list[BatchResult] = field(default_factory=list)
    clustered: int = 0
    qualified: int = 0
    assigned: int = 0
    conversion: ConversionResult | None = None
    snapshot: str | None = None

    @property
    def failed(self) -> list[BatchResult]:
        return [b for b in self.batches if b.status == "failed"]


@flow(name="ingest", log_prints=False)
def ingest(files: list[str], db: str | None = None, config: str | None = None, kind: str | None = None) -> list[BatchResult]:
    """Load files into the warehouse: one batch per file, skipping files already loaded."""
    settings = load_settings(config, db)
    path = settings.warehouse.path
    migrate_task(path)
    return [ingest_file_task(f, path, settings.ingest, kind) for f in files]


@flow(name="dedupe")
def dedupe(db: str | None = None, config: str | None = None) -> int:
    """Cluster new leads with each other and with existing leads."""
    settings = load_settings(config, db)
    migrate_task(settings.warehouse.path)
    return dedupe_task(settings.warehouse.path, settings.dedup)


@flow(name="qualify")
def qualify(db: str | None = None, config: str | None = None) -> int:
    """Score and grade unconverted leads; mark MQLs."""
    settings = load_settings(config, db)
    migrate_task(settings.warehouse.path)
    return qualify_task(settings.warehouse.path, settings.qualify)


@flow(name="route")
def route(db: str | None = None, config: str | None = None) -> int:
    """Give unowned leads an owner by round-robin."""
    settings = load_settings(config, db)
    migrate_task(settings.warehouse.path)
    return route_task(settings.warehouse.path, settings.routing)


@flow(name="convert")
def convert(db: str | None = None, config: str | None = None, dry_run: bool = False) -> ConversionResult:
    """Convert qualified, owned leads into accounts, contacts and opportunities."""
    settings = load_settings(config, db)
    migrate_task(settings.warehouse.path)
    return convert_task(settings.warehouse.path, settings.convert, dry_run)


@flow(name="lead_pipeline")
def lead_pipeline(files: list[str], db: str | None = None, config: str | None = None, kind: str | None = None) -> PipelineResult:
    """The whole pipeline: ingest the files, dedupe, qualify, route, convert, publish a snapshot."""
    settings = load_settings(config, db)
    path = settings.warehouse.path
    result = PipelineResult(db=path)
    migrate_task(path)
    result.batches = [ingest_file_task(f, path, settings.ingest, kind) for f in files]
    result.clustered = dedupe_task(path, settings.dedup)
    result.qualified = qualify_task(path, settings.qualify)
    result.assigned = route_task(path, settings.routing)
    result.conversion = convert_task(path, settings.convert)
    if settings.warehouse.publish_snapshot:
        target = settings.warehouse.snapshot_path or str(default_snapshot_path(path))
        result.snapshot = snapshot_task(path, target)
    return result

"""Prefect flows: ingest, dedupe, qualify, route, convert, and lead_pipeline (all in order).

Flows only order steps and pass references (paths, the db file, a config file); they load the
settings and hand each task its section.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from prefect import flow
from prefect.exceptions import MissingContextError
from prefect.logging import get_run_logger

from flows.config import load_settings
from flows.dedupe_run import DedupResult
from flows.tasks import (
    convert_task, dedupe_task, finish_run_task, ingest_file_task, migrate_task, qualify_task, route_task,
    run_summary_artifact_task, snapshot_task, start_run_task, stage_seconds_task,
)
from warehouse.batches import BatchResult
from warehouse.connection import Warehouse
from warehouse.conversion import ConversionResult
from warehouse.run_lock import RunLock
from warehouse.runs import RunSummary, StageTimer
from warehouse.snapshot import default_snapshot_path


def _logger() -> logging.Logger | logging.LoggerAdapter:
    """The Prefect run logger (shown on the flow run in the UI), or the module's logger outside a run."""
    try:
        return get_run_logger()
    except MissingContextError:
        return logging.getLogger(__name__)


@dataclass
class PipelineResult:
    """What one pipeline run did."""

    db: str
    batches: list[BatchResult] = field(default_factory=list)
    dedup: DedupResult | None = None
    qualified: int = 0
    assigned: int = 0
    conversion: ConversionResult | None = None
    snapshot: str | None = None
    snapshot_error: str | None = None  # why the snapshot of a completed run was not published
    summary: RunSummary | None = None  # the pipeline_runs row of this run

    @property
    def failed(self) -> list[BatchResult]:
        return [b for b in self.batches if b.status == "failed"]


@flow(name="ingest", log_prints=False)
def ingest(
    files: list[str], db: str | None = None, config: str | None = None, kind: str | None = None,
    lock_wait_seconds: float | None = None,
) -> list[BatchResult]:
    """Load files into the warehouse: one batch per file, skipping files already loaded."""
    settings = load_settings(config, db)
    path = settings.warehouse.path
    with RunLock(path).hold(lock_wait_seconds):
        migrate_task(path)
        return [ingest_file_task(f, path, settings.ingest, kind) for f in files]


@flow(name="dedupe")
def dedupe(db: str | None = None, config: str | None = None, lock_wait_seconds: float | None = None) -> DedupResult:
    """Cluster new leads with each other and with existing leads (holding the run lock)."""
    settings = load_settings(config, db)
    with RunLock(settings.warehouse.path).hold(lock_wait_seconds):
        Warehouse.require(settings.warehouse.path)  # a stage works on loaded leads: it never creates a warehouse
        migrate_task(settings.warehouse.path)
        return dedupe_task(settings.warehouse.path, settings.dedup)


@flow(name="qualify")
def qualify(db: str | None = None, config: str | None = None, lock_wait_seconds: float | None = None) -> int:
    """Score and grade every open lead cluster; mark MQLs; keep the top factors (holding the run lock)."""
    settings = load_settings(config, db)
    with RunLock(settings.warehouse.path).hold(lock_wait_seconds):
        Warehouse.require(settings.warehouse.path)  # a stage works on loaded leads: it never creates a warehouse
        migrate_task(settings.warehouse.path)
        return qualify_task(settings.warehouse.path, settings.qualify)


@flow(name="route")
def route(db: str | None = None, config: str | None = None, lock_wait_seconds: float | None = None) -> int:
    """Give leads without a user owner one: sticky owners, assignment rules, queue round-robin (holding the run lock)."""
    settings = load_settings(config, db)
    with RunLock(settings.warehouse.path).hold(lock_wait_seconds):
        Warehouse.require(settings.warehouse.path)  # a stage works on loaded leads: it never creates a warehouse
        migrate_task(settings.warehouse.path)
        return route_task(settings.warehouse.path, settings.routing)


@flow(name="convert")
def convert(
    db: str | None = None, config: str | None = None, dry_run: bool = False, lock_wait_seconds: float | None = None,
) -> ConversionResult:
    """Convert qualified, user-owned clusters into accounts, contacts and opportunities (``dry_run``: plan only).

    Holds the run lock even for a dry run: it migrates and opens the warehouse read-write.
    """
    settings = load_settings(config, db)
    with RunLock(settings.warehouse.path).hold(lock_wait_seconds):
        Warehouse.require(settings.warehouse.path)  # a stage works on loaded leads: it never creates a warehouse
        migrate_task(settings.warehouse.path)
        return convert_task(settings.warehouse.path, settings.convert, dry_run)


@flow(name="lead_pipeline")
def lead_pipeline(
    files: list[str], db: str | None = None, config: str | None = None, kind: str | None = None,
    trigger: str = "cli", lock_wait_seconds: float | None = None,
) -> PipelineResult:
    """The whole pipeline: ingest the files, dedupe, qualify, route, convert, publish a snapshot.

    Holds the warehouse's run lock throughout (waiting up to ``lock_wait_seconds``; ``None``
    waits as long as it takes), records the run in ``pipeline_runs`` and publishes its summary
    as a Prefect artifact. ``trigger`` says who started it (cli, demo, inbox, schedule).
    """
    settings = load_settings(config, db)
    path = settings.warehouse.path
    result = PipelineResult(db=path)
    timer = StageTimer()
    target = settings.warehouse.snapshot_path or str(default_snapshot_path(path))
    with RunLock(path).hold(lock_wait_seconds):
        migrate_task(path)
        run = start_run_task(path, trigger, len(files))
        try:
            with timer.stage("ingest"):
                result.batches = [ingest_file_task(f, path, settings.ingest, kind) for f in files]
            with timer.stage("dedupe"):
                result.dedup = dedupe_task(path, settings.dedup)
            with timer.stage("qualify"):
                result.qualified = qualify_task(path, settings.qualify)
            with timer.stage("route"):
                result.assigned = route_task(path, settings.routing)
            with timer.stage("convert"):
                result.conversion = convert_task(path, settings.convert)
        except Exception as exc:
            # Record the failed run and refresh the snapshot (the committed batches are real), then fail
            # with the original error: a failure of this bookkeeping is logged, never raised in its place.
            failure = f"{timer.current or 'pipeline'} stage failed: {type(exc).__name__}: {exc}"
            try:
                result.summary = finish_run_task(path, run, result.batches, timer.seconds, failure)
            except Exception:
                _logger().exception("could not record the failed run %d in pipeline_runs "
                                    "(the next run marks it abandoned)", run.run_id)
            try:
                if settings.warehouse.publish_snapshot:
                    result.snapshot = snapshot_task(path, target, best_effort=True)
                if result.summary is not None:
                    run_summary_artifact_task(result.summary)
            except Exception:
                _logger().exception("could not publish the snapshot or the summary of the failed run %d", run.run_id)
            raise
        result.summary = finish_run_task(path, run, result.batches, timer.seconds)
        if settings.warehouse.publish_snapshot:
            # The run is complete and recorded so: a snapshot that cannot be published (disk full) is
            # logged as an error (console, Prefect UI) and leaves the previous snapshot; it does not fail
            # the run, whose files would otherwise be reported failed although they are loaded.
            try:
                with timer.stage("snapshot"):
                    result.snapshot = snapshot_task(path, target)
            except Exception as exc:
                result.snapshot_error = f"{type(exc).__name__}: {exc}"
                _logger().exception("run %d completed, but its read-only snapshot %s was not published (readers keep "
                                    "the previous one; the next run publishes it again): %s", run.run_id, target, result.snapshot_error)
            result.summary = stage_seconds_task(path, run.run_id, timer.seconds)
        run_summary_artifact_task(result.summary)
    return result

"""Prefect tasks: a few lines each around a library function. No logic lives here.

Tasks take and return small values (paths, settings, counts), never frames; caching is off
because every run must look at the warehouse as it is now.
"""

from __future__ import annotations

import logging
from pathlib import Path

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows.lifecycle import convert_stage, qualify_stage, route_stage
from matching.configuration import DedupSettings
from flows.dedupe_run import DedupResult, run_dedupe
from transforms.configuration import ConvertSettings, IngestSettings, QualifySettings, RoutingSettings
from transforms.errors import IngestError, LeadpipeError
from transforms.ingest import SourceInfo, describe_source, prepare_batch
from warehouse.batches import BatchResult, find_loaded_batch, load_batch, record_failed_batch
from warehouse.connection import Warehouse
from warehouse.conversion import ConversionResult
from warehouse.migrations import migrate
from warehouse.runs import RunBaseline, RunSummary, finish_run, get_run, record_stage_seconds, start_run
from warehouse.snapshot import publish_snapshot

progress = logging.getLogger("leadpipe.progress")


@task(name="migrate", cache_policy=NO_CACHE)
def migrate_task(db: str) -> list[int]:
    with Warehouse.open(db) as wh:
        return migrate(wh)


@task(name="ingest-file", cache_policy=NO_CACHE)
def ingest_file_task(path: str, db: str, settings: IngestSettings, kind: str | None = None) -> BatchResult:
    """Ingest one file; a file that cannot be ingested is recorded as a failed batch."""
    progress.info("ingesting %s", Path(path).name)
    source: SourceInfo | None = None
    try:
        source = describe_source(Path(path), settings, kind)
        with Warehouse.open(db) as wh:
            existing = find_loaded_batch(wh, source.sha256)
        if existing is not None:
            return existing
        prepared = prepare_batch(source, settings)
    except IngestError as exc:
        message = exc.message + (f" ({exc.hint})" if exc.hint else "")
        with Warehouse.open(db) as wh:
            return record_failed_batch(wh, source, path, kind, message)
    except Exception as exc:  # a bug must not stop the other files: record it and go on
        logging.getLogger(__name__).exception("unexpected error while preparing %s", path)
        message = f"unexpected error while reading the file: {type(exc).__name__}: {exc} (please report this)"
        with Warehouse.open(db) as wh:
            return record_failed_batch(wh, source, path, kind, message)
    with Warehouse.open(db) as wh:
        return load_batch(wh, prepared)


@task(name="dedupe", cache_policy=NO_CACHE)
def dedupe_task(db: str, settings: DedupSettings) -> DedupResult:
    progress.info("finding duplicates")
    if not settings.enabled:
        return DedupResult(skipped=True)
    with Warehouse.open(db) as wh:
        result = run_dedupe(wh, settings)
    if result.golden_rebuilt is not None:  # in the flow run's log (the Prefect UI, a served or scheduled run)
        get_run_logger().info("%d golden record(s) rebuilt first: %s", result.golden_rebuilt, result.golden_rebuilt_because)
    return result


@task(name="qualify", cache_policy=NO_CACHE)
def qualify_task(db: str, settings: QualifySettings) -> int:
    progress.info("scoring and grading")
    with Warehouse.open(db) as wh:
        return qualify_stage(wh, settings)


@task(name="route", cache_policy=NO_CACHE)
def route_task(db: str, settings: RoutingSettings) -> int:
    progress.info("routing to owners")
    with Warehouse.open(db) as wh:
        return route_stage(wh, settings)


@task(name="convert", cache_policy=NO_CACHE)
def convert_task(db: str, settings: ConvertSettings, dry_run: bool = False) -> ConversionResult:
    progress.info("planning conversion (dry run)" if dry_run else "converting qualified leads")
    with Warehouse.open(db) as wh:
        return convert_stage(wh, settings, dry_run)


@task(name="publish-snapshot", cache_policy=NO_CACHE)
def snapshot_task(db: str, target: str, best_effort: bool = False) -> str | None:
    """Publish the read-only snapshot; ``best_effort`` (after a failed run) logs a failure instead of raising."""
    progress.info("publishing read-only snapshot")
    try:
        with Warehouse.open(db) as wh:
            wh.checkpoint()
            return str(publish_snapshot(wh, target))
    except LeadpipeError:
        if not best_effort:
            raise
        logging.getLogger(__name__).warning("snapshot after a failed run not published", exc_info=True)
        return None


@task(name="start-run", cache_policy=NO_CACHE)
def start_run_task(db: str, trigger: str, files: int) -> RunBaseline:
    from prefect.runtime import flow_run

    with Warehouse.open(db) as wh:
        return start_run(wh, trigger=trigger, files=files, flow_run_id=str(flow_run.id) if flow_run.id else None)


@task(name="finish-run", cache_policy=NO_CACHE)
def finish_run_task(
    db: str, run: RunBaseline, batches: list[BatchResult], stage_seconds: dict[str, float], error: str | None = None,
) -> RunSummary:
    with Warehouse.open(db) as wh:
        return finish_run(wh, run, batches=batches, stage_seconds=stage_seconds, error=error)


@task(name="record-stage-seconds", cache_policy=NO_CACHE)
def stage_seconds_task(db: str, run_id: int, stage_seconds: dict[str, float]) -> RunSummary:
    with Warehouse.open(db) as wh:
        record_stage_seconds(wh, run_id, stage_seconds)
        return get_run(wh, run_id)


@task(name="run-summary-artifact", cache_policy=NO_CACHE)
def run_summary_artifact_task(summary: RunSummary) -> None:
    """Publish the run summary as a Markdown artifact (shown on the flow run in the Prefect UI)."""
    from prefect.artifacts import create_markdown_artifact

    create_markdown_artifact(
        markdown=summary.to_markdown(), key="leadpipe-run-summary", description=f"leadpipe run {summary.run_id}"
    )

"""Prefect tasks: a few lines each around a library function. No logic lives here.

Tasks take and return small values (paths, settings, counts), never frames; caching is off
because every run must look at the warehouse as it is now.
"""

from __future__ import annotations

import logging
from pathlib import Path

from prefect import task
from prefect.cache_policies import NO_CACHE

from matching.configuration import DedupSettings
from matching.dedupe import DEDUP_COLUMNS, assign_clusters
from transforms.configuration import ConvertSettings, IngestSettings, QualifySettings, RoutingSettings
from transforms.errors import IngestError
from transforms.ingest import SourceInfo, describe_source, prepare_batch
from transforms.routing import assign_round_robin
from transforms.scoring import qualify
from warehouse.batches import BatchResult, find_loaded_batch, load_batch, record_failed_batch
from warehouse.clusters import apply_clusters, dedup_candidates
from warehouse.connection import Warehouse
from warehouse.conversion import ConversionResult, convert_leads
from warehouse.lifecycle import (
    leads_to_qualify, rotation_position, sync_reps, unowned_lead_ids, write_assignments, write_qualification,
)
from warehouse.migrations import migrate
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
def dedupe_task(db: str, settings: DedupSettings) -> int:
    progress.info("finding duplicates")
    if not settings.enabled:
        return 0
    with Warehouse.open(db) as wh:
        candidates = dedup_candidates(wh, DEDUP_COLUMNS)
        result = assign_clusters(candidates, settings)
        return apply_clusters(wh, result.lead_clusters, result.cluster_merges)


@task(name="qualify", cache_policy=NO_CACHE)
def qualify_task(db: str, settings: QualifySettings) -> int:
    progress.info("scoring and grading")
    with Warehouse.open(db) as wh:
        return write_qualification(wh, qualify(leads_to_qualify(wh), settings))


@task(name="route", cache_policy=NO_CACHE)
def route_task(db: str, settings: RoutingSettings) -> int:
    progress.info("routing to owners")
    with Warehouse.open(db) as wh:
        sync_reps(wh, settings.reps)
        rotation = assign_round_robin(unowned_lead_ids(wh), settings, rotation_position(wh, settings.queue))
        return write_assignments(wh, rotation.assignments, settings.queue, rotation.next_position)


@task(name="convert", cache_policy=NO_CACHE)
def convert_task(db: str, settings: ConvertSettings, dry_run: bool = False) -> ConversionResult:
    progress.info("converting qualified leads")
    with Warehouse.open(db) as wh:
        return convert_leads(wh, settings, dry_run=dry_run)


@task(name="publish-snapshot", cache_policy=NO_CACHE)
def snapshot_task(db: str, target: str) -> str:
    progress.info("publishing read-only snapshot")
    with Warehouse.open(db) as wh:
        wh.checkpoint()
        return str(publish_snapshot(wh, target))

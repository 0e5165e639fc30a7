"""Operations flows: the drop-folder poll, the scheduled bulk import, and serving them.

Thin: the drop-folder logic is :mod:`flows.inbox`, the pipeline is ``lead_pipeline``. Schedules
need a real Prefect server (the temporary one refuses them): see README "Running on a schedule".
"""

from __future__ import annotations

import glob
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from prefect import flow

from flows.config import LeadpipeSettings, load_settings
from flows.inbox import CycleResult, Inbox, ignored_name, run_inbox_cycle
from flows.operations_config import DEFAULT_IGNORE
from flows.pipeline import PipelineResult, lead_pipeline
from transforms.errors import ConfigError, LeadpipeError

log = logging.getLogger(__name__)

INBOX_DEPLOYMENT = "inbox-poll"
IMPORT_DEPLOYMENT = "nightly-import"


def import_files(pattern: str, ignore: Sequence[str] = DEFAULT_IGNORE) -> list[str]:
    """The files a scheduled import reads: a path or a glob (``**`` recursive), sorted.

    Args:
        ignore: file-name globs left out, the drop folder's ``[inbox] ignore`` (temporary,
            partial, hidden and lock files), matched by the same :func:`~flows.inbox.ignored_name`.
    """
    names = sorted(glob.glob(str(Path(pattern).expanduser()), recursive=True))
    return [str(Path(p).resolve()) for p in names if Path(p).is_file() and not ignored_name(Path(p).name, ignore)]


@flow(name="inbox-poll")
def inbox_poll(
    inbox: str | None = None, db: str | None = None, config: str | None = None,
    lock_wait_seconds: float | None = None, stable_seconds: float | None = None,
) -> CycleResult:
    """One drop-folder cycle: claim the stable new files, run the whole pipeline on them, file them.

    ``lock_wait_seconds`` and ``stable_seconds`` default to ``[schedule] lock_wait_seconds`` and
    ``[inbox] stable_seconds``.
    """
    settings = load_settings(config, db)
    inbox_settings = settings.inbox if stable_seconds is None else settings.inbox.model_copy(update={"stable_seconds": stable_seconds})
    box = Inbox(inbox or inbox_settings.path, inbox_settings)
    path = settings.warehouse.path
    wait = settings.schedule.lock_wait_seconds if lock_wait_seconds is None else lock_wait_seconds
    return run_inbox_cycle(box, path, lambda files: lead_pipeline(files, path, config, trigger="inbox"), lock_wait_seconds=wait)


@flow(name="scheduled-import")
def scheduled_import(
    pattern: str | None = None, db: str | None = None, config: str | None = None, kind: str | None = None,
) -> PipelineResult | None:
    """The bulk import: the whole pipeline on the files matching ``pattern`` (default ``[schedule] import_path``).

    Files already loaded are recognised by their content and skipped, so a nightly import of a
    folder loads only what is new.
    """
    settings = load_settings(config, db)
    pattern = pattern or settings.schedule.import_path
    if not pattern:
        raise ConfigError("no files to import", key="schedule.import_path", hint="set [schedule] import_path")
    files = import_files(pattern, settings.inbox.ignore)
    if not files:
        log.warning("scheduled import: no file matches %s", pattern)
        return None
    return lead_pipeline(files, settings.warehouse.path, config, kind or settings.schedule.import_kind,
                         trigger="schedule", lock_wait_seconds=settings.schedule.lock_wait_seconds)


def build_deployments(settings: LeadpipeSettings, config: str | None, *, inbox: str | None = None) -> list[Any]:
    """The deployments `leadpipe serve` serves, from ``[schedule]`` and ``[inbox]``.

    Paths are made absolute: served runs do not depend on the directory they start in.
    """
    db = str(Path(settings.warehouse.path).resolve())
    cfg = str(Path(config).resolve()) if config else None
    deployments = []
    if settings.schedule.import_path:
        from prefect.schedules import Cron

        deployments.append(scheduled_import.to_deployment(
            name=IMPORT_DEPLOYMENT,
            schedule=Cron(settings.schedule.import_cron, timezone=settings.schedule.timezone),
            parameters={"pattern": settings.schedule.import_path, "db": db, "config": cfg, "kind": settings.schedule.import_kind},
            description="Nightly bulk import of [schedule] import_path through the whole pipeline.",
        ))
    if settings.schedule.serve_inbox:
        root = Path(inbox or settings.inbox.path).resolve()
        if not root.is_dir():
            raise LeadpipeError(f"drop folder {root} does not exist",
                                hint="create it, pass --inbox, or set [schedule] serve_inbox = false")
        deployments.append(inbox_poll.to_deployment(
            name=INBOX_DEPLOYMENT,
            interval=settings.inbox.poll_seconds,
            parameters={"inbox": str(root), "db": db, "config": cfg},
            description="Drop-folder poll: new files in the inbox go through the whole pipeline.",
        ))
    if not deployments:
        raise ConfigError("nothing to serve", key="schedule",
                          hint="set [schedule] import_path for a nightly import, or serve_inbox = true for the drop folder")
    return deployments


def serve_deployments(deployments: list[Any]) -> None:
    """Serve the deployments until interrupted (needs PREFECT_API_URL pointing at a Prefect server)."""
    from prefect import serve
    from prefect.settings import PREFECT_API_URL

    if not PREFECT_API_URL.value():
        raise LeadpipeError(
            "schedules need a Prefect server, and PREFECT_API_URL is not set",
            hint="start one with `prefect server start --host 127.0.0.1 --port 4200` and "
                 "export PREFECT_API_URL=http://127.0.0.1:4200/api (README: Running on a schedule)",
        )
    serve(*deployments, limit=1, print_starting_message=False)

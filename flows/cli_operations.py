"""The operations commands of `leadpipe`: watch, serve, report, export.

Registered on the app of :mod:`flows.cli` (imported at its end), kept apart so the CLI module
stays small. Like the rest of the CLI: orders calls and prints; no logic.
"""

from __future__ import annotations

import os
import signal
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape
from rich.table import Table

from flows.cli import (
    ConfigOption, DbOption, NoWaitOption, _errors, _fast_flows, _progress, _summary_table, app, console, err, readable_warehouse,
)
from flows.config import ENV_CONFIG, LeadpipeSettings, load_settings
from transforms.errors import LeadpipeError


def _written(path: Path) -> bool:
    try:
        return path.stat().st_size > 0
    except OSError:
        return False


def _check_overrides(settings: LeadpipeSettings, options: dict[str, tuple[str, float | None]]) -> None:
    """Options that stand in for ``[inbox]`` settings obey the same bounds (checked by the settings model)."""
    from pydantic import ValidationError

    from flows.operations_config import InboxSettings

    for option, (key, value) in options.items():
        if value is None:
            continue
        try:
            InboxSettings.model_validate({**settings.inbox.model_dump(), key: value})
        except ValidationError as exc:
            raise LeadpipeError(f"{option} {value:g}: {exc.errors()[0]['msg'].removeprefix('Value error, ')}",
                               hint=f"like [inbox] {key}") from exc


def _print_cycle(cycle, root: Path) -> None:  # type: ignore[no-untyped-def]
    from flows.inbox import ERROR_FILE

    for o in cycle.outcomes:
        where = o.folder.relative_to(root) if o.folder.is_relative_to(root) else o.folder
        if o.status == "processed" and o.batch is not None:
            b = o.batch
            console.print(f"[green]processed[/] {o.name}: {b.rows_read} read = {b.rows_loaded} loaded + {b.rows_rejected} "
                          f"rejected + {b.rows_skipped} skipped{' (already loaded)' if b.status == 'already_loaded' else ''} -> {where}/")
        else:  # failed/ always has an error.txt; a claim left in processing/ may have none (writing it failed)
            report = f"{where}/{ERROR_FILE}" if _written(o.folder / ERROR_FILE) else f"{where}/"
            err.print(f"[bold red]failed[/] {o.name}: {o.error} -> {report}")
    if cycle.golden_rebuilt is not None:
        console.print(f"{cycle.golden_rebuilt[0]} golden record(s) rebuilt first: {escape(cycle.golden_rebuilt[1])}")
    if cycle.summary is not None:
        console.print(_summary_table(cycle.summary))


@app.command()
def watch(
    inbox: Annotated[Optional[str], typer.Argument(help=r"Drop folder (default: path in the \[inbox] section).")] = None,
    db: DbOption = None,
    config: ConfigOption = None,
    once: Annotated[bool, typer.Option("--once", help="Process what is in the folder now, then exit (non-zero if a file failed).")] = False,
    poll: Annotated[Optional[float], typer.Option("--poll", help=r"Seconds between looks (default: poll_seconds in the \[inbox] section).")] = None,
    stable: Annotated[Optional[float], typer.Option("--stable", help=r"Seconds a file's size must stay unchanged (default: stable_seconds in the \[inbox] section).")] = None,
    no_wait: NoWaitOption = False,
) -> None:
    """Watch a drop folder: new files go through the whole pipeline, then to processed/ or failed/."""
    from flows.inbox import Inbox
    from flows.operations import inbox_poll

    with _errors():
        settings = load_settings(config, db)
        _check_overrides(settings, {"--poll": ("poll_seconds", poll), "--stable": ("stable_seconds", stable)})
        box = Inbox(inbox or settings.inbox.path, settings.inbox)
    interval = settings.inbox.poll_seconds if poll is None else poll
    console.print(f"watching [bold]{box.root}[/] every {interval:g} s; warehouse [bold]{settings.warehouse.path}[/]"
                  + ("" if once else " (Ctrl-C to stop)"))
    # systemd and `kill` send SIGTERM: stop like Ctrl-C (a file being processed is retried on restart).
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    failed = 0
    try:
        while True:
            if box.candidates() or box.pending_claims():
                try:
                    with _fast_flows(), _progress("processing the drop folder"):
                        cycle = inbox_poll(str(box.root), settings.warehouse.path, config,
                                           lock_wait_seconds=0 if no_wait else None, stable_seconds=stable)
                    _print_cycle(cycle, box.root)
                    failed += len(cycle.failed)
                except LeadpipeError as exc:
                    failed += 1
                    err.print(f"[bold red]error:[/] {exc.message}" + (f"\n  hint: {exc.hint}" if exc.hint else ""))
                except Exception as exc:  # noqa: BLE001 - a watcher keeps watching; the files are in failed/
                    failed += 1
                    err.print(f"[bold red]run failed:[/] {type(exc).__name__}: {exc}; the claimed files are in "
                              f"{box.root / 'failed'} with an error.txt each")
            if once:
                break
            time.sleep(interval)
    except KeyboardInterrupt:
        console.print("stopped")
    if once and failed:
        raise typer.Exit(1)


@app.command()
def serve(
    db: DbOption = None,
    config: ConfigOption = None,
    inbox: Annotated[Optional[str], typer.Option("--inbox", help=r"Drop folder of the poll (default: path in the \[inbox] section).")] = None,
) -> None:
    """Serve the scheduled deployments (nightly import, drop-folder poll) against a Prefect server."""
    from flows.operations import build_deployments, serve_deployments

    with _errors():
        settings = load_settings(config, db)
        deployments = build_deployments(settings, config or os.environ.get(ENV_CONFIG), inbox=inbox)
        table = Table(title="Serving (Ctrl-C to stop)", title_justify="left")
        for col in ("deployment", "schedule", "parameters"):
            table.add_column(col)
        for d in deployments:
            schedule = "; ".join(str(getattr(s.schedule, "cron", None) or getattr(s.schedule, "interval", "")) for s in d.schedules or [])
            table.add_row(f"{d.flow_name}/{d.name}", schedule, ", ".join(f"{k}={v}" for k, v in d.parameters.items() if v))
        console.print(table)
        try:
            serve_deployments(deployments)
        except KeyboardInterrupt:
            console.print("stopped")


@app.command()
def report(
    out: Annotated[Path, typer.Option("--out", "-o", help="HTML file to write.")] = Path("report.html"),
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Write one self-contained HTML page: funnel, rejects, duplicates, scores, reps, runs."""
    from transforms.report_html import render_report
    from warehouse.report import collect_report

    with _errors():
        settings = load_settings(config, db)
        with readable_warehouse(settings) as (wh, source):
            data = collect_report(wh, source=Path(source).name)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(render_report(data, generated_at=datetime.now(timezone.utc)), "utf-8")
    console.print(f"report written to [bold]{out}[/] (open it in any browser; it needs no network)")


@app.command()
def export(
    parquet: Annotated[Path, typer.Option("--parquet", help="Folder to write one Parquet file per table into.")],
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Write every table of the warehouse as Parquet (for pandas, polars, Spark, BI tools)."""
    from warehouse.export import export_parquet

    with _errors():
        settings = load_settings(config, db)
        with readable_warehouse(settings) as (wh, _source):
            written = export_parquet(wh, parquet)
    table = Table(title=f"Parquet files in {parquet}", title_justify="left")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, rows, _path in written:
        table.add_row(name, str(rows))
    console.print(table)

"""The `leadpipe` command line (typer). Orders flows and prints results; holds no logic."""

from __future__ import annotations

from flows.prefect_env import apply_prefect_defaults

apply_prefect_defaults()

import logging  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
from contextlib import ExitStack, contextmanager  # noqa: E402
from datetime import datetime  # noqa: E402
from importlib import resources  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import TYPE_CHECKING, Annotated, Iterator, Optional  # noqa: E402

import typer  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.markup import escape  # noqa: E402
from rich.table import Table  # noqa: E402

from flows.config import load_settings, settings_to_toml  # noqa: E402
from transforms.errors import LeadpipeError, WarehouseLockedError  # noqa: E402
from transforms.schema import SOURCE_KINDS  # noqa: E402

if TYPE_CHECKING:
    import polars as pl

    from flows.config import LeadpipeSettings
    from warehouse.connection import Warehouse

app = typer.Typer(
    help="leadpipe: ingest lead files into DuckDB, find duplicates, score, route and convert them.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
config_app = typer.Typer(help="Inspect the configuration.", no_args_is_help=True)
app.add_typer(config_app, name="config")
rejects_app = typer.Typer(help="Rejected rows: every input row that did not become a lead, with why.", no_args_is_help=True)
app.add_typer(rejects_app, name="rejects")

# Piped output (CI logs, files) gets a wide fixed width instead of rich's 80 columns.
console = Console(width=None if sys.stdout.isatty() else 140)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 140)

DbOption = Annotated[Optional[str], typer.Option("--db", help="DuckDB warehouse file (env LEADPIPE_DB; default ./leadpipe.duckdb).")]
ConfigOption = Annotated[Optional[str], typer.Option("--config", "-c", help="TOML configuration file (env LEADPIPE_CONFIG).")]
KindOption = Annotated[Optional[str], typer.Option("--kind", help=f"Source kind for all files: {', '.join(SOURCE_KINDS)} (default: from config rules / file name).")]
NoWaitOption = Annotated[bool, typer.Option("--no-wait", help="Fail at once when another run is writing the warehouse, instead of waiting for it.")]


class _StatusHandler(logging.Handler):
    """Shows the pipeline's progress messages on a rich status line."""

    def __init__(self, status) -> None:  # type: ignore[no-untyped-def]
        super().__init__(logging.INFO)
        self.status = status

    def emit(self, record: logging.LogRecord) -> None:
        self.status.update(f"[bold]{record.getMessage()}[/]…")


@contextmanager
def _progress(message: str) -> Iterator[None]:
    logger = logging.getLogger("leadpipe.progress")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    with console.status(message) as status:
        handler = _StatusHandler(status)
        logger.addHandler(handler)
        try:
            yield
        finally:
            logger.removeHandler(handler)


def _fail(exc: LeadpipeError) -> None:
    # messages and hints are plain text: "[warehouse] path" is a TOML table, not rich markup
    err.print(f"[bold red]error:[/] {escape(exc.message)}")
    if exc.hint:
        err.print(f"  hint: {escape(exc.hint)}")
    raise typer.Exit(1)


@contextmanager
def _errors() -> Iterator[None]:
    try:
        yield
    except LeadpipeError as exc:
        _fail(exc)
    except (typer.Exit, KeyboardInterrupt):
        raise
    except Exception as exc:  # noqa: BLE001 - the CLI's last line of defence: one line, then the log
        logging.getLogger("leadpipe").debug("unexpected failure", exc_info=True)
        err.print(f"[bold red]error:[/] unexpected failure: {type(exc).__name__}: {escape(str(exc))}")
        err.print("  hint: the warehouse keeps every batch that committed; fix the cause and run again "
                  "(set LEADPIPE_DEBUG=1 for the traceback)")
        if os.environ.get("LEADPIPE_DEBUG"):
            raise
        raise typer.Exit(2) from exc


@contextmanager
def _fast_flows() -> Iterator[None]:
    """Turn off the per-flow heartbeat thread (~1 s per run) for interactive runs."""
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    with temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield


@contextmanager
def writable_warehouse(path: str, no_wait: bool, *, create: bool = False) -> Iterator[Warehouse]:
    """The warehouse opened for writing (and migrated) under the run lock; fail at once with ``no_wait``.

    For commands that write without a flow (reps import, unmerge, review import); the flows take
    the lock themselves. Unless ``create`` (reps can be set up before the first load), the
    warehouse must exist: a mistyped ``--db`` fails instead of making an empty one.
    """
    from warehouse.connection import Warehouse
    from warehouse.migrations import migrate
    from warehouse.run_lock import RunLock

    with RunLock(path).hold(0.0 if no_wait else None):
        if not create:  # under the lock: the run it waited for may have created the warehouse
            Warehouse.require(path)
        with Warehouse.open(path) as wh:
            migrate(wh)
            yield wh


def require_warehouse(settings: LeadpipeSettings) -> None:
    """Fail unless the warehouse exists, before a stage's flow starts Prefect: a stage works on
    leads already loaded, so a mistyped ``--db`` fails at once instead of creating an empty one.
    Not while another run holds the lock (it may be creating the warehouse): the flow checks
    again once it holds the lock."""
    from warehouse.connection import Warehouse
    from warehouse.run_lock import live_holder

    if live_holder(settings.warehouse.path) is None:
        Warehouse.require(settings.warehouse.path)


@contextmanager
def readable_warehouse(settings: LeadpipeSettings) -> Iterator[tuple[Warehouse, str]]:
    """The warehouse opened for reading, and the path read.

    While a run holds the warehouse (its run lock names a live process: between its tasks too, when
    a reader would keep its next task from opening the file), or another process has the file open
    for writing (DuckDB then refuses every other process, readers too), the read-only snapshot the
    last pipeline run published is read instead, with a note saying so and when it was published.
    With no snapshot (or ``publish_snapshot`` off), the warehouse's own lock error.
    """
    from warehouse.connection import Warehouse
    from warehouse.run_lock import live_holder
    from warehouse.snapshot import default_snapshot_path

    path = settings.warehouse.path
    snapshot = Path(settings.warehouse.snapshot_path or default_snapshot_path(path))
    usable = settings.warehouse.publish_snapshot and snapshot.exists()
    holder = live_holder(path) if usable else None
    with ExitStack() as stack:
        reason = f"a run holds it ({holder.describe()})" if holder is not None else None
        if reason is None:
            try:
                wh = stack.enter_context(Warehouse.open(path, read_only=True))
            except WarehouseLockedError:
                if not usable:
                    raise
                reason = "another process has it open for writing"
            else:
                yield wh, path
                return
        published = datetime.fromtimestamp(snapshot.stat().st_mtime).strftime("%Y-%m-%d %H:%M")
        err.print(f"[yellow]note:[/] {escape(path)}: {escape(reason)}; reading the snapshot {escape(str(snapshot))} "
                  f"published {published} instead")
        yield stack.enter_context(Warehouse.open(snapshot, read_only=True)), str(snapshot)


def _check_kind(kind: str | None) -> None:
    if kind is not None and kind not in SOURCE_KINDS:
        _fail(LeadpipeError(f"unknown --kind {kind!r}", hint=f"use one of: {', '.join(SOURCE_KINDS)}"))


def frame_table(frame: pl.DataFrame, title: str) -> Table:
    """A rich table of a polars frame: one column per frame column, nulls shown empty."""
    table = Table(title=title, title_justify="left")
    for col in frame.columns:
        table.add_column(col)
    for row in frame.iter_rows():
        table.add_row(*["" if v is None else escape(str(v)) for v in row])
    return table


def _batch_table(batches) -> Table:  # type: ignore[no-untyped-def]
    table = Table(title="Files", title_justify="left")
    for col in ("batch", "file", "kind", "status", "read", "loaded", "rejected", "skipped"):
        table.add_column(col, justify="right" if col in ("batch", "read", "loaded", "rejected", "skipped") else "left")
    for b in batches:
        colour = {"loaded": "green", "already_loaded": "yellow", "failed": "red"}.get(b.status, "white")
        table.add_row(
            str(b.batch_id or ""), Path(b.source_file).name, b.source_kind, f"[{colour}]{b.status.replace('_', ' ')}[/]",
            str(b.rows_read), str(b.rows_loaded), str(b.rows_rejected), str(b.rows_skipped),
        )
    return table


def _summary_table(summary) -> Table:  # type: ignore[no-untyped-def]
    """The pipeline_runs row of a run (the same lines as its Prefect artifact)."""
    table = Table(title=f"Run summary (pipeline_runs #{summary.run_id})", title_justify="left", show_header=False)
    table.add_column("what")
    table.add_column("value")
    for label, value in summary.rows():
        table.add_row(label, f"[red]{value}[/]" if label == "error" else value)
    return table


def _print_pipeline(result) -> None:  # type: ignore[no-untyped-def]
    from warehouse.connection import Warehouse
    from warehouse.status import pipeline_summary

    console.print(_batch_table(result.batches))
    with Warehouse.open(result.db) as wh:
        summary = pipeline_summary(wh)
    conv = result.conversion
    table = Table(title="Warehouse", title_justify="left", show_header=False)
    table.add_column("what")
    table.add_column("value", justify="right")
    table.add_row("leads", str(summary["leads"]))
    table.add_row("clusters / with duplicates / duplicate leads",
                  f"{summary['clusters']} / {summary['clusters_with_duplicates']} / {summary['duplicate_leads']}")
    table.add_row("MQLs (open / converted since)", f"{summary['mqls']} / {summary['converted']}")
    table.add_row("leads with an owner (new this run)", f"{summary['owned']} ({result.assigned})")
    if conv is not None:
        table.add_row("converted this run (linked duplicates)", f"{conv.leads_converted} ({conv.leads_linked})")
        table.add_row("accounts / contacts / opportunities created", f"{conv.accounts_created} / {conv.contacts_created} / {conv.opportunities_created}")
    console.print(table)
    if result.dedup is not None and result.dedup.golden_rebuilt is not None:
        console.print(f"{result.dedup.golden_rebuilt} golden record(s) rebuilt first: {result.dedup.golden_rebuilt_because}")
    if result.summary is not None:
        console.print(_summary_table(result.summary))
    console.print(f"warehouse: [bold]{result.db}[/]" + (f"   read-only snapshot: [bold]{result.snapshot}[/]" if result.snapshot else ""))
    for failed in result.failed:
        err.print(f"[bold red]failed:[/] {failed.source_file}: {failed.error}")


def _run_pipeline(files: list[str], db: str | None, config: str | None, kind: str | None,
                  trigger: str = "cli", no_wait: bool = False) -> None:
    from flows.pipeline import lead_pipeline

    _check_kind(kind)
    with _errors():
        settings = load_settings(config, db)  # fail on bad config before anything runs
        missing = [f for f in files if not Path(f).exists()]
        if missing:
            raise LeadpipeError(f"file not found: {missing[0]}", hint="check the paths you passed")
        with _fast_flows(), _progress("starting Prefect"):
            result = lead_pipeline([str(Path(f).resolve()) for f in files], settings.warehouse.path, config, kind,
                                   trigger=trigger, lock_wait_seconds=0 if no_wait else None)
        _print_pipeline(result)
    if result.failed:
        err.print(f"{len(result.failed)} file(s) failed; see `leadpipe status` and the import_batches table")
        raise typer.Exit(1)


def sample_files() -> list[str]:
    """The bundled sample files, sorted by name."""
    folder = resources.files("flows").joinpath("samples")
    return sorted(str(p) for p in folder.iterdir() if p.is_file() and not p.name.lower().endswith(".md"))  # type: ignore[attr-defined]


@app.command()
def demo(db: DbOption = None, config: ConfigOption = None, no_wait: NoWaitOption = False) -> None:
    """Run the whole pipeline on the bundled sample files (into ./leadpipe.duckdb by default)."""
    files = sample_files()
    console.print(f"leadpipe demo: {len(files)} sample files")
    _run_pipeline(files, db, config, None, "demo", no_wait)


@app.command()
def run(
    files: Annotated[list[str], typer.Argument(help="Lead files (CSV, TSV, JSON Lines, .xlsx).")],
    db: DbOption = None,
    config: ConfigOption = None,
    kind: KindOption = None,
    no_wait: NoWaitOption = False,
) -> None:
    """Run the whole pipeline: ingest FILES, dedupe, qualify, route, convert, publish a snapshot."""
    _run_pipeline(files, db, config, kind, "cli", no_wait)


@app.command()
def ingest(
    files: Annotated[list[str], typer.Argument(help="Lead files (CSV, TSV, JSON Lines, .xlsx).")],
    db: DbOption = None,
    config: ConfigOption = None,
    kind: KindOption = None,
    no_wait: NoWaitOption = False,
) -> None:
    """Only load FILES into the warehouse (a file already loaded is skipped)."""
    from flows.pipeline import ingest as ingest_flow

    _check_kind(kind)
    with _errors():
        settings = load_settings(config, db)
        with _fast_flows(), _progress("starting Prefect"):
            batches = ingest_flow([str(Path(f).resolve()) for f in files], settings.warehouse.path, config, kind,
                                  lock_wait_seconds=0 if no_wait else None)
    console.print(_batch_table(batches))
    failed = [b for b in batches if b.status == "failed"]
    for b in failed:
        err.print(f"[bold red]failed:[/] {b.source_file}: {b.error}")
    if failed:
        raise typer.Exit(1)


@app.command()
def status(db: DbOption = None, config: ConfigOption = None, limit: int = typer.Option(10, help="How many recent batches.")) -> None:
    """Row counts of the main tables and the latest batches with their conservation figures."""
    from warehouse.migrations import current_version
    from warehouse.status import matching_summary, recent_batches, table_counts

    with _errors():
        settings = load_settings(config, db)
        with readable_warehouse(settings) as (wh, source):
            version = current_version(wh)
            counts = table_counts(wh)
            batches = recent_batches(wh, limit)
            matching = matching_summary(wh)
    console.print(f"warehouse [bold]{escape(source)}[/] (schema version {version})")
    table = Table(show_header=True)
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, count in counts.items():
        table.add_row(name, str(count))
    console.print(table)
    console.print(frame_table(batches, "Recent batches (read = loaded + rejected + skipped)"))
    if matching is not None:
        figures = Table(title="Matching", title_justify="left", show_header=False)
        figures.add_column("figure")
        figures.add_column("value", justify="right")
        for name, value in matching.items():
            figures.add_row(name, _figure(value))
        console.print(figures)


def _figure(value: object) -> str:
    """A figure as `leadpipe status` shows it: thousands separated, times to the second, none as -."""
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return f"{value:,}" if isinstance(value, int) else str(value)


@rejects_app.command("export")
def rejects_export(
    out: Annotated[Path, typer.Option("--out", "-o", help="CSV file to write.")] = Path("rejects.csv"),
    batch: Annotated[Optional[int], typer.Option("--batch", help="Only this batch id.")] = None,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Write rejected rows to CSV (reasons, source row, raw record), safe to open in Excel."""
    from transforms.export import write_safe_csv
    from warehouse.status import rejects

    with _errors():
        settings = load_settings(config, db)
        with readable_warehouse(settings) as (wh, _source):
            frame = rejects(wh, batch)
        write_safe_csv(frame, out)
    console.print(f"{frame.height} rejected rows written to [bold]{out}[/]")


@config_app.command("show")
def config_show(config: ConfigOption = None, db: DbOption = None) -> None:
    """Print the effective configuration (defaults plus your file) as TOML."""
    with _errors():
        settings = load_settings(config, db)
    sys.stdout.write(settings_to_toml(settings))


from flows import cli_operations  # noqa: E402,F401  - registers watch, serve, report, export on `app`
from flows import cli_lifecycle  # noqa: E402,F401  - registers qualify, route, convert, reps, why on `app`
from flows import cli_matching  # noqa: E402,F401  - registers dedupe, explain, unmerge, review on `app`


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    main()

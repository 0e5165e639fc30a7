"""The lifecycle commands of `leadpipe`: qualify, route, convert [--dry-run], reps import/list, why.

Registered on the app of :mod:`flows.cli` (imported at its end). Orders calls and prints; no logic.
Commands that write hold the warehouse's run lock, like a pipeline run (``--no-wait``: fail at once).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from flows.cli import (
    ConfigOption, DbOption, NoWaitOption, _errors, _fast_flows, _progress, app, console, frame_table, readable_warehouse,
    require_warehouse, writable_warehouse,
)
from flows.config import load_settings

reps_app = typer.Typer(help="Sales reps who own leads: import them from CSV, list them.", no_args_is_help=True)
app.add_typer(reps_app, name="reps")


@app.command()
def qualify(db: DbOption = None, config: ConfigOption = None, no_wait: NoWaitOption = False) -> None:
    """Score and grade every open lead cluster; mark MQLs; keep each cluster's top factors."""
    from flows.pipeline import qualify as qualify_flow

    with _errors():
        settings = load_settings(config, db)
        require_warehouse(settings)
        with _fast_flows(), _progress("starting Prefect"):
            changed = qualify_flow(settings.warehouse.path, config, lock_wait_seconds=0 if no_wait else None)
    console.print(f"{changed} leads changed score, grade or status")


@app.command()
def route(db: DbOption = None, config: ConfigOption = None, no_wait: NoWaitOption = False) -> None:
    """Give leads without a user owner one: sticky owners, assignment rules, queues (round-robin)."""
    from flows.pipeline import route as route_flow

    with _errors():
        settings = load_settings(config, db)
        require_warehouse(settings)
        with _fast_flows(), _progress("starting Prefect"):
            changed = route_flow(settings.warehouse.path, config, lock_wait_seconds=0 if no_wait else None)
    console.print(f"{changed} leads got a new owner (see the assignments table)")


def _plan_table(rows: list[dict]) -> Table:
    table = Table(title="Conversion plan (first clusters)", title_justify="left")
    for col in ("cluster", "owner", "account", "contact", "opportunity"):
        table.add_column(col)
    for r in rows:
        account = f"{r['account_action']} #{r['account_id']} {r['account_name'] or ''}" + (
            f" (by {r['account_match']})" if r.get("account_match") else ""
        )
        contact = f"{r['contact_action']} #{r['contact_id']}" + (f" (by {r['contact_match']})" if r.get("contact_match") else "")
        opp = "-" if r.get("opportunity_id") is None else f"#{r['opportunity_id']} {r['opportunity_name']}" + (
            f" ({r['amount']:,.2f})" if r.get("amount") is not None else ""
        )
        table.add_row(str(r["cluster_id"]), str(r["owner_id"]), account, contact, opp)
    return table


@app.command()
def convert(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would be created or attached; change nothing.")] = False,
    db: DbOption = None,
    config: ConfigOption = None,
    no_wait: NoWaitOption = False,
) -> None:
    """Convert qualified, user-owned lead clusters into accounts, contacts and opportunities."""
    from flows.pipeline import convert as convert_flow

    with _errors():
        settings = load_settings(config, db)
        require_warehouse(settings)
        with _fast_flows(), _progress("starting Prefect"):
            result = convert_flow(settings.warehouse.path, config, dry_run, lock_wait_seconds=0 if no_wait else None)
    if result.preview:
        console.print(_plan_table(result.preview))
    verb = "would be" if result.dry_run else "were"
    table = Table(title="Dry run: nothing was changed" if result.dry_run else "Conversion", title_justify="left", show_header=False)
    table.add_column("what")
    table.add_column("value", justify="right")
    table.add_row(f"clusters that {verb} converted (leads)", f"{result.clusters_converted} ({result.leads_converted})")
    table.add_row(f"duplicates of converted leads that {verb} linked", str(result.leads_linked))
    table.add_row("accounts created / attached", f"{result.accounts_created} / {result.accounts_attached}")
    table.add_row("contacts created / attached", f"{result.contacts_created} / {result.contacts_attached}")
    table.add_row("opportunities created", str(result.opportunities_created))
    table.add_row("qualified but not owned by a user (route them first)", str(result.skipped_not_user_owned))
    console.print(table)


@reps_app.command("import")
def reps_import(
    file: Annotated[Path, typer.Argument(help="CSV with the columns rep_id, name, email, active, weight, daily_cap, queues, out_of_office (see docs/lifecycle.md).")],
    db: DbOption = None,
    config: ConfigOption = None,
    no_wait: NoWaitOption = False,
) -> None:
    """Add or update reps from a CSV (weights, daily caps, out-of-office ranges, queue memberships)."""
    from flows.lifecycle import import_reps_stage
    from warehouse.routing import reps_overview

    with _errors():
        settings = load_settings(config, db)
        with writable_warehouse(settings.warehouse.path, no_wait, create=True) as wh:
            count = import_reps_stage(wh, file, settings.routing)
            frame = reps_overview(wh)  # on the writer's connection: a run starting now cannot hide the import
    console.print(f"{count} reps imported from [bold]{file}[/]")
    console.print(frame_table(frame, "Reps"))


@reps_app.command("list")
def reps_list(db: DbOption = None, config: ConfigOption = None) -> None:
    """The reps routing knows (config and CSV), with their load (view v_rep_load)."""
    from warehouse.routing import reps_overview

    with _errors():
        settings = load_settings(config, db)
        with readable_warehouse(settings) as (wh, _source):
            frame = reps_overview(wh)
    console.print(frame_table(frame, "Reps"))


@app.command()
def why(lead_id: Annotated[int, typer.Argument(help="A lead id.")], db: DbOption = None, config: ConfigOption = None) -> None:
    """Why a lead is hot (or not): its cluster's score, grade and top factors."""
    from warehouse.lifecycle import lead_score, score_factors

    with _errors():
        settings = load_settings(config, db)
        with readable_warehouse(settings) as (wh, _source):
            head = lead_score(wh, lead_id)
            factors = score_factors(wh, lead_id)
    if head is None:
        console.print(f"no lead {lead_id}")
        raise typer.Exit(1)
    score, grade, status, owner = head
    console.print(f"lead {lead_id}: score [bold]{score}[/], grade [bold]{grade}[/], {status}, owner {owner}")
    table = Table(show_header=True)
    for col in factors.columns:
        table.add_column(col)
    for row in factors.iter_rows():
        table.add_row(*[escape(str(v)) for v in row])
    console.print(table)

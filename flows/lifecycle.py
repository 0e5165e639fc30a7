"""The lifecycle stages as plain functions (no Prefect): read from the warehouse, decide in
``transforms``, write back. Tasks in ``flows/tasks.py``, the CLI and ``benchmarks/lifecycle.py``
call these; each is a fixed order of library calls and holds no logic of its own.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from transforms.clock import utc_now
from transforms.configuration import ConvertSettings, QualifySettings, RoutingSettings
from transforms.criteria import GOLDEN_FIELDS, fields_of
from transforms.reps_csv import parse_reps_csv
from transforms.routing import fields_read as routing_fields_read
from transforms.routing import route
from transforms.scoring import qualify
from warehouse.connection import Warehouse
from warehouse.conversion import ConversionResult, convert_leads
from warehouse.lifecycle import cluster_submissions, clusters_to_qualify, write_qualification
from warehouse.routing import (
    accounts_for_routing, import_reps, load_roster, queue_states, routing_units, sync_config_roster, write_routing,
)


def qualify_stage(wh: Warehouse, settings: QualifySettings, now: datetime | None = None) -> int:
    """Score, grade and set the status of every open cluster; return the leads changed."""
    now = now or utc_now()
    fields = fields_of(settings.score_rules) | fields_of(settings.grade_rules)
    clusters = clusters_to_qualify(wh, fields & set(GOLDEN_FIELDS))
    submissions = cluster_submissions(wh, settings.demo_request_fields)
    return write_qualification(wh, qualify(clusters, submissions, settings, now), now)


def route_stage(wh: Warehouse, settings: RoutingSettings, now: datetime | None = None) -> int:
    """Give every cluster that needs one an owner; return the leads whose owner changed."""
    now = now or utc_now()
    sync_config_roster(wh, settings, now)
    accounts = accounts_for_routing(wh)
    units = routing_units(wh, routing_fields_read(settings, accounts.height > 0), not settings.do_not_reassign, now)
    decision = route(units, load_roster(wh, now.date()), accounts, queue_states(wh), settings, now)
    return write_routing(wh, decision, not settings.do_not_reassign, now)


def convert_stage(wh: Warehouse, settings: ConvertSettings, dry_run: bool = False, now: datetime | None = None) -> ConversionResult:
    """Convert every eligible cluster (or only plan it, for a dry run)."""
    return convert_leads(wh, settings, dry_run=dry_run, now=now or utc_now())


def import_reps_stage(wh: Warehouse, path: str | Path, settings: RoutingSettings, now: datetime | None = None) -> int:
    """Read a reps CSV and store its reps, absences and queue memberships; return the reps stored."""
    parsed = parse_reps_csv(path, {q.id for q in settings.queues})
    return import_reps(wh, parsed.reps, parsed.memberships, now or utc_now())

"""Conversion of qualified clusters into accounts, contacts and opportunities (Salesforce convertLead).

The decisions (which account and contact to attach to, what to create) are made by
:mod:`transforms.conversion` on frames read here; this module reads the inputs, and applies a
plan in one transaction: insert the new records, fill only the empty fields of attached ones,
and mark every lead of each converted cluster (``is_converted``, the three ids, ``converted_at``,
status "Closed - Converted"). Converted leads are never modified again: every statement here and
in qualification and routing skips them. A new duplicate of a converted cluster is linked to
the existing account and contact instead of converting again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import polars as pl

from transforms import schema as s
from transforms.accounts import ACCOUNT_ID, match_accounts
from transforms.clock import utc_now
from transforms.convert_config import ACCOUNT_COLUMNS, CONSENT_FIELDS, CONTACT_COLUMNS, OPPORTUNITY_COLUMNS, ConvertSettings
from transforms.conversion import ConversionPlan, fields_read, plan_conversion, select_eligible
from transforms.criteria import GOLDEN_FIELDS, fields_of
from transforms.routing import CURRENT_OWNER, HELD_BY
from transforms.scoring import STATUS_CONVERTED
from warehouse.connection import Warehouse
from warehouse.lifecycle import STATE_COLUMNS_SQL, cluster_state_sql, golden_values_sql

_PLAN = "_lp_conv_plan"
_NEW = "_lp_conv_new"
_FILL = "_lp_conv_fill"
_ACC_IDS = "_lp_conv_accounts"
_ELIGIBLE = "_lp_conv_eligible"
PREVIEW_ROWS = 50


@dataclass(frozen=True)
class ConversionResult:
    """What one conversion run did (or, for a dry run, would do)."""

    clusters_converted: int
    leads_converted: int
    leads_linked: int  # new duplicates of converted clusters, linked to the existing contact
    accounts_created: int
    accounts_attached: int
    contacts_created: int
    contacts_attached: int
    opportunities_created: int
    skipped_not_user_owned: int  # pass the criteria but owned by a queue or nobody: route first
    dry_run: bool = False
    preview: list[dict[str, Any]] = field(default_factory=list)  # first clusters of the plan


def conversion_candidates_sql(fields: Iterable[str] | None = None, clusters_table: str | None = None) -> str:
    """Open clusters: golden fields, owner (a user, else the queue), qualification, aggregates, consent (param ``$now``).

    Args:
        fields: the fields wanted besides ``owner_id`` (default: every golden field and aggregate).
        clusters_table: only the clusters listed in this registered table (a module constant).
    """
    wanted = set(GOLDEN_FIELDS) | (set(STATE_COLUMNS_SQL) - {CURRENT_OWNER, HELD_BY}) if fields is None else set(fields)
    state = cluster_state_sql({s.OWNER_ID} | (wanted & set(STATE_COLUMNS_SQL)), clusters_table=clusters_table)
    golden = golden_values_sql(wanted & set(GOLDEN_FIELDS), clusters_table)
    return f"""
        WITH gf AS ({golden}), o AS ({state})
        SELECT gf.*, o.* EXCLUDE (cluster_id) FROM gf JOIN o USING (cluster_id)
    """


_CONVERTED_CLUSTERS_SQL = """
    SELECT coalesce(cluster_id, lead_id) AS cluster_key, arg_min(converted_account_id, lead_id) AS converted_account_id,
           arg_min(converted_contact_id, lead_id) AS converted_contact_id
    FROM leads WHERE is_converted GROUP BY 1
"""

# An opt-out on a new duplicate reaches the contact it is linked to (consent only ever tightens).
_LINK_CONSENT_SQL = f"""
    UPDATE contacts SET {", ".join(f"{c} = coalesce(contacts.{c}, false) OR n.{c}" for c in CONSENT_FIELDS)}, updated_at = $now
    FROM (SELECT c.converted_contact_id AS contact_id, {", ".join(f"bool_or(coalesce(l.{c}, false)) AS {c}" for c in CONSENT_FIELDS)}
          FROM leads l JOIN ({_CONVERTED_CLUSTERS_SQL}) c ON coalesce(l.cluster_id, l.lead_id) = c.cluster_key
          WHERE NOT l.is_converted GROUP BY 1) n
    WHERE contacts.contact_id = n.contact_id AND ({" OR ".join(f"(n.{c} AND NOT coalesce(contacts.{c}, false))" for c in CONSENT_FIELDS)})
"""

_LINK_DUPLICATES_SQL = f"""
    UPDATE leads SET is_converted = true, converted_account_id = c.converted_account_id,
        converted_contact_id = c.converted_contact_id, converted_at = $now, status = $status, updated_at = $now
    FROM ({_CONVERTED_CLUSTERS_SQL}) c
    WHERE coalesce(leads.cluster_id, leads.lead_id) = c.cluster_key AND NOT leads.is_converted
"""

_COUNT_LINKABLE_SQL = """
    SELECT count(*) FROM leads WHERE NOT is_converted AND coalesce(cluster_id, lead_id) IN
        (SELECT coalesce(cluster_id, lead_id) FROM leads WHERE is_converted)
"""


def _next_ids(wh: Warehouse) -> tuple[int, int, int]:
    row = wh.rows(
        "SELECT (SELECT coalesce(max(account_id), 0) + 1 FROM accounts), (SELECT coalesce(max(contact_id), 0) + 1 FROM contacts), "
        "(SELECT coalesce(max(opportunity_id), 0) + 1 FROM opportunities)"
    )[0]
    return int(row[0]), int(row[1]), int(row[2])


def plan_from_warehouse(wh: Warehouse, settings: ConvertSettings, now: datetime) -> ConversionPlan:
    """Read the candidates and the existing records, and plan the conversion (changes nothing)."""
    # Two reads: what the criteria and the owner test need for every open cluster, then the
    # fields the plan reads for the few clusters that convert (reading 23 golden fields and all
    # aggregates of a million clusters to keep a few thousand cost seconds).
    sql = conversion_candidates_sql(fields_of(settings.criteria))
    candidates = wh.frame(sql, {"now": now} if "$now" in sql else None)  # only the age aggregates read $now
    rep_ids = [r[0] for r in wh.rows("SELECT rep_id FROM reps")]
    passing, skipped = select_eligible(candidates, rep_ids, settings)
    with wh.registered(_ELIGIBLE, passing.select(pl.col(s.CLUSTER_ID).cast(pl.Int64)).unique()):
        sql = conversion_candidates_sql(fields_read(settings), _ELIGIBLE)
        eligible = wh.frame(sql, {"now": now} if "$now" in sql else None).sort(s.CLUSTER_ID)
    accounts = wh.frame("SELECT account_id, name, domain, company_key FROM accounts")
    open_accounts = [
        r[0] for r in wh.rows(
            "SELECT DISTINCT account_id FROM opportunities WHERE stage NOT IN (SELECT unnest(?::VARCHAR[]))", [list(settings.closed_stages)]
        )
    ]
    # Contacts only of the accounts this run may attach to (all contacts would be wasteful). The
    # account matches that pick them are computed once and handed to the plan, which would
    # otherwise match (fuzzily) again.
    contacts = wh.frame("SELECT contact_id, account_id, email, first_name, last_name FROM contacts WHERE false")
    matches = None
    if accounts.height and eligible.height:
        matches = match_accounts(eligible, accounts, settings.fuzzy_account_threshold)
        with wh.registered(_ACC_IDS, matches.select(pl.col(ACCOUNT_ID).cast(pl.Int64)).drop_nulls().unique()):
            contacts = wh.frame(
                f"SELECT contact_id, account_id, email, first_name, last_name FROM contacts WHERE account_id IN (SELECT account_id FROM {_ACC_IDS})"
            )
    return plan_conversion(eligible, accounts, contacts, open_accounts, _next_ids(wh), settings, now.date(), skipped,
                           account_matches=matches)


def _insert(wh: Warehouse, table: str, frame: pl.DataFrame, allowed: tuple[str, ...], fixed: tuple[str, ...], now: datetime) -> None:
    # Column names come from the code's allow-lists, never from the mapping's strings as such.
    cols = [c for c in (*fixed, *allowed) if c in frame.columns]
    stamp = ", created_at, updated_at" if table != "opportunities" else ", created_at"
    values = ", $now, $now" if table != "opportunities" else ", $now"
    with wh.registered(_NEW, frame):
        wh.execute(f"INSERT INTO {table} ({', '.join(cols)}{stamp}) SELECT {', '.join(cols)}{values} FROM {_NEW}", {"now": now})


def _set_expr(table: str, column: str, overwrite: tuple[str, ...]) -> str:
    if column in CONSENT_FIELDS:  # an opt-out on either side wins: attaching never clears one
        return f"{column} = coalesce({table}.{column}, false) OR coalesce(f.{column}, false)"
    if column in overwrite:
        return f"{column} = coalesce(f.{column}, {table}.{column})"
    return f"{column} = coalesce({table}.{column}, f.{column})"


def _fill(wh: Warehouse, table: str, key: str, frame: pl.DataFrame, allowed: tuple[str, ...], overwrite: tuple[str, ...], now: datetime) -> None:
    cols = [c for c in allowed if c in frame.columns]
    if not cols or frame.height == 0:
        return
    sets = ", ".join(_set_expr(table, c, overwrite) for c in cols)
    with wh.registered(_FILL, frame):
        wh.execute(f"UPDATE {table} SET {sets}, updated_at = $now FROM {_FILL} f WHERE {table}.{key} = f.{key}", {"now": now})


_MARK_SQL = f"""
    UPDATE leads SET is_converted = true, converted_account_id = p.account_id, converted_contact_id = p.contact_id,
        converted_opportunity_id = p.opportunity_id, converted_at = $now, status = $status, updated_at = $now
    FROM {_PLAN} p
    WHERE coalesce(leads.cluster_id, leads.lead_id) = p.cluster_id AND NOT leads.is_converted
"""


def apply_plan(wh: Warehouse, plan: ConversionPlan, settings: ConvertSettings, now: datetime) -> int:
    """Write a plan in the current transaction; return the number of leads marked converted."""
    _insert(wh, "accounts", plan.new_accounts, ACCOUNT_COLUMNS, ("account_id", "company_key", "domain", "owner_id", "source_lead_id"), now)
    _fill(wh, "accounts", "account_id", plan.account_fills, (*ACCOUNT_COLUMNS, "company_key", "domain"), (), now)
    _insert(wh, "contacts", plan.new_contacts, CONTACT_COLUMNS, ("contact_id", "account_id", "owner_id", "source_lead_id"), now)
    overwrite = ("lead_source",) if settings.overwrite_lead_source else ()
    _fill(wh, "contacts", "contact_id", plan.contact_fills, CONTACT_COLUMNS, overwrite, now)
    _insert(
        wh, "opportunities", plan.new_opportunities, OPPORTUNITY_COLUMNS,
        ("opportunity_id", "account_id", "contact_id", "name", "stage", "close_date", "amount", "owner_id", "source_lead_id"), now,
    )
    marks = plan.clusters.select(pl.col(s.CLUSTER_ID).cast(pl.Int64), "account_id", "contact_id", "opportunity_id")
    with wh.registered(_PLAN, marks):
        changed = wh.rows(_MARK_SQL, {"now": now, "status": STATUS_CONVERTED})
    return int(changed[0][0]) if changed else 0


def convert_leads(wh: Warehouse, settings: ConvertSettings, *, dry_run: bool = False, now: datetime | None = None) -> ConversionResult:
    """Link new duplicates of converted clusters, then convert every eligible cluster, in one transaction.

    Args:
        dry_run: plan and report only; nothing is written.
        now: the conversion time (default: the current UTC time).
    """
    now = now or utc_now()
    with wh.transaction():
        if dry_run:
            linked = int(wh.scalar(_COUNT_LINKABLE_SQL))
        else:
            wh.execute(_LINK_CONSENT_SQL, {"now": now})
            rows = wh.rows(_LINK_DUPLICATES_SQL, {"now": now, "status": STATUS_CONVERTED})
            linked = int(rows[0][0]) if rows else 0
        plan = plan_from_warehouse(wh, settings, now)
        leads = _count_leads(wh, plan) if dry_run else apply_plan(wh, plan, settings, now)
    c = plan.clusters
    return ConversionResult(
        clusters_converted=c.height,
        leads_converted=leads,
        leads_linked=linked,
        accounts_created=plan.new_accounts.height,
        accounts_attached=c.filter(pl.col("account_action") == "attach").height,
        contacts_created=plan.new_contacts.height,
        contacts_attached=c.filter(pl.col("contact_action") == "attach").height,
        opportunities_created=plan.new_opportunities.height,
        skipped_not_user_owned=plan.skipped_not_user_owned,
        dry_run=dry_run,
        preview=c.head(PREVIEW_ROWS).with_columns(pl.col(pl.Date, pl.Datetime).cast(pl.String)).to_dicts(),
    )


def _count_leads(wh: Warehouse, plan: ConversionPlan) -> int:
    with wh.registered(_PLAN, plan.clusters.select(pl.col(s.CLUSTER_ID).cast(pl.Int64))):
        return int(wh.scalar(
            f"SELECT count(*) FROM leads WHERE NOT is_converted AND coalesce(cluster_id, lead_id) IN (SELECT cluster_id FROM {_PLAN})"
        ))

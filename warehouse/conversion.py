"""Conversion of qualified leads into accounts, contacts and opportunities (thin first version).

Salesforce ``convertLead`` semantics, simplified: one conversion per duplicate cluster (from its
oldest eligible lead); the account is an existing one with the same company key, else a new
one per key; the contact is an existing contact of that account with the same email, else new;
an opportunity "<Account> - <lead source>" per conversion. Attaching fills only empty fields.
Leads get ``is_converted`` and the three ids and are never modified by conversion again; a later
duplicate of a converted lead is linked to the existing contact instead of converting again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from transforms.configuration import ConvertSettings
from transforms.scoring import STATUS_CONVERTED
from warehouse.connection import Warehouse


@dataclass(frozen=True)
class ConversionResult:
    """Counts of one conversion run."""

    leads_converted: int
    leads_linked: int  # duplicates of already-converted leads, attached to the existing contact
    accounts_created: int
    accounts_attached: int
    contacts_created: int
    contacts_attached: int
    opportunities_created: int


def _eligible_sql(require_owner: bool) -> str:
    owner = "AND owner_id IS NOT NULL" if require_owner else ""
    return f"""
        CREATE OR REPLACE TEMP TABLE _lp_conv AS
        SELECT * EXCLUDE (rn) FROM (
            SELECT l.*, coalesce(l.company_key, lower(l.company)) AS account_key,
                   row_number() OVER (PARTITION BY coalesce(l.cluster_id, l.lead_id) ORDER BY l.lead_id) AS rn
            FROM leads l
            WHERE NOT l.is_converted AND l.status IN (SELECT unnest($statuses::VARCHAR[])) {owner}
              AND coalesce(l.cluster_id, l.lead_id) NOT IN (
                  SELECT coalesce(cluster_id, lead_id) FROM leads WHERE is_converted)
        ) WHERE rn = 1
    """


_LINK_DUPLICATES_SQL = """
    UPDATE leads SET is_converted = true, converted_account_id = c.converted_account_id,
        converted_contact_id = c.converted_contact_id, converted_at = $now,
        status = $status, updated_at = $now
    FROM (SELECT cluster_id, arg_min(converted_account_id, lead_id) AS converted_account_id,
                 arg_min(converted_contact_id, lead_id) AS converted_contact_id
          FROM leads WHERE is_converted AND cluster_id IS NOT NULL GROUP BY cluster_id) c
    WHERE leads.cluster_id = c.cluster_id AND NOT leads.is_converted
"""

_MATCH_ACCOUNTS_SQL = """
    CREATE OR REPLACE TEMP TABLE _lp_conv_acc AS
    SELECT k.account_key, a.account_id AS existing_id
    FROM (SELECT DISTINCT account_key FROM _lp_conv) k
    LEFT JOIN (SELECT company_key, min(account_id) AS account_id FROM accounts GROUP BY company_key) a
      ON a.company_key = k.account_key
"""

_CREATE_ACCOUNTS_SQL = """
    INSERT INTO accounts (account_id, name, company_key, domain, website, phone, industry, annual_revenue,
        number_of_employees, billing_street, billing_city, billing_state, billing_postal_code,
        billing_country, owner_id, source_lead_id, created_at, updated_at)
    SELECT (SELECT coalesce(max(account_id), 0) FROM accounts) + row_number() OVER (ORDER BY c.lead_id),
        c.company, c.account_key, c.company_domain, c.website, c.phone, c.industry, c.annual_revenue,
        c.number_of_employees, c.street, c.city, c.state, c.postal_code, c.country, c.owner_id, c.lead_id, $now, $now
    FROM (SELECT *, row_number() OVER (PARTITION BY account_key ORDER BY lead_id) AS rn FROM _lp_conv) c
    JOIN _lp_conv_acc m ON m.account_key = c.account_key
    WHERE m.existing_id IS NULL AND c.rn = 1
"""

_FILL_ACCOUNTS_SQL = """
    UPDATE accounts SET domain = coalesce(accounts.domain, c.company_domain),
        website = coalesce(accounts.website, c.website), phone = coalesce(accounts.phone, c.phone),
        industry = coalesce(accounts.industry, c.industry), updated_at = $now
    FROM (SELECT DISTINCT ON (account_key) * FROM _lp_conv ORDER BY account_key, lead_id) c
    JOIN _lp_conv_acc m ON m.account_key = c.account_key
    WHERE m.existing_id IS NOT NULL AND accounts.account_id = m.existing_id
"""

_RESOLVE_SQL = """
    CREATE OR REPLACE TEMP TABLE _lp_conv_res AS
    SELECT c.lead_id, a.account_id,
        (SELECT min(ct.contact_id) FROM contacts ct
          WHERE ct.account_id = a.account_id AND ct.email IS NOT NULL AND ct.email = c.email) AS existing_contact_id
    FROM _lp_conv c
    JOIN (SELECT company_key, min(account_id) AS account_id FROM accounts GROUP BY company_key) a
      ON a.company_key = c.account_key
"""

_CREATE_CONTACTS_SQL = """
    INSERT INTO contacts (contact_id, account_id, salutation, first_name, last_name, title, email, phone,
        mobile_phone, mailing_street, mailing_city, mailing_state, mailing_postal_code, mailing_country,
        lead_source, has_opted_out_of_email, do_not_call, owner_id, source_lead_id, created_at, updated_at)
    SELECT (SELECT coalesce(max(contact_id), 0) FROM contacts) + row_number() OVER (ORDER BY c.lead_id),
        r.account_id, c.salutation, c.first_name, c.last_name, c.title, c.email, c.phone, c.mobile_phone,
        c.street, c.city, c.state, c.postal_code, c.country, c.lead_source, c.has_opted_out_of_email,
        c.do_not_call, c.owner_id, c.lead_id, $now, $now
    FROM _lp_conv c JOIN _lp_conv_res r USING (lead_id)
    WHERE r.existing_contact_id IS NULL
"""

_CREATE_OPPORTUNITIES_SQL = """
    INSERT INTO opportunities (opportunity_id, account_id, contact_id, name, stage, close_date, amount,
        lead_source, owner_id, source_lead_id, created_at)
    SELECT (SELECT coalesce(max(opportunity_id), 0) FROM opportunities) + row_number() OVER (ORDER BY c.lead_id),
        r.account_id, ct.contact_id, a.name || ' - ' || coalesce(c.lead_source, 'Other'), $stage,
        CAST($now AS DATE) + to_days($close_days), NULL, c.lead_source, c.owner_id, c.lead_id, $now
    FROM _lp_conv c JOIN _lp_conv_res r USING (lead_id)
    JOIN accounts a ON a.account_id = r.account_id
    JOIN contacts ct ON ct.contact_id = coalesce(r.existing_contact_id,
        (SELECT min(contact_id) FROM contacts WHERE source_lead_id = c.lead_id))
"""

_MARK_CONVERTED_SQL = """
    UPDATE leads SET is_converted = true, converted_account_id = x.account_id,
        converted_contact_id = x.contact_id, converted_opportunity_id = x.opportunity_id,
        converted_at = $now, status = $status, updated_at = $now
    FROM (
        SELECT c.lead_id, coalesce(c.cluster_id, c.lead_id) AS cluster_key, r.account_id,
            coalesce(r.existing_contact_id, (SELECT min(contact_id) FROM contacts WHERE source_lead_id = c.lead_id)) AS contact_id,
            (SELECT min(opportunity_id) FROM opportunities WHERE source_lead_id = c.lead_id) AS opportunity_id
        FROM _lp_conv c JOIN _lp_conv_res r USING (lead_id)
    ) x
    WHERE NOT leads.is_converted AND (leads.lead_id = x.lead_id OR leads.cluster_id = x.cluster_key)
"""


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def convert_leads(wh: Warehouse, settings: ConvertSettings, *, dry_run: bool = False) -> ConversionResult:
    """Convert eligible leads in one transaction (rolled back when ``dry_run``)."""
    now = _now()
    counts = lambda: {  # noqa: E731
        t: int(wh.scalar(f"SELECT count(*) FROM {t}")) for t in ("accounts", "contacts", "opportunities")
    }
    converted_before = int(wh.scalar("SELECT count(*) FROM leads WHERE is_converted"))

    class _DryRun(Exception):
        pass

    result: ConversionResult | None = None
    try:
        with wh.transaction():
            before = counts()
            wh.execute(_LINK_DUPLICATES_SQL, {"now": now, "status": STATUS_CONVERTED})
            linked = int(wh.scalar("SELECT count(*) FROM leads WHERE is_converted")) - converted_before
            wh.execute(_eligible_sql(settings.require_owner), {"statuses": list(settings.statuses)})
            eligible = int(wh.scalar("SELECT count(*) FROM _lp_conv"))
            wh.execute(_MATCH_ACCOUNTS_SQL)
            attached_accounts = int(wh.scalar("SELECT count(*) FROM _lp_conv c JOIN _lp_conv_acc m USING (account_key) WHERE m.existing_id IS NOT NULL"))
            wh.execute(_CREATE_ACCOUNTS_SQL, {"now": now})
            wh.execute(_FILL_ACCOUNTS_SQL, {"now": now})
            wh.execute(_RESOLVE_SQL)
            attached_contacts = int(wh.scalar("SELECT count(*) FROM _lp_conv_res WHERE existing_contact_id IS NOT NULL"))
            wh.execute(_CREATE_CONTACTS_SQL, {"now": now})
            if settings.create_opportunity:
                wh.execute(
                    _CREATE_OPPORTUNITIES_SQL,
                    {"now": now, "stage": settings.opportunity_stage, "close_days": settings.opportunity_close_days},
                )
            wh.execute(_MARK_CONVERTED_SQL, {"now": now, "status": STATUS_CONVERTED})
            after = counts()
            result = ConversionResult(
                leads_converted=eligible,
                leads_linked=linked,
                accounts_created=after["accounts"] - before["accounts"],
                accounts_attached=attached_accounts,
                contacts_created=after["contacts"] - before["contacts"],
                contacts_attached=attached_contacts,
                opportunities_created=after["opportunities"] - before["opportunities"],
            )
            for temp in ("_lp_conv", "_lp_conv_acc", "_lp_conv_res"):
                wh.execute(f"DROP TABLE IF EXISTS {temp}")
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    assert result is not None
    return result

"""Conversion planning (Salesforce convertLead), pure polars: what to create and what to attach.

For each eligible cluster (it passes ``[convert] criteria`` and is owned by a user; a queue-owned
cluster must be routed to a rep first), the plan says:

- **account**: an existing account matched by registrable domain (never free-mail), company
  key, or a fuzzy company key; else a new account. Clusters of one run that share a domain or
  company key share one new account.
- **contact**: an existing contact of that account with the same email, else the same first and
  last name; else a new contact.
- **opportunity**: per ``create_opportunity`` (``unless_open``: only when the account has no open
  opportunity, and one per account per run), named "<Account> - <lead source>", stage and close
  date from the settings, amount from the first matching amount rule.

Attaching fills only empty fields of the existing record (the lead source is overwritten only
when configured). New records get the cluster's owner. Ids continue from the warehouse's
largest. The warehouse applies a plan in one transaction; a dry run only prints it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

import polars as pl

from transforms import schema as s
from transforms.accounts import ACCOUNT_ID, ACCOUNT_MATCH, match_accounts, usable_domain, usable_key
from transforms.convert_config import ConvertSettings
from transforms.criteria import criterion_expr, fields_of, with_all_of_columns

CONTACT_ID = "contact_id"
OPPORTUNITY_ID = "opportunity_id"
ACCOUNT_ACTION = "account_action"  # 'attach' or 'create'
CONTACT_ACTION = "contact_action"
CONTACT_MATCH = "contact_match"  # 'email', 'name' or null
OPPORTUNITY_NAME = "opportunity_name"
AMOUNT = "amount"
ACCOUNT_NAME = "account_name"
ATTACH = "attach"
CREATE = "create"


@dataclass(frozen=True)
class ConversionPlan:
    """Everything one conversion run would create, attach and fill."""

    clusters: pl.DataFrame  # one row per converting cluster, with its decisions and the ids
    new_accounts: pl.DataFrame
    account_fills: pl.DataFrame  # existing accounts: values for their empty fields
    new_contacts: pl.DataFrame
    contact_fills: pl.DataFrame
    new_opportunities: pl.DataFrame
    skipped_not_user_owned: int  # clusters that pass the criteria but are owned by a queue or nobody


def select_eligible(candidates: pl.DataFrame, rep_ids: Iterable[str], settings: ConvertSettings) -> tuple[pl.DataFrame, int]:
    """Clusters that pass the criteria and are owned by a user; and how many passed but were not."""
    passing = with_all_of_columns(candidates, [("__pass", settings.criteria)]).filter(pl.col("__pass")).drop("__pass")
    owned = pl.col(s.OWNER_ID).is_in(list(rep_ids)).fill_null(False)
    return passing.filter(owned), passing.filter(~owned).height


def fields_read(settings: ConvertSettings) -> set[str]:
    """Every cluster field the plan reads: criteria, mapped fields, amount rules, account and contact matching."""
    mapping = settings.field_mapping
    return (
        fields_of(settings.criteria) | fields_of(settings.amount_rules)
        | set(mapping.account.values()) | set(mapping.contact.values()) | set(mapping.opportunity.values())
        | {s.COMPANY, s.COMPANY_KEY, s.COMPANY_DOMAIN, s.EMAIL, s.FIRST_NAME, s.LAST_NAME, s.LEAD_SOURCE}
    )


def _mapped(mapping: dict[str, str]) -> list[pl.Expr]:
    return [pl.col(source).alias(target) for target, source in mapping.items()]


def _ranked_ids(frame: pl.DataFrame, group: str, start: int, name: str) -> pl.DataFrame:
    """Give each group an id ``start, start+1, ...`` in the order of its smallest cluster id."""
    firsts = frame.group_by(group).agg(pl.col(s.CLUSTER_ID).min().alias("_first")).sort("_first")
    return firsts.with_columns((pl.int_range(pl.len(), dtype=pl.Int64) + start).alias(name)).select(group, name, "_first")


def plan_accounts(
    eligible: pl.DataFrame, accounts: pl.DataFrame, next_account_id: int, settings: ConvertSettings,
    account_matches: pl.DataFrame | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Per cluster: ``account_id``, ``account_action``, ``account_match``, ``account_name``; new accounts; fills.

    Args:
        account_matches: :func:`~transforms.accounts.match_accounts` of ``eligible`` and
            ``accounts`` at ``settings.fuzzy_account_threshold`` when the caller already has it
            (the warehouse needs it first to read the contacts); ``None`` computes it here.
    """
    matches = account_matches if account_matches is not None else match_accounts(
        eligible, accounts.select("account_id", "domain", "company_key"), settings.fuzzy_account_threshold
    )
    frame = eligible.join(matches, on=s.CLUSTER_ID, how="left").with_columns(
        usable_domain(pl.col(s.COMPANY_DOMAIN)).alias("_dom"), usable_key(pl.col(s.COMPANY_KEY), pl.col(s.COMPANY)).alias("_key")
    )
    new = frame.filter(pl.col(ACCOUNT_ID).is_null())
    # One new account per company in this run: same domain, or same key (a key seen with a
    # domain joins that domain's account).
    key_domain = new.drop_nulls(["_dom", "_key"]).group_by("_key").agg(pl.col("_dom").min().alias("_key_dom"))
    new = new.join(key_domain, on="_key", how="left").with_columns(
        pl.coalesce(
            pl.concat_str(pl.lit("d:"), pl.coalesce("_dom", "_key_dom")),
            pl.concat_str(pl.lit("k:"), "_key"),
            pl.concat_str(pl.lit("c:"), pl.col(s.CLUSTER_ID).cast(pl.String)),
        ).alias("_group")
    )
    ids = _ranked_ids(new, "_group", next_account_id, "_new_id")
    new = new.join(ids, on="_group", how="left")
    new_accounts = (
        new.filter(pl.col(s.CLUSTER_ID) == pl.col("_first"))
        .select(
            pl.col("_new_id").alias(ACCOUNT_ID), *_mapped(settings.field_mapping.account),
            pl.col("_key").alias("company_key"), pl.coalesce("_dom", "_key_dom").alias("domain"),
            s.OWNER_ID, pl.col(s.CLUSTER_ID).alias("source_lead_id"),
        )
        .sort(ACCOUNT_ID)
    )
    names = pl.concat(
        [
            accounts.select(pl.col(ACCOUNT_ID).cast(pl.Int64), pl.col("name").alias(ACCOUNT_NAME)),
            new_accounts.select(ACCOUNT_ID, pl.col("name").alias(ACCOUNT_NAME)),
        ]
    )
    attached = frame.filter(pl.col(ACCOUNT_ID).is_not_null())
    fills = (
        attached.sort(s.CLUSTER_ID).group_by(ACCOUNT_ID, maintain_order=True).first()
        .select(ACCOUNT_ID, *_mapped({k: v for k, v in settings.field_mapping.account.items() if k != "name"}),
                pl.col("_key").alias("company_key"), pl.col("_dom").alias("domain"))
    )
    decided = pl.concat(
        [
            attached.select(s.CLUSTER_ID, ACCOUNT_ID, pl.lit(ATTACH).alias(ACCOUNT_ACTION), ACCOUNT_MATCH),
            new.select(s.CLUSTER_ID, pl.col("_new_id").alias(ACCOUNT_ID), pl.lit(CREATE).alias(ACCOUNT_ACTION), pl.lit(None, pl.String).alias(ACCOUNT_MATCH)),
        ]
    ).join(names, on=ACCOUNT_ID, how="left")
    return decided, new_accounts, fills


def plan_contacts(eligible: pl.DataFrame, contacts: pl.DataFrame, next_contact_id: int, settings: ConvertSettings) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Per cluster (with ``account_id``): ``contact_id``, ``contact_action``, ``contact_match``; new contacts; fills.

    Args:
        contacts: existing contacts of the accounts concerned: ``contact_id``, ``account_id``,
            ``email``, ``first_name``, ``last_name``.
    """
    name_key = pl.concat_str(pl.col(s.FIRST_NAME).str.to_lowercase(), pl.col(s.LAST_NAME).str.to_lowercase(), separator="|")
    existing = contacts.select(pl.col(CONTACT_ID).cast(pl.Int64), pl.col(ACCOUNT_ID).cast(pl.Int64), pl.col("email").str.to_lowercase().alias("_email"), name_key.alias("_name"))
    by_email = existing.drop_nulls("_email").group_by(ACCOUNT_ID, "_email").agg(pl.col(CONTACT_ID).min().alias("_c_email"))
    by_name = existing.drop_nulls("_name").group_by(ACCOUNT_ID, "_name").agg(pl.col(CONTACT_ID).min().alias("_c_name"))
    frame = (
        eligible.with_columns(pl.col(s.EMAIL).str.to_lowercase().alias("_email"), name_key.alias("_name"))
        .join(by_email, on=[ACCOUNT_ID, "_email"], how="left")
        .join(by_name, on=[ACCOUNT_ID, "_name"], how="left")
        .with_columns(
            pl.coalesce("_c_email", "_c_name").alias(CONTACT_ID),
            pl.when(pl.col("_c_email").is_not_null()).then(pl.lit("email")).when(pl.col("_c_name").is_not_null()).then(pl.lit("name")).alias(CONTACT_MATCH),
        )
    )
    new = frame.filter(pl.col(CONTACT_ID).is_null()).with_columns(
        pl.concat_str(
            pl.col(ACCOUNT_ID).cast(pl.String), pl.coalesce(
                pl.concat_str(pl.lit("e:"), "_email"), pl.concat_str(pl.lit("n:"), "_name"),
                pl.concat_str(pl.lit("c:"), pl.col(s.CLUSTER_ID).cast(pl.String)),
            ), separator="/",
        ).alias("_group")
    )
    ids = _ranked_ids(new, "_group", next_contact_id, "_new_id")
    new = new.join(ids, on="_group", how="left")
    new_contacts = (
        new.filter(pl.col(s.CLUSTER_ID) == pl.col("_first"))
        .select(pl.col("_new_id").alias(CONTACT_ID), ACCOUNT_ID, *_mapped(settings.field_mapping.contact), s.OWNER_ID, pl.col(s.CLUSTER_ID).alias("source_lead_id"))
        .sort(CONTACT_ID)
    )
    attached = frame.filter(pl.col(CONTACT_ID).is_not_null())
    fills = attached.sort(s.CLUSTER_ID).group_by(CONTACT_ID, maintain_order=True).first().select(CONTACT_ID, *_mapped(settings.field_mapping.contact))
    decided = pl.concat(
        [
            attached.select(s.CLUSTER_ID, CONTACT_ID, pl.lit(ATTACH).alias(CONTACT_ACTION), CONTACT_MATCH),
            new.select(s.CLUSTER_ID, pl.col("_new_id").alias(CONTACT_ID), pl.lit(CREATE).alias(CONTACT_ACTION), pl.lit(None, pl.String).alias(CONTACT_MATCH)),
        ]
    )
    return decided, new_contacts, fills


def _amount(settings: ConvertSettings) -> pl.Expr:
    chain: pl.Expr | pl.Then | pl.ChainedThen = pl
    for rule in settings.amount_rules:
        chain = chain.when(criterion_expr(rule)).then(pl.lit(rule.amount))  # type: ignore[union-attr]
    default = pl.lit(settings.default_amount, pl.Float64)
    return chain.otherwise(default) if settings.amount_rules else default  # type: ignore[union-attr]


def plan_opportunities(frame: pl.DataFrame, open_accounts: Iterable[int], next_opportunity_id: int, settings: ConvertSettings, as_of: date) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Per cluster ``opportunity_id`` (null = none), ``opportunity_name``, ``amount``; the new opportunities."""
    frame = frame.with_columns(
        pl.concat_str(pl.col(ACCOUNT_NAME), pl.coalesce(pl.col(s.LEAD_SOURCE), pl.lit("Other")), separator=" - ").alias(OPPORTUNITY_NAME),
        _amount(settings).alias(AMOUNT),
    )
    if settings.create_opportunity == "never":
        wanted = frame.filter(pl.lit(False))
    elif settings.create_opportunity == "always":
        wanted = frame
    else:  # unless_open: none for an account with an open opportunity, one per account per run
        wanted = (
            frame.filter(~pl.col(ACCOUNT_ID).is_in(list(open_accounts)))
            .sort(s.CLUSTER_ID)
            .unique(ACCOUNT_ID, keep="first", maintain_order=True)
        )
    wanted = wanted.sort(s.CLUSTER_ID).with_columns((pl.int_range(pl.len(), dtype=pl.Int64) + next_opportunity_id).alias(OPPORTUNITY_ID))
    new_opps = wanted.select(
        OPPORTUNITY_ID, ACCOUNT_ID, CONTACT_ID, pl.col(OPPORTUNITY_NAME).alias("name"),
        pl.lit(settings.opportunity_stage).alias("stage"),
        pl.lit(as_of + timedelta(days=settings.opportunity_close_days)).alias("close_date"),
        AMOUNT, *_mapped(settings.field_mapping.opportunity), s.OWNER_ID, pl.col(s.CLUSTER_ID).alias("source_lead_id"),
    )
    out = frame.join(wanted.select(s.CLUSTER_ID, OPPORTUNITY_ID), on=s.CLUSTER_ID, how="left").with_columns(
        pl.when(pl.col(OPPORTUNITY_ID).is_not_null()).then(pl.col(c)).alias(c) for c in (OPPORTUNITY_NAME, AMOUNT)
    )
    return out, new_opps


def plan_conversion(
    eligible: pl.DataFrame,
    accounts: pl.DataFrame,
    contacts: pl.DataFrame,
    open_accounts: Iterable[int],
    next_ids: tuple[int, int, int],
    settings: ConvertSettings,
    as_of: date,
    skipped_not_user_owned: int = 0,
    account_matches: pl.DataFrame | None = None,
) -> ConversionPlan:
    """The complete plan for eligible clusters (see the module docstring).

    Args:
        eligible: clusters from :func:`select_eligible`, with every mapped golden field.
        accounts: existing accounts (``account_id``, ``name``, ``domain``, ``company_key``).
        contacts: existing contacts of the accounts concerned (or all contacts).
        open_accounts: ids of accounts that already have an open opportunity.
        next_ids: the next account, contact and opportunity ids.
        as_of: conversion date (close date = as_of + N days).
        account_matches: ``match_accounts(eligible, accounts, settings.fuzzy_account_threshold)``
            if already computed (the fuzzy match is the costly step); ``None`` computes it.
    """
    next_account, next_contact, next_opp = next_ids
    account_rows, new_accounts, account_fills = plan_accounts(eligible, accounts, next_account, settings, account_matches)
    frame = eligible.join(account_rows, on=s.CLUSTER_ID, how="inner")
    contact_rows, new_contacts, contact_fills = plan_contacts(frame, contacts, next_contact, settings)
    frame = frame.join(contact_rows, on=s.CLUSTER_ID, how="inner")
    frame, new_opps = plan_opportunities(frame, open_accounts, next_opp, settings, as_of)
    clusters = frame.select(
        s.CLUSTER_ID, s.OWNER_ID, s.COMPANY, ACCOUNT_ID, ACCOUNT_NAME, ACCOUNT_ACTION, ACCOUNT_MATCH,
        CONTACT_ID, CONTACT_ACTION, CONTACT_MATCH, OPPORTUNITY_ID, OPPORTUNITY_NAME, AMOUNT,
    ).sort(s.CLUSTER_ID)
    return ConversionPlan(
        clusters=clusters, new_accounts=new_accounts, account_fills=account_fills, new_contacts=new_contacts,
        contact_fills=contact_fills, new_opportunities=new_opps, skipped_not_user_owned=skipped_not_user_owned,
    )

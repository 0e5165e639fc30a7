"""Golden records: one record per cluster, each value chosen by a survivorship rule, with provenance.

Fields that belong together are chosen together from one lead, so a golden record never pairs
an e-mail with another lead's e-mail domain or a street with another lead's city: the groups
are email (email, email_domain, is_freemail), company (company, company_key), website
(website, website_domain) and address (street, city, state, postal_code, country). A group's
rule is the rule of its first field, and it chooses among the leads that have any of the
group's own values (not the derived ones: e-mail domain, free-mail flag, company key, website
domain). An address with a city and a country but no street counts; before 2026-12-07 only
leads with a street did, so most golden records had no city or country.

Rules: ``most_recent`` (latest submission, else load, with a value), ``oldest``,
``most_complete`` (the lead with the most of the group's fields filled, then the longest value),
``source_priority`` (by source kind in the configured order, then most recent).
"""

from __future__ import annotations

import polars as pl

from matching.configuration import GOLDEN_GROUPS, Survivorship
from transforms import schema as s

#: Field groups chosen together; the first field names the group's rule.
GROUPS = GOLDEN_GROUPS
GOLDEN_FIELDS: tuple[str, ...] = tuple(f for group in GROUPS for f in group)
#: Columns a golden-record build needs from each lead.
GOLDEN_INPUT: tuple[str, ...] = (s.CLUSTER_ID, s.LEAD_ID, s.SOURCE_KIND, s.SUBMITTED_AT, s.CREATED_AT, *GOLDEN_FIELDS)
SEEN = "_lp_seen"
SIZE = "_lp_size"


def _order(rule: str, group: tuple[str, ...], priority: list[str]) -> tuple[list[pl.Expr], list[bool]]:
    seen = pl.col(SEEN)
    lead = pl.col(s.LEAD_ID)
    match rule:
        case "oldest":
            return [seen, lead], [False, False]
        case "most_complete":
            filled = pl.sum_horizontal([pl.col(f).is_not_null().cast(pl.Int32) for f in group])
            length = pl.col(group[0]).cast(pl.String).str.len_chars().fill_null(0)
            return [filled, length, seen, lead], [True, True, True, True]
        case "source_priority":
            rank = pl.col(s.SOURCE_KIND).replace_strict(priority, list(range(len(priority))), default=len(priority),
                                                        return_dtype=pl.Int32)
            return [rank, seen, lead], [False, True, True]
        case _:
            return [seen, lead], [True, True]


#: Fields derived from another of their group (never a value of their own): they do not make a
#: group present (``is_freemail`` is False on a lead without an e-mail, not null).
DERIVED: frozenset[str] = frozenset({s.EMAIL_DOMAIN, s.IS_FREEMAIL, s.COMPANY_KEY, s.WEBSITE_DOMAIN})


def _present(group: tuple[str, ...]) -> pl.Expr:
    """Whether a lead has any of the group's own values: an address with a city but no street
    counts; an e-mail group with only ``is_freemail`` does not."""
    return pl.any_horizontal([pl.col(f).is_not_null() for f in group if f not in DERIVED])


def _single_lead_records(frame: pl.LazyFrame) -> pl.LazyFrame:
    # a lead alone in its cluster is its golden record (a group's fields where it has any of them)
    return frame.select(
        s.CLUSTER_ID,
        pl.lit(1, pl.Int32).alias("lead_count"),
        pl.concat_list(s.LEAD_ID).alias("lead_ids"),
        pl.concat_list(s.SOURCE_KIND).list.drop_nulls().alias("source_kinds"),
        pl.col(SEEN).alias("first_seen_at"),
        pl.col(SEEN).alias("last_seen_at"),
        *[pl.when(_present(group)).then(pl.col(f)).alias(f) for group in GROUPS for f in group],
        *[pl.when(_present(group)).then(pl.col(s.LEAD_ID)).alias(f"_from_{group[0]}") for group in GROUPS],
    )


def _chosen(frame: pl.LazyFrame, groups: list[tuple[str, ...]], by: list[pl.Expr], descending: list[bool]) -> pl.LazyFrame:
    # one sort for every group under the same order; a group takes the first lead with any of its
    # fields (polars keeps the order of the rows within each group)
    picks = []
    for group in groups:
        present = _present(group)
        picks += [pl.col(f).filter(present).first() for f in group]
        picks.append(pl.col(s.LEAD_ID).filter(present).first().alias(f"_from_{group[0]}"))
    return frame.sort([s.CLUSTER_ID, *by], descending=[False, *descending]).group_by(s.CLUSTER_ID).agg(picks)


def golden_records(leads: pl.DataFrame, settings: Survivorship) -> pl.DataFrame:
    """One golden record per cluster.

    A lead alone in its cluster (most of them) is its own record. The others are sorted once per
    distinct order (a rule; ``most_complete`` orders by its group's fields), not once per group.

    Args:
        leads: every lead of the clusters to build, with ``GOLDEN_INPUT`` columns.
        settings: survivorship rules.

    Returns:
        One row per cluster, by ``cluster_id``: ``cluster_id``, ``lead_count``, ``lead_ids``,
        ``source_kinds``, ``first_seen_at``, ``last_seen_at``, the golden fields and
        ``provenance`` (JSON object field -> lead id).
    """
    # one lazy plan: the parts run in parallel and the input is read once
    frame = leads.lazy().with_columns(
        pl.coalesce(s.SUBMITTED_AT, s.CREATED_AT).alias(SEEN), pl.len().over(s.CLUSTER_ID).alias(SIZE)
    )
    single = _single_lead_records(frame.filter(pl.col(SIZE) == 1))
    shared = frame.filter(pl.col(SIZE) > 1)
    result = shared.group_by(s.CLUSTER_ID).agg(
        pl.len().cast(pl.Int32).alias("lead_count"),
        pl.col(s.LEAD_ID).sort().alias("lead_ids"),
        pl.col(s.SOURCE_KIND).drop_nulls().unique().sort().alias("source_kinds"),
        pl.col(SEEN).min().alias("first_seen_at"),
        pl.col(SEEN).max().alias("last_seen_at"),
    )
    orders: dict[tuple[str, tuple[str, ...]], list[tuple[str, ...]]] = {}
    for group in GROUPS:
        rule = settings.fields.get(group[0], settings.default)
        orders.setdefault((rule, group if rule == "most_complete" else ()), []).append(group)
    for (rule, _), groups in orders.items():
        by, descending = _order(rule, groups[0], settings.source_priority)
        result = result.join(_chosen(shared, groups, by, descending), on=s.CLUSTER_ID, how="left")
    result = pl.concat([single, result.select(single.collect_schema().names())])
    provenance = pl.struct([pl.col(f"_from_{group[0]}").alias(f) for group in GROUPS for f in group])
    return result.select(
        s.CLUSTER_ID, "lead_count", "lead_ids", "source_kinds", "first_seen_at", "last_seen_at", *GOLDEN_FIELDS,
        provenance.struct.json_encode().alias("provenance"),
    ).sort(s.CLUSTER_ID).collect(engine="in-memory")

"""Routing decisions per cluster: sticky owners, the assignment rule, the default owner, queues.

The order for each cluster that needs an owner:

1. **sticky cluster**: the cluster already has a user owner (an earlier duplicate was routed)
   and that rep is active: the new leads go to the same rep;
2. **sticky account**: the company matches an existing account (registrable domain, never a
   free-mail one, or company key) whose owner is an active rep: that rep;
3. the **assignment rule**: ordered entries, the first whose criteria all hold wins;
4. the **default owner** otherwise.

An assignee is a rep (the cluster is theirs) or a queue. A queue with ``round_robin`` hands its
clusters out by weighted round-robin (:mod:`transforms.round_robin`) over its members who are
active, not out of office, and under their daily cap; what nobody can take stays owned by the
queue and is tried again next run (a queue-owned lead cannot be converted, as in Salesforce).
Sticky and direct assignments count toward a rep's daily load but are never refused by a cap.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Final

import polars as pl

from transforms import schema as s
from transforms.accounts import ACCOUNT_ID, match_accounts
from transforms.criteria import fields_of, with_all_of_columns
from transforms.round_robin import assign_round_robin, cycle_signature, rotation_cycle
from transforms.routing_config import Rep, RoutingSettings

CURRENT_OWNER: Final = "current_owner"  # the user who owns (some of) the cluster's leads, if any
HELD_BY: Final = "held_by"  # the queue that owns the cluster's unrouted leads, if any
RULE: Final = "rule"
REASON: Final = "reason"
QUEUE_ID: Final = "queue_id"
REP_ID: Final = "rep_id"

RULE_STICKY_CLUSTER: Final = "sticky_cluster"
RULE_STICKY_ACCOUNT: Final = "sticky_account"
RULE_DEFAULT: Final = "default"
RULE_KEEP: Final = "keep_owner"


@dataclass(frozen=True)
class Roster:
    """Reps, their absences, queue memberships and today's load, as routing sees them."""

    reps: pl.DataFrame  # rep_id, name, active, weight, daily_cap
    out_of_office: pl.DataFrame  # rep_id, starts_on, ends_on
    members: pl.DataFrame  # queue_id, rep_id, position (rotation order)
    assigned_today: Mapping[str, int] = field(default_factory=dict)  # clusters per rep today

    def available(self, day: date) -> set[str]:
        """Active reps who are not out of office on ``day``."""
        away = set(
            self.out_of_office.filter((pl.col("starts_on") <= day) & (pl.col("ends_on") >= day))[REP_ID].to_list()
        )
        return set(self.reps.filter(pl.col("active"))[REP_ID].to_list()) - away

    def capacity(self) -> dict[str, int | None]:
        """Leads each rep may still take today from rotations (None = no cap)."""
        out: dict[str, int | None] = {}
        for rep, cap in self.reps.select(REP_ID, "daily_cap").iter_rows():
            out[rep] = None if cap is None else max(0, int(cap) - int(self.assigned_today.get(rep, 0)))
        return out

    def queue_members(self, queue_id: str) -> list[tuple[str, int]]:
        """(rep, weight) of a queue's members in rotation order."""
        rows = (
            self.members.filter(pl.col(QUEUE_ID) == queue_id)
            .join(self.reps.select(REP_ID, "weight"), on=REP_ID, how="inner")
            .sort("position", REP_ID)
        )
        return [(rep, int(w or 1)) for rep, w in rows.select(REP_ID, "weight").iter_rows()]


def config_memberships(settings: RoutingSettings) -> list[tuple[str, str, int]]:
    """(queue id, rep id, position) of every configured queue member, in rotation order."""
    return [(q.id, m, i) for q in settings.queues for i, m in enumerate(q.members)]


def roster_frames(reps: Iterable[Rep], memberships: Iterable[tuple[str, str, int]]) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Reps (``rep_id``, ``name``, ``email``, ``active``, ``weight``, ``daily_cap``), their
    absences (``rep_id``, ``starts_on``, ``ends_on``) and queue members (``queue_id``,
    ``rep_id``, ``position``) as frames."""
    reps = list(reps)
    rep_frame = pl.DataFrame(
        [(r.id, r.name, r.email, r.active, r.weight, r.daily_cap) for r in reps],
        schema={REP_ID: pl.String, "name": pl.String, "email": pl.String, "active": pl.Boolean, "weight": pl.Int32, "daily_cap": pl.Int32},
        orient="row",
    )
    ooo = pl.DataFrame(
        [(r.id, o.start, o.end) for r in reps for o in r.out_of_office],
        schema={REP_ID: pl.String, "starts_on": pl.Date, "ends_on": pl.Date},
        orient="row",
    )
    members = pl.DataFrame(list(memberships), schema={QUEUE_ID: pl.String, REP_ID: pl.String, "position": pl.Int32}, orient="row")
    return rep_frame, ooo, members


def roster_from_settings(settings: RoutingSettings, assigned_today: Mapping[str, int] | None = None) -> Roster:
    """The roster the configuration describes (the warehouse adds reps imported from CSV)."""
    reps, ooo, members = roster_frames(settings.reps, config_memberships(settings))
    return Roster(reps.drop("email"), ooo, members, dict(assigned_today or {}))


@dataclass(frozen=True)
class QueueState:
    """Where a queue's rotation stands."""

    position: int = 0
    signature: str | None = None


@dataclass(frozen=True)
class RoutingDecision:
    """An owner per cluster, and the rotation state to save per queue."""

    assignments: pl.DataFrame  # cluster_id, owner_id, rule, reason, queue_id
    states: dict[str, QueueState]
    counts: dict[str, int]  # clusters handed out per queue by round-robin


#: Golden fields sticky account matching reads.
ACCOUNT_MATCH_FIELDS: Final[tuple[str, ...]] = (s.COMPANY, s.COMPANY_KEY, s.COMPANY_DOMAIN)


def fields_read(settings: RoutingSettings, has_accounts: bool) -> set[str]:
    """The cluster fields :func:`route` reads: those of the assignment rules, and the company
    fields when there are accounts to match them against (sticky account routing)."""
    fields = {f for rule in settings.rules for f in fields_of(rule.criteria)}
    return fields | set(ACCOUNT_MATCH_FIELDS) if settings.sticky_account and has_accounts else fields


def _with_entry_index(units: pl.DataFrame, settings: RoutingSettings) -> pl.DataFrame:
    """Add ``_entry``: the index of the first assignment-rule entry whose criteria all hold."""
    if not settings.rules:
        return units.with_columns(pl.lit(None, pl.Int32).alias("_entry"))
    names = [f"__entry{i}" for i in range(len(settings.rules))]
    frame = with_all_of_columns(units, [(n, rule.criteria) for n, rule in zip(names, settings.rules, strict=True)])
    chain: pl.Expr | pl.Then | pl.ChainedThen = pl
    for i, name in enumerate(names):
        chain = chain.when(pl.col(name)).then(pl.lit(i, pl.Int32))  # type: ignore[union-attr]
    return frame.with_columns(chain.otherwise(None).alias("_entry")).drop(names)  # type: ignore[union-attr]


def route(
    units: pl.DataFrame,
    roster: Roster,
    accounts: pl.DataFrame,
    states: Mapping[str, QueueState],
    settings: RoutingSettings,
    as_of: datetime,
) -> RoutingDecision:
    """Decide an owner for every cluster in ``units``.

    Args:
        units: one row per cluster to route, in any order: ``cluster_id``, ``current_owner``
            and the fields of :func:`fields_read` (the company fields only when there are
            accounts).
        roster: reps, absences, queue members and today's load.
        accounts: existing accounts (``account_id``, ``domain``, ``company_key``, ``owner_id``).
        states: saved rotation position per queue.
        settings: the routing settings.
        as_of: the run's time (its date decides out-of-office and daily caps).

    Returns:
        The decision per cluster and each queue's new rotation state. The same units, roster,
        accounts and states always give the same decision.
    """
    day = as_of.date()
    active = set(roster.reps.filter(pl.col("active"))[REP_ID].to_list())
    active_list = sorted(active)
    frame = _with_entry_index(units, settings)
    if settings.sticky_account and accounts.height:
        owners = accounts.select(pl.col(ACCOUNT_ID).cast(pl.Int64), pl.col(s.OWNER_ID).alias("_acc_owner"))
        frame = frame.join(
            match_accounts(units, accounts, None).join(owners, on=ACCOUNT_ID, how="left").select(s.CLUSTER_ID, ACCOUNT_ID, "_acc_owner"),
            on=s.CLUSTER_ID, how="left",
        )
    else:
        frame = frame.with_columns(pl.lit(None, pl.Int64).alias(ACCOUNT_ID), pl.lit(None, pl.String).alias("_acc_owner"))
    # Clusters in id order (the rotation's deterministic order); sorted only now, on the few
    # columns still needed: reordering the text columns of a million units costs a second.
    frame = frame.select(s.CLUSTER_ID, CURRENT_OWNER, "_entry", ACCOUNT_ID, "_acc_owner").sort(s.CLUSTER_ID)
    names = [r.name for r in settings.rules]
    targets = [r.assign_to for r in settings.rules]
    sticky_cluster = (
        pl.lit(settings.sticky_cluster and settings.do_not_reassign) & pl.col(CURRENT_OWNER).is_in(active_list).fill_null(False)
    )
    sticky_account = pl.lit(settings.sticky_account) & pl.col("_acc_owner").is_in(active_list).fill_null(False)
    entry_target = pl.col("_entry").replace_strict(list(range(len(targets))), targets, default=None, return_dtype=pl.String)
    entry_name = pl.col("_entry").replace_strict(list(range(len(names))), names, default=None, return_dtype=pl.String)
    frame = frame.with_columns(
        pl.when(sticky_cluster).then(pl.col(CURRENT_OWNER))
        .when(sticky_account).then(pl.col("_acc_owner"))
        .otherwise(pl.coalesce(entry_target, pl.lit(settings.default_owner)))
        .alias("_assignee"),
        pl.when(sticky_cluster).then(pl.lit(RULE_STICKY_CLUSTER))
        .when(sticky_account).then(pl.lit(RULE_STICKY_ACCOUNT))
        .otherwise(pl.coalesce(entry_name, pl.lit(RULE_DEFAULT)))
        .alias(RULE),
        pl.when(sticky_cluster).then(pl.format("the cluster is already owned by {}", pl.col(CURRENT_OWNER)))
        .when(sticky_account).then(pl.format("company matches account {}, owned by {}", pl.col(ACCOUNT_ID), pl.col("_acc_owner")))
        .when(pl.col("_entry").is_not_null()).then(pl.format("entry {} of the assignment rule", pl.col("_entry") + 1))
        .otherwise(pl.lit("no entry matched: default owner"))
        .alias(REASON),
    )
    queue_ids = [q.id for q in settings.queues]
    # Reassigning (do_not_reassign = false): an owner who is a member of the target queue keeps it.
    member_of = roster.members.select(pl.col(QUEUE_ID).alias("_assignee"), pl.col(REP_ID).alias(CURRENT_OWNER), pl.lit(True).alias("_member"))
    frame = frame.join(member_of, on=["_assignee", CURRENT_OWNER], how="left").with_columns(pl.col("_member").fill_null(False))
    keep = pl.col("_member") & pl.col(CURRENT_OWNER).is_in(active_list).fill_null(False)
    frame = frame.with_columns(
        pl.when(keep).then(pl.lit(RULE_KEEP)).otherwise(pl.col(RULE)).alias(RULE),
        pl.when(keep).then(pl.format("already owned by {}, a member of queue {}", pl.col(CURRENT_OWNER), pl.col("_assignee"))).otherwise(pl.col(REASON)).alias(REASON),
        pl.when(keep).then(pl.col(CURRENT_OWNER)).otherwise(pl.col("_assignee")).alias("_assignee"),
    )
    to_queue = pl.col("_assignee").is_in(queue_ids)
    direct = frame.filter(~to_queue).select(
        s.CLUSTER_ID, pl.col("_assignee").alias(s.OWNER_ID), RULE, REASON, pl.lit(None, pl.String).alias(QUEUE_ID)
    )
    # Sticky and direct assignments count toward today's load before any rotation runs.
    load = dict(roster.assigned_today)
    for rep, n in direct.group_by(s.OWNER_ID).len().iter_rows():
        load[rep] = load.get(rep, 0) + int(n)
    capacity = Roster(roster.reps, roster.out_of_office, roster.members, load).capacity()
    available = roster.available(day)
    parts = [direct]
    new_states: dict[str, QueueState] = {}
    counts: dict[str, int] = {}
    for queue in settings.queues:
        mine = frame.filter(pl.col("_assignee") == queue.id).sort(s.CLUSTER_ID)
        members = roster.queue_members(queue.id)
        signature = cycle_signature(members)
        saved = states.get(queue.id, QueueState())
        position = saved.position if saved.signature == signature else 0
        if mine.height == 0:
            continue
        if queue.round_robin:
            rr = assign_round_robin(mine.height, rotation_cycle(members), position, available, capacity)
            for rep, n in rr.counts.items():
                if capacity.get(rep) is not None:
                    capacity[rep] = max(0, int(capacity[rep] or 0) - n)
            new_states[queue.id] = QueueState(rr.next_position, signature)
            counts[queue.id] = sum(rr.counts.values())
            owners = rr.owners
        else:
            owners = pl.Series(s.OWNER_ID, [None] * mine.height, dtype=pl.String)
        parts.append(
            mine.with_columns(owners.alias("_rr")).select(
                s.CLUSTER_ID,
                pl.coalesce("_rr", pl.lit(queue.id)).alias(s.OWNER_ID),
                RULE,
                pl.when(pl.col("_rr").is_not_null())
                .then(pl.format("{}; round-robin in queue {}", pl.col(REASON), pl.lit(queue.id)))
                .when(pl.lit(queue.round_robin))
                .then(pl.format("{}; held by queue {}: no member available today", pl.col(REASON), pl.lit(queue.id)))
                .otherwise(pl.format("{}; owned by queue {}", pl.col(REASON), pl.lit(queue.id)))
                .alias(REASON),
                pl.lit(queue.id).alias(QUEUE_ID),
            )
        )
    assignments = pl.concat(parts).sort(s.CLUSTER_ID)
    return RoutingDecision(assignments=assignments, states=new_states, counts=counts)

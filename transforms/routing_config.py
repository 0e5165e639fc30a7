"""Typed settings of routing: reps, queues, assignment rules (first match wins), defaults.

Example (TOML)::

    [routing]
    default_owner = "inbound"          # a queue or a rep

    [[routing.reps]]
    id = "rep_ana"
    weight = 2                         # twice the share of a weight-1 rep
    daily_cap = 40
    out_of_office = [{ start = 2026-12-20, end = 2027-01-02 }]

    [[routing.queues]]
    id = "inbound"
    members = ["rep_ana", "rep_ben"]

    [[routing.rules]]                  # ordered; the first whose criteria all hold wins
    name = "enterprise"
    criteria = [{ field = "number_of_employees", op = "gte", value = 1000 }]
    assign_to = "rep_ana"
"""

from __future__ import annotations

from datetime import date

from pydantic import Field, model_validator

from transforms.criteria import CLUSTER_FIELDS, Criterion, check_fields
from transforms.models import StrictModel


class OutOfOffice(StrictModel):
    """A date range (inclusive) in which a rep receives no leads from a rotation."""

    start: date = Field(description="First day away.")
    end: date = Field(description="Last day away (inclusive).")

    @model_validator(mode="after")
    def _order(self) -> OutOfOffice:
        if self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        return self

    def covers(self, day: date) -> bool:
        return self.start <= day <= self.end


class Rep(StrictModel):
    """A sales rep (a user) who can own leads."""

    id: str = Field(min_length=1, description="Owner id written to leads.owner_id.")
    name: str | None = Field(None, description="Display name.")
    email: str | None = Field(None, description="Email address (informational).")
    active: bool = Field(True, description="Inactive reps receive no new leads from rotations.")
    weight: int = Field(1, ge=1, le=100, description="Share in round-robins: weight 2 gets twice the leads of weight 1.")
    daily_cap: int | None = Field(None, ge=0, description="Most new people (clusters: a lead and its duplicates count once) a rotation gives this rep per day; unset = no cap.")
    out_of_office: tuple[OutOfOffice, ...] = Field((), description="Date ranges in which rotations skip the rep.")

    def away_on(self, day: date) -> bool:
        return any(o.covers(day) for o in self.out_of_office)


class Queue(StrictModel):
    """A queue: owns leads itself, or hands them out by weighted round-robin to its members."""

    id: str = Field(min_length=1, description="Queue id (an assignee name; distinct from rep ids).")
    name: str | None = Field(None, description="Display name.")
    members: tuple[str, ...] = Field((), description="Rep ids in rotation order (more can come from `leadpipe reps import`).")
    round_robin: bool = Field(True, description="Hand leads out to members; false = the queue keeps them.")


class AssignmentRule(StrictModel):
    """One entry of the assignment rule: criteria (all must hold) and an assignee."""

    name: str = Field(min_length=1, description="Entry name, written to the assignments log.")
    criteria: tuple[Criterion, ...] = Field((), description="Conditions on the cluster; none = always matches.")
    assign_to: str = Field(min_length=1, description="A rep id (user) or a queue id.")

    @model_validator(mode="after")
    def _fields(self) -> AssignmentRule:
        check_fields(self.criteria, CLUSTER_FIELDS, "an assignment rule")
        return self


def _default_reps() -> tuple[Rep, ...]:
    return (
        Rep(id="rep_alice", name="Alice Martin"),
        Rep(id="rep_bruno", name="Bruno Keller"),
        Rep(id="rep_chen", name="Chen Wei"),
    )


def _default_queues() -> tuple[Queue, ...]:
    return (Queue(id="inbound", name="Inbound leads", members=("rep_alice", "rep_bruno", "rep_chen")),)


class RoutingSettings(StrictModel):
    """Who gets new leads: sticky owners, then the assignment rule, then the default owner."""

    reps: tuple[Rep, ...] = Field(default_factory=_default_reps, description="Reps (users); more from `leadpipe reps import`.")
    queues: tuple[Queue, ...] = Field(default_factory=_default_queues, description="Queues and their round-robin members.")
    rules: tuple[AssignmentRule, ...] = Field((), description="Assignment rule entries, in order; the first match wins.")
    default_owner: str = Field("inbound", description="Assignee (rep or queue) of clusters no entry matches.")
    do_not_reassign: bool = Field(
        True, description="Leads that have a user owner keep it; false = owned leads are re-evaluated every run."
    )
    sticky_cluster: bool = Field(True, description="A new duplicate goes to the owner of its cluster.")
    sticky_account: bool = Field(
        True, description="A lead whose company matches an existing account goes to the account's owner."
    )

    @model_validator(mode="after")
    def _references(self) -> RoutingSettings:
        rep_ids = [r.id for r in self.reps]
        if len(rep_ids) != len(set(rep_ids)):
            raise ValueError("rep ids must be unique")
        queue_ids = [q.id for q in self.queues]
        if len(queue_ids) != len(set(queue_ids)):
            raise ValueError("queue ids must be unique")
        clash = sorted(set(rep_ids) & set(queue_ids))
        if clash:
            raise ValueError(f"{clash[0]!r} is both a rep and a queue; an assignee must name one thing")
        for q in self.queues:
            unknown = [m for m in q.members if m not in rep_ids]
            if unknown:
                raise ValueError(f"queue {q.id!r}: member {unknown[0]!r} is not a configured rep")
        known = set(rep_ids) | set(queue_ids)
        for i, rule in enumerate(self.rules):
            if rule.assign_to not in known:
                raise ValueError(
                    f"rules[{i}] ({rule.name!r}, entry {i + 1}): assign_to {rule.assign_to!r} is neither a rep "
                    f"nor a queue; reps: {', '.join(rep_ids) or '-'}; queues: {', '.join(queue_ids) or '-'}"
                )
        if self.default_owner not in known:
            raise ValueError(f"default_owner {self.default_owner!r} is neither a configured rep nor a queue")
        return self

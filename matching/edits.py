"""Hand edits of clusters: detach a lead (``leadpipe unmerge``, a "no" in a review file) and merge
two clusters (a "yes"), worked out in memory before anything is written.

The caller reads the memberships of the clusters involved once, applies the edits in their order
(each sees the clusters as the edits before it left them), and writes the outcome in a few
statements: the changed cluster ids, the events, the cannot-links of detached leads, and the
golden records of every cluster touched. A review file of two thousand answers is a few
statements, not two thousand rounds of them.

Edits are a loop in Python on purpose: they come from people, a few thousand at most, and each
depends on the ones before it (a lead merged by one answer can be detached by the next).

People's answers never overrule each other silently. Each pair's newest label is its answer (a
newer answer about the same pair replaces an older one), and an answer that would break the
newest label of *another* pair is kept as a label but not applied to the clusters: it is
reported as a conflict. A "yes" does not merge two clusters that a cannot-link (a "no", an
unmerge, or a cannot-link rule's decision) keeps apart; a "no" takes the leads that "yes" answers
tie to the newer lead out with it, and detaches nothing when such answers tie the two leads to
each other. A must-link rule's decision (the same e-mail and name) ties too, but gives way to a
person: the leads rules tie to the newer lead leave with it, except those rules tie to the older
lead without passing through the newer lead's "yes" ties; the rule ties between the two sides are
cut (as a run's chaining guard cuts rule links, never labels).
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from matching.decisions import CANNOT_LINK, LABEL, MUST_LINK, REVIEW_SOURCE
from transforms import schema as s

#: A must-link rule's decision as ``ClusterEdits`` holds it: it ties leads as a "yes" does, but a
#: person's "no" cuts it.
RULE_MUST_LINK = "rule_must_link"
#: A reviewed pair: (lead id, other lead id, MUST_LINK or CANNOT_LINK, note or None).
Answer = tuple[int, int, str, str | None]
#: What ``ClusterEdits.conflicts`` returns: the answer not applied, and the pair whose newest label stopped it.
CONFLICTS = {"lead_id_l": pl.Int64, "lead_id_r": pl.Int64, "label": pl.String,
             "blocked_by_l": pl.Int64, "blocked_by_r": pl.Int64, "blocked_by": pl.String, "blocked_by_source": pl.String}


class ClusterEdits:
    """Cluster memberships held in memory while edits are applied, with what the edits did.

    Args:
        memberships: ``lead_id`` and ``cluster_id`` (null: not clustered yet) of every lead an
            edit names and of every other member of their clusters.
        labels: the stored labels (``lead_id_l`` < ``lead_id_r``, ``label``, and ``source`` and
            ``note`` when known; a rule's must-link or cannot-link decision can come first, as
            ``source`` ``rule:<name>``), oldest first; those between two of these leads tell which
            answers conflict with earlier ones, or repeat them (others are ignored). None: no
            label is known (``unmerge`` by hand needs none).
    """

    def __init__(self, memberships: pl.DataFrame, labels: pl.DataFrame | None = None) -> None:
        pairs = memberships.select(s.LEAD_ID, s.CLUSTER_ID).iter_rows()
        self._before: dict[int, int | None] = {int(lead): cluster for lead, cluster in pairs}
        self._cluster = dict(self._before)
        self._members: dict[int, set[int]] = {}
        for lead, cluster in self._before.items():
            if cluster is not None:
                self._members.setdefault(cluster, set()).add(lead)
        self._events: list[tuple[str, int, int, int | None, str]] = []
        self._labels: list[tuple[int, int, str, str, str | None]] = []
        self._conflicts: list[tuple[int, int, str, int, int, str, str | None]] = []
        # each pair's newest label, and per lead the leads it is cannot-linked / must-linked to now
        self._newest: dict[tuple[int, int], str] = {}
        self._said: dict[tuple[int, int], tuple[str, str | None, str | None]] = {}  # newest (label, source, note)
        # a must-link rule's decision ties leads more loosely than a person's "yes" (RULE_MUST_LINK)
        self._linked: dict[str, dict[int, set[int]]] = {CANNOT_LINK: {}, MUST_LINK: {}, RULE_MUST_LINK: {}}
        if labels is not None:
            known = labels.select("lead_id_l", "lead_id_r", LABEL, *[pl.col(c) if c in labels.columns else pl.lit(None, pl.String).alias(c)
                                                                      for c in ("source", "note")])
            for left, right, label, source, note in known.iter_rows():
                if left in self._cluster and right in self._cluster:
                    ruled = label == MUST_LINK and (source or "").startswith("rule:")
                    self._note(left, right, RULE_MUST_LINK if ruled else label)
                    # notes as review files give them now: trimmed, blank = none (older imports kept spaces)
                    self._said[(left, right)] = (label, source, (note or "").strip() or None)
        self.touched: set[int] = set()
        # per detached lead, the members it was detached from (each time)
        self._left: dict[int, set[int]] = {}

    def knows(self, lead_id: int) -> bool:
        return lead_id in self._cluster

    def cluster(self, lead_id: int) -> int | None:
        """The lead's cluster id now (None: not clustered yet)."""
        return self._cluster[lead_id]

    def members(self, cluster_id: int) -> list[int]:
        """The cluster's leads now, ascending."""
        return sorted(self._members.get(cluster_id, ()))

    def _note(self, left: int, right: int, label: str) -> None:
        """Make ``label`` (or ``RULE_MUST_LINK``) the newest label of the pair."""
        pair = (min(left, right), max(left, right))
        previous = self._newest.get(pair)
        if previous is not None:
            self._linked[previous][pair[0]].discard(pair[1])
            self._linked[previous][pair[1]].discard(pair[0])
        self._newest[pair] = label
        self._linked[label].setdefault(pair[0], set()).add(pair[1])
        self._linked[label].setdefault(pair[1], set()).add(pair[0])

    def label(self, left: int, right: int, label: str, source: str, note: str | None) -> None:
        """Record a label (written with the edits, in the order they were made)."""
        self._note(left, right, label)
        self._said[(min(left, right), max(left, right))] = (label, source, note)
        self._labels.append((min(left, right), max(left, right), label, source, note))

    def repeats(self, left: int, right: int, label: str, source: str, note: str | None) -> bool:
        """Whether the pair's newest label is this one already (the same answer, source and note)."""
        return self._said.get((min(left, right), max(left, right))) == (label, source, note)

    def linked(self, lead_id: int, label: str, among: Iterable[int]) -> int | None:
        """The smallest of ``among`` whose pair with the lead has ``label`` as its newest label."""
        others = self._linked[label].get(lead_id, set()).intersection(among)
        return min(others) if others else None

    def apart(self, cluster: int, other: int) -> tuple[int, int] | None:
        """A pair of a member of each cluster whose newest label is a cannot-link (the first by
        the members' ids), or None."""
        for lead in self.members(cluster):
            found = self.linked(lead, CANNOT_LINK, self._members.get(other, ()))
            if found is not None:
                return min(lead, found), max(lead, found)
        return None

    def conflict(self, left: int, right: int, label: str, blocked_by: tuple[int, int]) -> None:
        """Record an answer not applied because of another pair's newest label."""
        low, high = min(blocked_by), max(blocked_by)
        said = self._said.get((low, high))
        self._conflicts.append((left, right, label, low, high, self._newest[(low, high)], said[1] if said else None))

    def tied(self, lead_id: int, *, rules: bool = False, avoid: Iterable[int] = ()) -> dict[int, int | None]:
        """The members of the lead's cluster that must-links (newest labels; with ``rules``, must-link
        rules' decisions no label replaced too) tie to it, directly or through other members (none
        of ``avoid``), the lead included: each with the member before it on a shortest chain from
        the lead (None for the lead)."""
        cluster = self._cluster[lead_id]
        members = (self._members.get(cluster, set()) if cluster is not None else {lead_id}) - set(avoid)
        links = [self._linked[MUST_LINK]] + ([self._linked[RULE_MUST_LINK]] if rules else [])
        before: dict[int, int | None] = {lead_id: None}
        chain = [lead_id]
        for lead in chain:  # breadth first: the list grows while it is walked
            for other in sorted(set().union(*(linked.get(lead, set()) for linked in links)) & members):
                if other not in before:
                    before[other] = lead
                    chain.append(other)
        return before

    def rule_ties_between(self, group: Iterable[int], others: Iterable[int]) -> list[tuple[int, int]]:
        """The pairs (smaller id first, sorted) of a lead of ``group`` and one of ``others`` whose
        newest decision is a must-link rule's."""
        rest = set(others)
        return sorted({(min(a, b), max(a, b)) for a in group for b in self._linked[RULE_MUST_LINK].get(a, set()) & rest})

    def separated(self, leads: Iterable[int]) -> list[int]:
        """Of the leads, those a detach took away from members they are still apart from: a lead
        detached and merged back by a later answer is not, even if another lead left that cluster
        for good. Ascending."""
        return sorted(lead for lead in set(leads)
                      if lead in self._left and not self._left[lead] & self._members.get(self._cluster[lead], set()))

    def detach(self, lead_id: int, note: str | None, detail: str) -> int:
        """Take a lead out of its cluster (at least two leads): it becomes a cluster of its own (its
        id is its lead id), cannot-linked to every other member (``source`` 'unmerge'; no second
        label for a pair cannot-linked already). The rest
        takes its smallest remaining lead id as its id: normally the id it had, unless the detached
        lead held it (the rule ``leadpipe unmerge`` has always followed).

        Returns:
            The id the rest of the cluster has now.

        Raises:
            ValueError: the lead is in no cluster, or alone in its cluster.
        """
        return self.detach_group([lead_id], note, detail)

    def detach_group(self, leads: Iterable[int], note: str | None, detail: str) -> int:
        """Take leads of one cluster out of it together, as ``detach`` takes one: they become a
        cluster (its id their smallest lead id), each cannot-linked to every member left behind,
        with an ``unmerge`` event each.

        Raises:
            ValueError: the leads are in no cluster, in several, or are the whole cluster.
        """
        group = sorted(set(leads))
        clusters = {self._cluster[lead] for lead in group}
        cluster = clusters.pop() if len(clusters) == 1 else None
        others = [m for m in self.members(cluster) if m not in group] if cluster is not None else []
        if not others:
            if len(group) == 1:
                raise ValueError(f"lead {group[0]} is not in a cluster with other leads")
            raise ValueError(f"leads {', '.join(map(str, group))} are not part of one cluster with other leads")
        rest, own = others[0], group[0]
        del self._members[cluster]
        self._members[rest] = set(others)
        self._members[own] = set(group)
        for member in others:
            self._cluster[member] = rest
        for lead in group:
            self._cluster[lead] = own
            self._left.setdefault(lead, set()).update(others)
            for other in others:
                # a pair cannot-linked by a label already (the "no" that asked for the detach) needs no
                # second one: its answer stays its newest label, so importing the file again finds it
                # recorded. A rule's decision is no label: later runs would not see it, so it gets one
                said = self._said.get((min(lead, other), max(lead, other)))
                if said is None or said[0] != CANNOT_LINK or (said[1] or "").startswith("rule:"):
                    self.label(lead, other, CANNOT_LINK, "unmerge", note)
            self._events.append(("unmerge", rest, own, lead, detail))
        self.touched.update((cluster, rest, own))
        return rest

    def merge(self, survivor: int, absorbed: int, detail: str) -> None:
        """Move every lead of cluster ``absorbed`` into cluster ``survivor``."""
        moved = self._members.pop(absorbed)
        self._members[survivor] |= moved
        for member in moved:
            self._cluster[member] = survivor
        self._events.append(("merge", survivor, absorbed, None, detail))
        self.touched.update((survivor, absorbed))

    def changed(self) -> pl.DataFrame:
        """``lead_id``, ``cluster_id`` of every lead whose cluster id the edits changed."""
        rows = [(lead, cluster) for lead, cluster in self._cluster.items() if cluster != self._before[lead]]
        return pl.DataFrame(rows, schema={s.LEAD_ID: pl.Int64, s.CLUSTER_ID: pl.Int64}, orient="row").sort(s.LEAD_ID)

    def events(self) -> pl.DataFrame:
        """The events in the order the edits happened."""
        schema = {"event": pl.String, s.CLUSTER_ID: pl.Int64, "other_cluster_id": pl.Int64, s.LEAD_ID: pl.Int64, "detail": pl.String}
        return pl.DataFrame(self._events, schema=schema, orient="row")

    def labels(self) -> pl.DataFrame:
        """The labels recorded (answers, and the cannot-links of detached leads), in the order the
        edits made them: stored in that order, the newest label of each pair stays the newest."""
        schema = {"lead_id_l": pl.Int64, "lead_id_r": pl.Int64, "label": pl.String, "source": pl.String, "note": pl.String}
        return pl.DataFrame(self._labels, schema=schema, orient="row")

    def conflicts(self) -> pl.DataFrame:
        """The answers not applied to the clusters (``CONFLICTS``), in order."""
        return pl.DataFrame(self._conflicts, schema=CONFLICTS, orient="row")


def lead_ids_of(answers: Iterable[Answer]) -> list[int]:
    """Every lead the answers name, once, in order."""
    return list(dict.fromkeys(lead for left, right, _, _ in answers for lead in (left, right)))


def apply_answers(edits: ClusterEdits, answers: Iterable[Answer]) -> dict[str, int]:
    """Apply reviewed pairs in order, each recorded as a label (``source`` 'review').

    A cannot-link between two leads of one cluster detaches the newer one (the larger id), with
    the members that must-links tie to it (directly or through others: a person said they are
    the same); when such a chain ties it to the older one, nothing is detached (a conflict). The
    members a must-link rule's decision (the same e-mail and name) ties to it leave with it too,
    except those that rules tie to the older one without passing through the newer lead's "yes"
    ties: they stay, and the answer cuts the rule ties between the two sides (the event's detail
    names them). An answer about a pair replaces a rule's decision about it. A
    must-link between two clusters merges them (the older, smaller id survives), unless a
    cannot-link joins a member of each (a conflict). Answers about unclustered leads, or that the
    clusters already agree with, change nothing (they stay labels for later runs).

    An answer that is already the pair's newest label (the same answer and note, from a review:
    a file imported again) is not recorded again, only counted as ``repeated``, and applied as any
    other (a conflict resolved since then lets it apply now): importing a file twice stores no
    label twice.

    Returns:
        How many answers of each label, how many merges they made and leads they detached, how
        many conflicted (``edits.conflicts()`` names them) and how many repeated the newest label.
    """
    counts = {MUST_LINK: 0, CANNOT_LINK: 0, "merged": 0, "detached": 0, "conflicts": 0, "repeated": 0}
    for left, right, label, note in answers:
        counts[label] += 1
        if edits.repeats(left, right, label, REVIEW_SOURCE, note):
            counts["repeated"] += 1  # imported before (the same file again): not stored twice, applied as ever
        else:
            edits.label(left, right, label, REVIEW_SOURCE, note)
        a, b = edits.cluster(left), edits.cluster(right)
        if label == CANNOT_LINK and a is not None and a == b:
            group = edits.tied(right)
            step = group.get(left)
            if step is not None:  # must-links tie them through other members: the last step of the chain
                edits.conflict(left, right, label, (step, left))
                counts["conflicts"] += 1
                continue
            # the leads rules tie to the group go along, but those rules tie to the older lead without
            # passing through the group stay: the answer cuts the rule ties between the two sides
            stays = edits.tied(left, rules=True, avoid=group)
            group = [lead for lead in edits.tied(right, rules=True) if lead not in stays]
            with_it = [lead for lead in sorted(group) if lead != right]
            cut = edits.rule_ties_between(group, stays)
            edits.detach_group(group, note or "review: not a match", f"review: lead {right} is not lead {left}"
                               + (f" (with {', '.join(map(str, with_it))}, tied to it as the same person)" if with_it else "")
                               + (f"; rule ties cut: {', '.join(f'{a}-{b}' for a, b in cut)}" if cut else ""))
            counts["detached"] += len(group)
        elif label == MUST_LINK and a is not None and b is not None and a != b:
            blocker = edits.apart(a, b)
            if blocker is not None:
                edits.conflict(left, right, label, blocker)
                counts["conflicts"] += 1
                continue
            edits.merge(min(a, b), max(a, b), f"review: lead {left} is lead {right}")
            counts["merged"] += 1
    return counts

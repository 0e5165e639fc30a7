"""Hand edits of clusters: detach a lead (``leadpipe unmerge``, a "no" in a review file) and merge
two clusters (a "yes"), worked out in memory before anything is written.

The caller reads the memberships of the clusters involved once, applies the edits in their order
(each sees the clusters as the edits before it left them), and writes the outcome in a few
statements: the changed cluster ids, the events, the cannot-links of detached leads, and the
golden records of every cluster touched. A review file of two thousand answers is a few
statements, not two thousand rounds of them.

Edits are a loop in Python on purpose: they come from people, a few thousand at most, and each
depends on the ones before it (a lead merged by one answer can be detached by the next).
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from matching.decisions import CANNOT_LINK, MUST_LINK
from transforms import schema as s

#: A reviewed pair: (lead id, other lead id, MUST_LINK or CANNOT_LINK, note or None).
Answer = tuple[int, int, str, str | None]


class ClusterEdits:
    """Cluster memberships held in memory while edits are applied, with what the edits did.

    Args:
        memberships: ``lead_id`` and ``cluster_id`` (null: not clustered yet) of every lead an
            edit names and of every other member of their clusters.
    """

    def __init__(self, memberships: pl.DataFrame) -> None:
        pairs = memberships.select(s.LEAD_ID, s.CLUSTER_ID).iter_rows()
        self._before: dict[int, int | None] = {int(lead): cluster for lead, cluster in pairs}
        self._cluster = dict(self._before)
        self._members: dict[int, set[int]] = {}
        for lead, cluster in self._before.items():
            if cluster is not None:
                self._members.setdefault(cluster, set()).add(lead)
        self._events: list[tuple[str, int, int, int | None, str]] = []
        self._labels: list[tuple[int, int, str, str, str | None]] = []
        self.touched: set[int] = set()

    def knows(self, lead_id: int) -> bool:
        return lead_id in self._cluster

    def cluster(self, lead_id: int) -> int | None:
        """The lead's cluster id now (None: not clustered yet)."""
        return self._cluster[lead_id]

    def members(self, cluster_id: int) -> list[int]:
        """The cluster's leads now, ascending."""
        return sorted(self._members.get(cluster_id, ()))

    def detach(self, lead_id: int, note: str | None, detail: str) -> int:
        """Take a lead out of its cluster (at least two leads): it becomes a cluster of its own (its
        id is its lead id), cannot-linked to every other member (``source`` 'unmerge'). The rest
        takes its smallest remaining lead id as its id: normally the id it had, unless the detached
        lead held it (the rule ``leadpipe unmerge`` has always followed).

        Returns:
            The id the rest of the cluster has now.

        Raises:
            ValueError: the lead is in no cluster, or alone in its cluster.
        """
        cluster = self._cluster[lead_id]
        others = [m for m in self.members(cluster) if m != lead_id] if cluster is not None else []
        if not others:
            raise ValueError(f"lead {lead_id} is not in a cluster with other leads")
        rest = others[0]
        del self._members[cluster]
        self._members[rest] = set(others)
        self._members[lead_id] = {lead_id}
        for member in others:
            self._cluster[member] = rest
        self._cluster[lead_id] = lead_id
        self._labels += [(min(lead_id, o), max(lead_id, o), CANNOT_LINK, "unmerge", note) for o in others]
        self._events.append(("unmerge", rest, lead_id, lead_id, detail))
        self.touched.update((cluster, rest, lead_id))
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
        """The cannot-links of the detached leads, in the order the edits made them."""
        schema = {"lead_id_l": pl.Int64, "lead_id_r": pl.Int64, "label": pl.String, "source": pl.String, "note": pl.String}
        return pl.DataFrame(self._labels, schema=schema, orient="row")


def lead_ids_of(answers: Iterable[Answer]) -> list[int]:
    """Every lead the answers name, once, in order."""
    return list(dict.fromkeys(lead for left, right, _, _ in answers for lead in (left, right)))


def apply_answers(edits: ClusterEdits, answers: Iterable[Answer]) -> dict[str, int]:
    """Apply reviewed pairs in order: a cannot-link between two leads of one cluster detaches the
    newer one (the larger id); a must-link between two clusters merges them (the older, smaller
    id survives). Answers about unclustered leads, or that the clusters already agree with,
    change nothing (they stay labels for later runs).

    Returns:
        How many answers of each label, and how many merges and detaches they made.
    """
    counts = {MUST_LINK: 0, CANNOT_LINK: 0, "merged": 0, "detached": 0}
    for left, right, label, note in answers:
        counts[label] += 1
        a, b = edits.cluster(left), edits.cluster(right)
        if label == CANNOT_LINK and a is not None and a == b:
            edits.detach(right, note or "review: not a match", f"review: lead {right} is not lead {left}")
            counts["detached"] += 1
        elif label == MUST_LINK and a is not None and b is not None and a != b:
            edits.merge(min(a, b), max(a, b), f"review: lead {left} is lead {right}")
            counts["merged"] += 1
    return counts

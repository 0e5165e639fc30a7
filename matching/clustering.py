"""Clusters from linked pairs, with a guard against chaining, and stable cluster ids.

Connected components over the linking pairs plus the existing clusters (each existing member is
tied to its cluster id, which is a lead id). A cluster's id is its smallest lead id: a new lead
joining a cluster takes its id, and when clusters merge the older id survives. Same pairs, same
ids, on every run.

Chaining guard: transitivity can glue different people together through one ambiguous record
("J. Smith" matches both John and James Smith). A component is *weak* when it holds a pair that
must not be linked (a cannot-link decision or label) or grew past ``max_cluster_size``; a weak
component is re-clustered keeping only its stronger model links, raising the bar in steps,
until it is no longer weak. Links made by must-link rules go last; must-link labels and
existing cluster memberships are never cut. The bar cuts every weak link of the component, also
those no conflict runs through, so the links it cut are then given back, strongest first, where
they join two parts that may be together and no conflict runs through them among the links about
as strong (``_restore``): a lead tied about equally to two leads that must stay apart stays
alone, while a lead tied to one side only keeps its tie.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from matching.blocking import LEFT, RIGHT
from matching.components import LABEL, NODE, component_labels, connected_components
from transforms import schema as s

STRENGTH = "strength"
#: Strength of links the guard never cuts: human must-link labels and existing memberships.
UNCUTTABLE = 1e12
#: Strength of links made by a must-link rule, plus the pair's match weight: cut only after every
#: model link, to honour a cannot-link label (a person's "these are different" beats a rule's
#: "these are the same"); among rule links, the weight tells the stronger.
RULE_LINK = 1e6
#: Match weights (bits) the guard tries in turn as the bar for links inside weak components.
GUARD_STEPS = (4.0, 8.0, 12.0, 16.0, 20.0, 25.0, 30.0, 40.0, 60.0, 2 * RULE_LINK, UNCUTTABLE / 2)
#: Two links whose strengths differ by less than this (bits) are comparable: a cut link's band,
#: where ``_restore`` looks for a conflict running through it, holds the cut links at least this
#: close to it or stronger.
MARGIN = 4.0


@dataclass(frozen=True)
class Clustering:
    """Result: the cluster of every node, existing clusters that merged, components split."""

    assignment: pl.DataFrame  # lead_id, cluster_id
    merges: pl.DataFrame  # old_cluster_id, new_cluster_id
    splits: pl.DataFrame  # cluster_id (before the split), part_cluster_id, reason


def _weak(labels: pl.DataFrame, cannot: pl.DataFrame, sizes: pl.DataFrame, max_size: int) -> pl.DataFrame:
    """Labels of weak components with the reason."""
    lab = labels.select(NODE, LABEL)
    violated = (
        cannot.join(lab.rename({NODE: LEFT, LABEL: "_ll"}), on=LEFT)
        .join(lab.rename({NODE: RIGHT, LABEL: "_lr"}), on=RIGHT)
        .filter(pl.col("_ll") == pl.col("_lr"))
        .group_by(pl.col("_ll").alias(LABEL))
        .agg(pl.format("cannot-link between {} and {}", pl.col(LEFT).min(), pl.col(RIGHT).min()).first().alias("reason"))
    )
    # component size: the full size of every existing cluster in it, plus the other nodes
    weighted = lab.join(sizes, on=NODE, how="left").with_columns(pl.col("weight").fill_null(1))
    big = (
        weighted.group_by(LABEL)
        .agg(pl.col("weight").sum().alias("size"))
        .filter(pl.col("size") > max_size)
        .select(LABEL, pl.format("size {} above max_cluster_size {}", pl.col("size"), pl.lit(max_size)).alias("reason"))
    )
    return pl.concat([violated, big]).unique(LABEL, keep="first").sort(LABEL)


def _guard(
    labels: pl.DataFrame, weak: pl.DataFrame, edges: pl.DataFrame, cannot: pl.DataFrame, sizes: pl.DataFrame, max_size: int,
) -> pl.DataFrame:
    """The labels once the weak components are re-clustered, raising the bar until none is weak.

    Cutting links splits a component but never joins two, so the whole search stays inside the
    first weak components: their nodes, the links between them (a component holds every link of
    its nodes) and the cannot-links and sizes that touch them are taken once, as arrays, and each
    step works on that part only. The part is small (in the 10k-lead incremental batch of
    ``benchmarks/incremental.py``, 9 of the 36k linked leads) and the steps many, so they run in
    NumPy: a polars operation costs more to start than the arrays take to compute.
    """
    part = labels.join(weak.select(LABEL), on=LABEL, how="semi").sort(NODE)
    in_part = part[NODE].implode()
    ids, label = part[NODE].to_numpy(), part[LABEL].to_numpy().copy()
    inside = edges.filter(pl.col(LEFT).is_in(in_part))
    a, b = np.searchsorted(ids, inside[LEFT].to_numpy()), np.searchsorted(ids, inside[RIGHT].to_numpy())
    strength = inside[STRENGTH].to_numpy()
    # a cannot-link with an end outside the part links two components: never violated inside it
    apart = cannot.filter(pl.col(LEFT).is_in(in_part) & pl.col(RIGHT).is_in(in_part))
    ca, cb = np.searchsorted(ids, apart[LEFT].to_numpy()), np.searchsorted(ids, apart[RIGHT].to_numpy())
    weight = np.ones(len(ids), dtype=np.int64)
    weighed = sizes.filter(pl.col(NODE).is_in(in_part))
    weight[np.searchsorted(ids, weighed[NODE].to_numpy())] = weighed["weight"].fill_null(1).to_numpy()
    weak_labels = weak[LABEL].to_numpy()
    for bar in GUARD_STEPS:
        if not len(weak_labels):
            break
        is_weak = np.isin(label, weak_labels)
        weak_edges = is_weak[a]
        if not weak_edges.any():
            break
        weakest = strength[weak_edges].min()
        if weakest >= UNCUTTABLE / 2:
            break  # only uncuttable ties left: the component stays as it is
        if weakest >= bar:
            continue  # this bar cuts nothing: go straight to a higher one
        kept = weak_edges & (strength >= bar)
        # the other components were not weak and do not change: only the re-clustered nodes take new labels
        label = np.where(is_weak, component_labels(ids, a[kept], b[kept]), label)
        # still weak (as _weak tells): a cannot-link inside a re-clustered component, or one too big
        violated = label[ca][is_weak[ca] & (label[ca] == label[cb])]
        relabelled, index = np.unique(label[is_weak], return_inverse=True)
        totals = np.bincount(index, weights=weight[is_weak], minlength=len(relabelled))
        weak_labels = np.union1d(violated, relabelled[totals > max_size])
    label = _restore(ids, label, (a, b, strength), (ca, cb), weight, max_size)
    return pl.concat([
        labels.filter(~pl.col(NODE).is_in(in_part)),
        pl.DataFrame({NODE: ids, LABEL: label}, schema={NODE: pl.Int64, LABEL: pl.Int64}),
    ]).sort(NODE)


def _restore(
    ids: np.ndarray, label: np.ndarray, links: tuple[np.ndarray, np.ndarray, np.ndarray], apart: tuple[np.ndarray, np.ndarray],
    weight: np.ndarray, max_size: int,
) -> np.ndarray:
    """The labels once the links the bar cut are given back where no conflict runs through them.

    Strongest first (then by lead ids), a cut link joins its two parts when they may be together
    (no cannot-link in their union, within ``max_size``) and, in the graph of the parts and the
    links still cut that are at least as strong as this one less ``MARGIN`` (its *band*), it is not
    on a path between two parts that may not be together: either the band's component around it
    holds no conflict, or the link is its only tie between two sides with no cannot-link across
    them. So a lead tied about equally to two leads that must stay apart keeps neither tie, and
    a lead tied to one side only keeps its tie, whatever order the ids come in; with links all
    about as strong, the pairs next to such a lead stay cut too (the bar's result). A band
    component over ``max_size`` in all gives nothing back (the bar's cut stands), which also
    bounds each search to ``max_size`` parts. A loop in Python: it runs on the links the guard
    cut (hundreds in a 1M-lead run), each step on at most ``max_size`` parts.

    Args:
        ids: the nodes (sorted); ``label``: their labels after the bar.
        links: the edges' ends (positions in ``ids``) and strengths.
        apart: the cannot-links' ends (positions).
        weight: each node's weight towards the size cap.
    """
    a_ends, b_ends, strengths = (x.tolist() for x in links)
    owner = [int(x) for x in label]
    members: dict[int, list[int]] = {}
    for pos, part in enumerate(owner):
        members.setdefault(part, []).append(pos)
    size = {part: int(sum(weight[pos] for pos in pos_list)) for part, pos_list in members.items()}
    enemies: dict[int, set[int]] = {}  # part -> the nodes cannot-linked to one of its members
    for x, y in zip(apart[0].tolist(), apart[1].tolist(), strict=True):
        enemies.setdefault(owner[x], set()).add(y)
        enemies.setdefault(owner[y], set()).add(x)
    cut = sorted((i for i in range(len(a_ends)) if owner[a_ends[i]] != owner[b_ends[i]]),
                 key=lambda i: (-strengths[i], ids[a_ends[i]], ids[b_ends[i]]))
    touching: dict[int, list[int]] = {}  # part -> the cut links at its members
    for i in cut:
        touching.setdefault(owner[a_ends[i]], []).append(i)
        touching.setdefault(owner[b_ends[i]], []).append(i)
    restored = [False] * len(a_ends)

    def against(part: int, others: set[int]) -> bool:
        """Whether a member of ``part`` is cannot-linked to a member of one of ``others``."""
        return any(owner[node] in others for node in enemies.get(part, ()))

    def band(start: int, floor: float, skip: int | None = None) -> set[int] | None:
        """The parts reached from ``start`` through cut links of strength >= floor (not ``skip``);
        None as soon as they weigh more than ``max_size`` together (every part weighs at least 1,
        so the search never looks at more than ``max_size`` parts)."""
        seen, queue, total = {start}, [start], size[start]
        for part in queue:
            for i in touching.get(part, ()):
                if restored[i] or i == skip or strengths[i] < floor:
                    continue
                for end in (owner[a_ends[i]], owner[b_ends[i]]):
                    if end not in seen:
                        seen.add(end)
                        queue.append(end)
                        total += size[end]
                        if total > max_size:
                            return None
        return seen

    for i in cut:
        pu, pv = owner[a_ends[i]], owner[b_ends[i]]
        if pu == pv:
            continue
        if size[pu] + size[pv] > max_size or against(pu, {pu, pv}) or against(pv, {pu, pv}):
            continue
        floor = strengths[i] - MARGIN
        around = band(pu, floor)
        if around is None:
            continue
        if any(against(part, around) for part in around):
            # a conflict in the band: only a bridge with no cannot-link across its two sides
            parallel = any(j != i and not restored[j] and strengths[j] >= floor and {owner[a_ends[j]], owner[b_ends[j]]} == {pu, pv}
                           for j in touching.get(pu, ()))
            side = band(pu, floor, skip=i)
            if parallel or side is None or pv in side or any(against(part, around - side) for part in side):
                continue
        restored[i] = True
        keep, gone = (pu, pv) if len(members[pu]) >= len(members[pv]) else (pv, pu)
        for pos in members.pop(gone):
            owner[pos] = keep
            members[keep].append(pos)
        size[keep] += size.pop(gone)
        enemies.setdefault(keep, set()).update(enemies.pop(gone, set()))
        touching.setdefault(keep, []).extend(touching.pop(gone, []))
    result = label.copy()
    for pos_list in members.values():
        positions = np.asarray(pos_list, dtype=np.int64)
        result[positions] = ids[positions].min()
    return result


def cluster_leads(
    nodes: pl.Series,
    links: pl.DataFrame,
    existing: pl.DataFrame,
    cannot: pl.DataFrame,
    *,
    max_cluster_size: int,
) -> Clustering:
    """Cluster leads from their links, respecting existing clusters and cannot-links.

    Args:
        nodes: every lead id to assign (new leads and the existing leads in play).
        links: ``lead_id_l``, ``lead_id_r``, ``strength`` (match weight in bits; must-links
            ``UNCUTTABLE``).
        existing: ``lead_id``, ``cluster_id`` and ``cluster_size`` of the existing leads in play.
        cannot: ``lead_id_l``, ``lead_id_r`` pairs that must end in different clusters.
        max_cluster_size: components larger than this are weak.

    Returns:
        The clustering.
    """
    member_edges = existing.select(
        pl.col(s.LEAD_ID).alias(LEFT), pl.col(s.CLUSTER_ID).alias(RIGHT), pl.lit(UNCUTTABLE).alias(STRENGTH)
    )
    edges = pl.concat(
        [links.select(pl.col(LEFT).cast(pl.Int64), pl.col(RIGHT).cast(pl.Int64), pl.col(STRENGTH).cast(pl.Float64)),
         member_edges.cast({LEFT: pl.Int64, RIGHT: pl.Int64, STRENGTH: pl.Float64})]
    )
    # an existing cluster weighs its full size (held by its id node); other nodes weigh 1, and
    # loaded members of an existing cluster weigh 0 as they are counted in its size
    cluster_sizes = existing.select(pl.col(s.CLUSTER_ID).alias(NODE), pl.col("cluster_size").alias("weight")).unique(NODE)
    members = existing.filter(pl.col(s.LEAD_ID) != pl.col(s.CLUSTER_ID)).select(pl.col(s.LEAD_ID).alias(NODE), pl.lit(0).alias("weight"))
    sizes = pl.concat([cluster_sizes.cast({"weight": pl.Int64}), members.cast({"weight": pl.Int64})]).unique(NODE, keep="first")

    # only leads with a link need the component search; the others are clusters of one
    labels = (
        connected_components(edges.select(pl.col(LEFT).alias("a"), pl.col(RIGHT).alias("b")))
        if edges.height else pl.DataFrame(schema={NODE: pl.Int64, LABEL: pl.Int64})
    )
    original = labels
    cannot = cannot.select(pl.col(LEFT).cast(pl.Int64), pl.col(RIGHT).cast(pl.Int64))
    weak = _weak(labels, cannot, sizes, max_cluster_size)
    reasons = weak.rename({LABEL: s.CLUSTER_ID})
    if weak.height:
        labels = _guard(labels, weak, edges, cannot, sizes, max_cluster_size)
    cut = (
        original.join(labels.rename({LABEL: "part"}), on=NODE)
        .filter(pl.col(LABEL) != pl.col("part"))
        .select(pl.col(LABEL).alias(s.CLUSTER_ID), pl.col("part").alias("part_cluster_id"))
        .unique()
        .join(reasons, on=s.CLUSTER_ID, how="left")
        .sort(s.CLUSTER_ID, "part_cluster_id")
    )
    merges = (
        existing.select(s.CLUSTER_ID).unique()
        .join(labels.rename({NODE: s.CLUSTER_ID}), on=s.CLUSTER_ID)
        .filter(pl.col(LABEL) != pl.col(s.CLUSTER_ID))
        .select(pl.col(s.CLUSTER_ID).alias("old_cluster_id"), pl.col(LABEL).alias("new_cluster_id"))
        .sort("old_cluster_id")
    )
    wanted = pl.concat([nodes.cast(pl.Int64), existing[s.LEAD_ID].cast(pl.Int64)]).unique()
    assignment = (
        pl.DataFrame({NODE: wanted})
        .join(labels, on=NODE, how="left")
        .with_columns(pl.coalesce(LABEL, NODE).alias(LABEL))
    )
    return Clustering(
        assignment=assignment.select(pl.col(NODE).alias(s.LEAD_ID), pl.col(LABEL).alias(s.CLUSTER_ID)).sort(s.LEAD_ID),
        merges=merges,
        splits=cut,
    )


def members_after(before: pl.DataFrame, clustering: Clustering, cluster_ids: pl.Series) -> pl.DataFrame:
    """The leads of the given clusters once a clustering is written, by lead id.

    Args:
        before: leads with their ``cluster_id`` before the run (null for a new lead): at least
            every member of the clusters the run touched, and its new leads.
        clustering: the run's clustering, applied as ``warehouse.clusters.apply_clusters`` writes
            it (a merged cluster's leads take the survivor's id, then each assigned lead its own).
        cluster_ids: the clusters wanted.
    """
    assigned = clustering.assignment.select(s.LEAD_ID, pl.col(s.CLUSTER_ID).cast(pl.Int64).alias("_assigned"))
    merged = clustering.merges.select(
        pl.col("old_cluster_id").cast(pl.Int64).alias(s.CLUSTER_ID), pl.col("new_cluster_id").cast(pl.Int64).alias("_merged"),
    )
    # the new ids on the two id columns, then one filter of the wide frame (a million leads in a full run)
    after = (
        before.lazy().select(s.LEAD_ID, pl.col(s.CLUSTER_ID).cast(pl.Int64))
        .join(assigned.lazy(), on=s.LEAD_ID, how="left", maintain_order="left")
        .join(merged.lazy(), on=s.CLUSTER_ID, how="left", maintain_order="left")
        .select(pl.coalesce("_assigned", "_merged", s.CLUSTER_ID).alias(s.CLUSTER_ID))
        .collect()
        .to_series()
    )
    members = before.with_columns(after).filter(after.is_in(cluster_ids.cast(pl.Int64).implode()))
    return members if members[s.LEAD_ID].is_sorted() else members.sort(s.LEAD_ID)

"""Connected components of an edge list, vectorised in polars.

Min-label propagation: every node starts with its own id as label; each round, a node takes the
smallest label among itself and its neighbours; rounds repeat until nothing changes. Each round
is one polars join and group-by, so there is no Python loop over nodes or edges. The label of a
component is its smallest node id, which makes labels deterministic and lets the oldest id
survive when components merge.
"""

from __future__ import annotations

import polars as pl

NODE = "node"
LABEL = "label"


def connected_components(edges: pl.DataFrame, nodes: pl.Series | None = None, *, max_rounds: int = 10_000) -> pl.DataFrame:
    """Label every node with the smallest node id of its component.

    Args:
        edges: columns ``a`` and ``b`` (Int64 node ids); direction does not matter.
        nodes: extra nodes with no edges (they form singleton components).
        max_rounds: safety bound; a chain of n nodes needs about log2(n)·2 rounds with pointer
            jumping, so reaching it means a bug.

    Returns:
        A frame with columns ``node`` and ``label``, one row per node, sorted by node.

    Example:
        >>> connected_components(pl.DataFrame({"a": [1, 2, 7], "b": [2, 3, 8]}))  # 1,2,3 -> 1; 7,8 -> 7
    """
    both = pl.concat(
        [edges.select(pl.col("a").alias("src"), pl.col("b").alias("dst")),
         edges.select(pl.col("b").alias("src"), pl.col("a").alias("dst"))]
    ).cast(pl.Int64)
    all_nodes = pl.concat([both["src"], *( [nodes.cast(pl.Int64)] if nodes is not None else [])]).unique()
    labels = pl.DataFrame({NODE: all_nodes}).with_columns(pl.col(NODE).alias(LABEL))
    for _ in range(max_rounds):
        # Neighbour step: a node takes the smallest label among its neighbours.
        neighbour = (
            both.join(labels, left_on="dst", right_on=NODE)
            .group_by("src")
            .agg(pl.col(LABEL).min().alias("nbr"))
        )
        step = labels.join(neighbour, left_on=NODE, right_on="src", how="left").with_columns(
            pl.min_horizontal(LABEL, "nbr").alias("new")
        )
        # Pointer jumping: take the label of your label, which halves long chains each round.
        jumped = step.join(
            step.select(pl.col(NODE).alias("l"), pl.col("new").alias("ll")), left_on="new", right_on="l", how="left"
        ).with_columns(pl.min_horizontal("new", "ll").alias("new"))
        changed = jumped.filter(pl.col("new") != pl.col(LABEL)).height
        labels = jumped.select(NODE, pl.col("new").alias(LABEL))
        if changed == 0:
            return labels.sort(NODE)
    raise RuntimeError("connected_components did not converge")  # pragma: no cover

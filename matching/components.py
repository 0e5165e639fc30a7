"""Connected components of an edge list, with SciPy's sparse-graph search.

Node ids (lead ids, any 64-bit integers) are mapped to positions ``0..n-1`` by a sorted unique,
the edges become a sparse matrix, and ``scipy.sparse.csgraph.connected_components`` labels the
components in native code. The label of a component is its smallest node id, which makes labels
deterministic and lets the oldest id survive when components merge.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components as _scipy_components

NODE = "node"
LABEL = "label"


def connected_components(edges: pl.DataFrame, nodes: pl.Series | None = None) -> pl.DataFrame:
    """Label every node with the smallest node id of its component.

    Args:
        edges: columns ``a`` and ``b`` (integer node ids); direction does not matter.
        nodes: extra nodes with no edges (they form singleton components).

    Returns:
        A frame with columns ``node`` and ``label`` (Int64), one row per node, sorted by node.

    Example:
        >>> connected_components(pl.DataFrame({"a": [1, 2, 7], "b": [2, 3, 8]}))  # 1,2,3 -> 1; 7,8 -> 7
    """
    a = edges["a"].cast(pl.Int64).to_numpy()
    b = edges["b"].cast(pl.Int64).to_numpy()
    extra = nodes.cast(pl.Int64).drop_nulls().to_numpy() if nodes is not None else np.empty(0, dtype=np.int64)
    ids = np.unique(np.concatenate([a, b, extra]))  # sorted: position order is id order
    labels = component_labels(ids, np.searchsorted(ids, a), np.searchsorted(ids, b))
    return pl.DataFrame({NODE: ids, LABEL: labels}, schema={NODE: pl.Int64, LABEL: pl.Int64})


def component_labels(ids: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The smallest node id of each node's component.

    Args:
        ids: the node ids, sorted and unique.
        a, b: the edges' ends, as positions in ``ids``.
    """
    n = len(ids)
    graph = coo_array((np.ones(len(a), dtype=np.int8), (a, b)), shape=(n, n)).tocsr()
    _, component = _scipy_components(graph, directed=False)
    # the first position of each component holds its smallest id (positions are in id order)
    _, first = np.unique(component, return_index=True)
    return ids[first[component]]

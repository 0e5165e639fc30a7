"""Connected components against a brute-force union-find oracle on random graphs."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from matching.components import connected_components


def union_find_labels(nodes: set[int], edges: list[tuple[int, int]]) -> dict[int, int]:
    parent = {n: n for n in nodes}

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in edges:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    # Label = smallest node of each component.
    groups: dict[int, list[int]] = {}
    for n in nodes:
        groups.setdefault(find(n), []).append(n)
    return {n: min(members) for members in groups.values() for n in members}


@given(
    edges=st.lists(st.tuples(st.integers(1, 60), st.integers(1, 60)), max_size=120),
    lonely=st.sets(st.integers(1, 80), max_size=10),
)
@settings(max_examples=150, deadline=None)
def test_matches_union_find(edges: list[tuple[int, int]], lonely: set[int]) -> None:
    frame = pl.DataFrame({"a": [a for a, _ in edges], "b": [b for _, b in edges]}, schema={"a": pl.Int64, "b": pl.Int64})
    result = connected_components(frame, pl.Series(sorted(lonely), dtype=pl.Int64))
    nodes = {n for e in edges for n in e} | lonely
    expected = union_find_labels(nodes, edges)
    assert dict(zip(result["node"].to_list(), result["label"].to_list(), strict=True)) == expected


def test_long_chain_converges() -> None:
    n = 5000
    frame = pl.DataFrame({"a": list(range(n, 1, -1)), "b": list(range(n - 1, 0, -1))})
    result = connected_components(frame)
    assert result["label"].unique().to_list() == [1]
    assert result.height == n


def test_empty_graph_and_isolated_nodes() -> None:
    empty = pl.DataFrame(schema={"a": pl.Int64, "b": pl.Int64})
    assert connected_components(empty).is_empty()
    result = connected_components(empty, pl.Series([9, 3, 3], dtype=pl.Int64))
    assert result.rows() == [(3, 3), (9, 9)]


def test_large_sparse_ids_and_self_loops() -> None:
    # lead ids far apart (positions, not ids, size the graph) and a self loop
    big = 10**15
    frame = pl.DataFrame({"a": [big, 5, 7, big + 2], "b": [5, 5, big + 2, 7]})
    result = connected_components(frame)
    assert dict(result.iter_rows()) == {5: 5, 7: 7, big: 5, big + 2: 7}

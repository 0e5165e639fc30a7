"""Clusters: chaining guard, size cap, stable ids, merges, members after a run."""

from __future__ import annotations

import polars as pl

from matching.clustering import UNCUTTABLE, cluster_leads, members_after


def links(rows: list[tuple[int, int, float]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={"lead_id_l": pl.Int64, "lead_id_r": pl.Int64, "strength": pl.Float64}, orient="row")


def pairs(rows: list[tuple[int, int]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={"lead_id_l": pl.Int64, "lead_id_r": pl.Int64}, orient="row")


NO_EXISTING = pl.DataFrame(schema={"lead_id": pl.Int64, "cluster_id": pl.Int64, "cluster_size": pl.Int64})


def clusters(result) -> dict[int, int]:  # noqa: ANN001
    return dict(result.assignment.iter_rows())


def test_chain_through_an_ambiguous_record_is_cut_at_the_weakest_link() -> None:
    # John (1) - "J." (2) - James (3): 1 and 3 are different people
    result = cluster_leads(pl.Series([1, 2, 3]), links([(1, 2, 9.0), (2, 3, 5.0)]), NO_EXISTING, pairs([(1, 3)]), max_cluster_size=50)
    assert clusters(result) == {1: 1, 2: 1, 3: 3}
    assert result.splits.select("cluster_id", "part_cluster_id").rows() == [(1, 3)]
    assert "cannot-link" in result.splits["reason"][0]


def test_must_links_are_never_cut() -> None:
    result = cluster_leads(
        pl.Series([1, 2, 3]), links([(1, 2, UNCUTTABLE), (2, 3, UNCUTTABLE)]), NO_EXISTING, pairs([(1, 3)]), max_cluster_size=50
    )
    assert set(clusters(result).values()) == {1}


def test_oversized_component_is_split() -> None:
    # a star of weak links around lead 1 plus strong pairs: cut the weak ones
    strong = [(10 * i, 10 * i + 1, 30.0) for i in range(1, 6)]
    weak = [(1, 10 * i, 2.0) for i in range(1, 6)]
    nodes = pl.Series([1] + [n for a, b, _ in strong for n in (a, b)])
    result = cluster_leads(nodes, links(strong + weak), NO_EXISTING, pairs([]), max_cluster_size=4)
    sizes = result.assignment.group_by("cluster_id").len()["len"].to_list()
    assert max(sizes) <= 4
    assert clusters(result)[50] == clusters(result)[51] == 50


def test_new_lead_takes_the_existing_cluster_id_and_older_id_survives_merges() -> None:
    existing = pl.DataFrame({"lead_id": [5, 7, 2], "cluster_id": [5, 5, 2], "cluster_size": [3, 3, 1]})
    # new lead 20 joins cluster 5; new lead 21 links cluster 5 and cluster 2 -> they merge into 2
    result = cluster_leads(pl.Series([20, 21, 30]), links([(7, 20, 10.0), (5, 21, 10.0), (2, 21, 10.0)]), existing, pairs([]),
                           max_cluster_size=50)
    got = clusters(result)
    assert got[20] == got[21] == got[5] == got[7] == 2
    assert got[30] == 30
    assert result.merges.rows() == [(5, 2)]


def test_existing_cluster_size_counts_towards_the_cap() -> None:
    existing = pl.DataFrame({"lead_id": [1], "cluster_id": [1], "cluster_size": [10]})
    result = cluster_leads(pl.Series([50]), links([(1, 50, 5.0)]), existing, pairs([]), max_cluster_size=10)
    assert clusters(result)[50] == 50  # joining would make 11


def test_a_cannot_link_label_beats_must_link_rules() -> None:
    from matching.clustering import RULE_LINK

    # 9 links to both 1 and 2 by a rule (same email), but a person said 1 and 2 differ
    result = cluster_leads(pl.Series([1, 2, 9]), links([(1, 9, RULE_LINK), (2, 9, RULE_LINK)]), NO_EXISTING, pairs([(1, 2)]),
                           max_cluster_size=50)
    got = clusters(result)
    assert got[1] != got[2]


def test_a_lead_tied_to_one_side_of_a_conflict_keeps_its_tie() -> None:
    from matching.clustering import RULE_LINK

    # clusters 1 = {1, 3} and 2 are cannot-linked; new lead 8 is the same (by a rule) as 2 and 3
    # alike: it stays alone. New lead 9 is the same as 1 only: it joins cluster 1 (the bar alone
    # cut every link of the component, 9's too)
    existing = pl.DataFrame({"lead_id": [1, 3, 2], "cluster_id": [1, 1, 2], "cluster_size": [2, 2, 1]})
    rule = links([(2, 8, RULE_LINK + 18.7), (3, 8, RULE_LINK + 18.7), (1, 9, RULE_LINK + 18.9), (8, 9, 0.4)])
    result = cluster_leads(pl.Series([8, 9]), rule, existing, pairs([(1, 2), (2, 3)]), max_cluster_size=50)
    assert clusters(result) == {1: 1, 2: 2, 3: 1, 8: 8, 9: 1}
    # 8 much closer to 2 than to 3 (more than MARGIN): it joins 2
    closer = links([(2, 8, RULE_LINK + 18.7), (3, 8, RULE_LINK + 9.0), (1, 9, RULE_LINK + 18.9)])
    assert clusters(cluster_leads(pl.Series([8, 9]), closer, existing, pairs([(1, 2), (2, 3)]), max_cluster_size=50))[8] == 2


def test_an_ambiguous_lead_stays_alone() -> None:
    # "J." (2) is about as close to John (1) as to James (3), who are different people
    result = cluster_leads(pl.Series([1, 2, 3]), links([(1, 2, 6.0), (2, 3, 5.0)]), NO_EXISTING, pairs([(1, 3)]), max_cluster_size=50)
    assert clusters(result) == {1: 1, 2: 2, 3: 3}
    # the star of equal weak links around lead 1 (test_oversized_component_is_split): 1 could join
    # any one pair but not two, so it joins none
    strong = [(10 * i, 10 * i + 1, 30.0) for i in range(1, 6)]
    star = cluster_leads(pl.Series([1] + [n for a, b, _ in strong for n in (a, b)]), links(strong + [(1, 10 * i, 2.0) for i in range(1, 6)]),
                         NO_EXISTING, pairs([]), max_cluster_size=4)
    assert clusters(star)[1] == 1


def test_an_ambiguous_record_glues_no_pair_whatever_its_id() -> None:
    # John (1, 2) and James (3, 4) pairs, and "J." linked to 2 and 4 as strongly as the pairs are
    # linked; 1 and 3 are different people. Whatever J.'s id, it joins neither side and glues
    # nothing (giving links back in id order once tied J. to a John and split James's pair)
    for j in (5, 0):
        result = cluster_leads(pl.Series([0, 1, 2, 3, 4, 5]), links([(1, 2, 10.0), (3, 4, 10.0), (2, j, 10.0), (4, j, 10.0)]),
                               NO_EXISTING, pairs([(1, 3)]), max_cluster_size=50)
        got = clusters(result)
        assert got[j] == j and got[1] != got[3], (j, got)
        assert all(got[n] not in (got[j],) for n in (1, 2, 3, 4)), (j, got)


def test_a_lead_kept_from_one_side_by_a_label_joins_the_other() -> None:
    # 9 is as close to 1 as to 3, but a person said 9 is not 3: 9 joins 1
    result = cluster_leads(pl.Series([1, 3, 9]), links([(1, 9, 10.0), (3, 9, 10.0)]), NO_EXISTING, pairs([(3, 9)]), max_cluster_size=50)
    assert clusters(result) == {1: 1, 3: 3, 9: 1}


def test_members_after_a_run_are_those_its_writes_give() -> None:
    # stored: cluster 5 = {5, 7, 9} (9 not in play: it shared no block with a new lead),
    # cluster 2 = {2}, cluster 40 = {40, 41} (untouched); new leads 20, 21, 30
    existing = pl.DataFrame({"lead_id": [5, 7, 2], "cluster_id": [5, 5, 2], "cluster_size": [3, 3, 1]})
    result = cluster_leads(pl.Series([20, 21, 30]), links([(7, 20, 10.0), (5, 21, 10.0), (2, 21, 10.0)]), existing, pairs([]),
                           max_cluster_size=50)
    before = pl.DataFrame({
        "lead_id": [2, 5, 7, 9, 40, 41, 20, 21, 30],
        "cluster_id": [2, 5, 5, 5, 40, 40, None, None, None],
        "first_name": ["a", "b", "c", "d", "e", "f", "g", "h", "i"],
    })
    after = members_after(before, result, pl.Series([2, 30, 40]))
    # the merged cluster keeps its unread member 9; the new singleton 30; 40 as it was
    assert after.select("lead_id", "cluster_id").rows() == [(2, 2), (5, 2), (7, 2), (9, 2), (20, 2), (21, 2), (30, 30), (40, 40), (41, 40)]
    assert after["first_name"].to_list() == ["a", "b", "c", "d", "g", "h", "i", "e", "f"]
    assert members_after(before, result, pl.Series([5])).is_empty()  # merged away


def _reference_guard(edges: list[tuple[int, int, float]], cannot: list[tuple[int, int]], weight: dict[int, int],
                     max_size: int, restored: list[int] | None = None) -> dict[int, int]:
    """The chaining guard as the docs state it, in plain Python over the whole graph at each step."""
    from matching.clustering import GUARD_STEPS

    def components(nodes: set[int], links: list[tuple[int, int, float]]) -> dict[int, int]:
        parent = {n: n for n in nodes}

        def root(n: int) -> int:
            while parent[n] != n:
                n = parent[n]
            return n

        for a, b, _ in links:
            parent[root(a)] = root(b)
        groups: dict[int, list[int]] = {}
        for n in nodes:
            groups.setdefault(root(n), []).append(n)
        return {n: min(members) for members in groups.values() for n in members}

    def weak(labels: dict[int, int]) -> set[int]:
        found = {labels[a] for a, b in cannot if a in labels and b in labels and labels[a] == labels[b]}
        size: dict[int, int] = {}
        for n, label in labels.items():
            size[label] = size.get(label, 0) + weight.get(n, 1)
        return found | {label for label, total in size.items() if total > max_size}

    labels = components({n for a, b, _ in edges for n in (a, b)}, edges)
    weak_labels = weak(labels)
    for bar in GUARD_STEPS:
        if not weak_labels:
            break
        nodes = {n for n, label in labels.items() if label in weak_labels}
        inside = [e for e in edges if e[0] in nodes]
        weakest = min((e[2] for e in inside), default=None)
        if weakest is None or weakest >= UNCUTTABLE / 2:
            break
        if weakest >= bar:
            continue
        relabelled = components(nodes, [e for e in inside if e[2] >= bar])
        labels.update(relabelled)
        weak_labels = weak(relabelled)
    # the cut links back, strongest first: a link joins its parts when they may be together and,
    # among the parts and the links still cut within MARGIN of it, no conflict runs through it
    from matching.clustering import MARGIN

    def bad(nodes: set[int]) -> bool:  # a cannot-link inside, or too big
        return bool(weak({n: 0 for n in nodes}))

    cut = sorted((e for e in edges if labels[e[0]] != labels[e[1]]), key=lambda e: (-e[2], e[0], e[1]))
    given: set[tuple[int, int]] = set()
    for a, b, strength in cut:
        if labels[a] == labels[b]:
            continue
        part = {n for n in labels if labels[n] in (labels[a], labels[b])}
        if bad(part):
            continue
        band = [(x, y) for x, y, s in cut if s >= strength - MARGIN and (x, y) not in given and labels[x] != labels[y]]

        def reach(start: int, links: list[tuple[int, int]]) -> set[int]:  # parts reached, as labels
            found, grew = {start}, True
            while grew:
                grew = False
                for x, y in links:
                    if (labels[x] in found) != (labels[y] in found):
                        found |= {labels[x], labels[y]}
                        grew = True
            return found

        around = reach(labels[a], band)
        nodes = {n for n in labels if labels[n] in around}
        if bad(nodes):
            if sum(weight.get(n, 1) for n in nodes) > max_size:
                continue
            side = reach(labels[a], [e for e in band if e != (a, b)])
            other = {n for n in nodes if labels[n] not in side}
            mine = nodes - other
            if labels[b] in side or any((x in mine and y in other) or (y in mine and x in other) for x, y in cannot):
                continue
        if restored is not None:
            restored.append(1)
        given.add((a, b))
        joined = min(n for n in labels if labels[n] in (labels[a], labels[b]))
        old = (labels[a], labels[b])
        labels = {n: joined if label in old else label for n, label in labels.items()}
    return labels


def test_chaining_guard_matches_a_plain_reference_on_random_graphs() -> None:
    """Random links (model weights, rule links, must-links), cannot-links and existing clusters:
    the guard, which works on the weak part of the graph only, labels every lead as the plain
    whole-graph reference does."""
    import random

    from matching.clustering import RULE_LINK

    rng = random.Random(3)
    # strengths between the guard's bars, on them (4, 8, 12: a link at the bar is kept) and at its
    # last cut-off (UNCUTTABLE / 2: never cut)
    strengths = [1.0, 3.0, 4.0, 5.0, 7.5, 8.0, 9.0, 12.0, 14.0, 18.0, 22.0, 27.0, 35.0, 50.0, 70.0, RULE_LINK, UNCUTTABLE / 2,
                 UNCUTTABLE]
    checked_cuts = 0
    restored: list[int] = []
    for _ in range(100):
        nodes = list(range(1, 41))
        # existing clusters: a few ids with members, the id being the smallest lead id
        existing_rows, member_of = [], {}
        for cluster in rng.sample(nodes, 4):
            members = [cluster] + [n for n in rng.sample(nodes, 3) if n > cluster and n not in member_of]
            members = [m for m in members if m not in member_of]
            if cluster not in members:
                continue
            size = len(members) + rng.randrange(0, 4)  # members not read count too
            for m in members:
                member_of[m] = cluster
                existing_rows.append((m, cluster, size))
        pairs_seen: set[tuple[int, int]] = set()
        link_rows = []
        for _ in range(rng.randrange(20, 60)):
            a, b = sorted(rng.sample(nodes, 2))
            if (a, b) not in pairs_seen:
                pairs_seen.add((a, b))
                link_rows.append((a, b, rng.choice(strengths)))
        cannot_rows = [tuple(sorted(rng.sample(nodes, 2))) for _ in range(rng.randrange(0, 12))]
        max_size = rng.randrange(3, 12)
        existing = pl.DataFrame(existing_rows, schema={"lead_id": pl.Int64, "cluster_id": pl.Int64, "cluster_size": pl.Int64},
                                orient="row")
        result = cluster_leads(pl.Series([n for n in nodes if n not in member_of], dtype=pl.Int64), links(link_rows), existing,
                               pairs(cannot_rows), max_cluster_size=max_size)
        weight = {n: 0 for n in member_of} | {c: size for _, c, size in existing_rows}
        all_edges = link_rows + [(m, c, UNCUTTABLE) for m, c, _ in existing_rows]
        expected = {n: n for n in nodes} | _reference_guard(all_edges, cannot_rows, weight, max_size, restored)
        got = clusters(result)
        assert got == expected
        # the guard's promise, checked on its own: a cluster holding a cannot-linked pair or too big
        # is one that only uncuttable ties (existing memberships, must-link labels) hold together
        uncuttable = _reference_guard([e for e in all_edges if e[2] >= UNCUTTABLE / 2], [], weight, 10**9)
        for cluster in set(got.values()):
            leads = {n for n, c in got.items() if c == cluster}
            too_big = sum(weight.get(n, 1) for n in leads) > max_size
            if too_big or any(a in leads and b in leads for a, b in cannot_rows):
                assert len({uncuttable.get(n, n) for n in leads}) == 1, (cluster, leads)
        checked_cuts += result.splits.height > 0
    assert checked_cuts > 20  # the guard cut something in many of the graphs
    assert len(restored) > 20, len(restored)  # and gave many cut links back

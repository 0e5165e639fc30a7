"""Hand edits of clusters in memory: detach, merge, and reviewed answers applied in order."""

from __future__ import annotations

import polars as pl
import pytest

from matching.decisions import CANNOT_LINK, MUST_LINK
from matching.edits import ClusterEdits, apply_answers, lead_ids_of


def edits_of(clusters: dict[int, int | None]) -> ClusterEdits:
    return ClusterEdits(pl.DataFrame({"lead_id": list(clusters), "cluster_id": list(clusters.values())},
                                     schema={"lead_id": pl.Int64, "cluster_id": pl.Int64}))


def assignment(edits: ClusterEdits, leads: list[int]) -> dict[int, int | None]:
    return {lead: edits.cluster(lead) for lead in leads}


def test_detaching_the_lead_that_holds_the_id_moves_the_id_to_the_smallest_other_lead() -> None:
    edits = edits_of({3: 3, 5: 3, 9: 3, 4: 4})
    rest = edits.detach(3, "two people", "by hand")
    assert rest == 5
    assert assignment(edits, [3, 5, 9, 4]) == {3: 3, 5: 5, 9: 5, 4: 4}
    assert edits.members(5) == [5, 9] and edits.members(3) == [3]
    assert edits.changed().rows() == [(5, 5), (9, 5)]
    assert edits.labels().rows() == [(3, 5, CANNOT_LINK, "unmerge", "two people"), (3, 9, CANNOT_LINK, "unmerge", "two people")]
    assert edits.events().rows() == [("unmerge", 5, 3, 3, "by hand")]
    assert edits.touched == {3, 5}


def test_detaching_another_lead_keeps_the_id() -> None:
    edits = edits_of({3: 3, 5: 3, 9: 3})
    assert edits.detach(9, None, "x") == 3
    assert assignment(edits, [3, 5, 9]) == {3: 3, 5: 3, 9: 9}
    assert edits.changed().rows() == [(9, 9)]
    assert edits.touched == {3, 9}


def test_merge_moves_every_member_and_logs_it() -> None:
    edits = edits_of({1: 1, 2: 1, 7: 7, 8: 7})
    edits.merge(1, 7, "review")
    assert assignment(edits, [1, 2, 7, 8]) == {1: 1, 2: 1, 7: 1, 8: 1}
    assert edits.members(1) == [1, 2, 7, 8] and edits.members(7) == []
    assert edits.events().rows() == [("merge", 1, 7, None, "review")]
    assert edits.changed().rows() == [(7, 1), (8, 1)]


def test_answers_apply_in_order() -> None:
    start = {1: 1, 2: 1, 6: 6}
    # yes merges 6 into 1, then no detaches the newer lead of the pair (6) again
    edits = edits_of(start)
    counts = apply_answers(edits, [(2, 6, MUST_LINK, None), (2, 6, CANNOT_LINK, "not him")])
    assert counts == {MUST_LINK: 1, CANNOT_LINK: 1, "merged": 1, "detached": 1}
    assert assignment(edits, [1, 2, 6]) == {1: 1, 2: 1, 6: 6}
    assert [e[0] for e in edits.events().rows()] == ["merge", "unmerge"]
    assert edits.labels()["note"].to_list() == ["not him", "not him"]  # 6 cannot-linked to 1 and 2
    # the other way round the no finds two clusters (nothing to detach) and the yes merges them
    edits = edits_of(start)
    counts = apply_answers(edits, [(2, 6, CANNOT_LINK, None), (2, 6, MUST_LINK, None)])
    assert counts == {MUST_LINK: 1, CANNOT_LINK: 1, "merged": 1, "detached": 0}
    assert assignment(edits, [1, 2, 6]) == {1: 1, 2: 1, 6: 1}


def test_answers_about_unclustered_or_agreeing_leads_change_nothing() -> None:
    edits = edits_of({1: 1, 2: 1, 5: None, 8: 8})
    counts = apply_answers(edits, [(1, 5, MUST_LINK, None), (5, 8, CANNOT_LINK, None), (1, 2, MUST_LINK, None), (1, 8, CANNOT_LINK, None)])
    assert counts == {MUST_LINK: 2, CANNOT_LINK: 2, "merged": 0, "detached": 0}
    assert edits.changed().is_empty() and edits.events().is_empty() and edits.labels().is_empty()
    assert not edits.touched


def test_lead_ids_of_keeps_the_first_mention() -> None:
    assert lead_ids_of([(4, 9, MUST_LINK, None), (1, 4, CANNOT_LINK, "x")]) == [4, 9, 1]


def test_detach_needs_another_member() -> None:
    edits = edits_of({4: 4, 5: None})
    for lead in (4, 5):
        with pytest.raises(ValueError, match="not in a cluster with other leads"):
            edits.detach(lead, None, "alone")

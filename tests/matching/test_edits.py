"""Hand edits of clusters in memory: detach, merge, and reviewed answers applied in order."""

from __future__ import annotations

import polars as pl
import pytest

from matching.decisions import CANNOT_LINK, MUST_LINK
from matching.edits import ClusterEdits, apply_answers, lead_ids_of


def edits_of(clusters: dict[int, int | None], labels: list[tuple[int, int, str]] | None = None) -> ClusterEdits:
    stored = None if labels is None else pl.DataFrame(labels, schema=["lead_id_l", "lead_id_r", "label"], orient="row")
    return ClusterEdits(pl.DataFrame({"lead_id": list(clusters), "cluster_id": list(clusters.values())},
                                     schema={"lead_id": pl.Int64, "cluster_id": pl.Int64}), stored)


NO_EDIT = {"merged": 0, "detached": 0, "conflicts": 0, "repeated": 0}


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
    assert counts == {MUST_LINK: 1, CANNOT_LINK: 1, **NO_EDIT, "merged": 1, "detached": 1}
    assert assignment(edits, [1, 2, 6]) == {1: 1, 2: 1, 6: 6}
    assert [e[0] for e in edits.events().rows()] == ["merge", "unmerge"]
    # the answers and the detach's cannot-link of 6 to 1 (to 2 it is the answer itself), in the order made
    assert edits.labels().rows() == [
        (2, 6, MUST_LINK, "review", None), (2, 6, CANNOT_LINK, "review", "not him"), (1, 6, CANNOT_LINK, "unmerge", "not him"),
    ]
    # the other way round the no finds two clusters (nothing to detach) and the yes merges them:
    # a newer answer about the same pair replaces the older one
    edits = edits_of(start)
    counts = apply_answers(edits, [(2, 6, CANNOT_LINK, None), (2, 6, MUST_LINK, None)])
    assert counts == {MUST_LINK: 1, CANNOT_LINK: 1, **NO_EDIT, "merged": 1}
    assert assignment(edits, [1, 2, 6]) == {1: 1, 2: 1, 6: 1}
    assert edits.conflicts().is_empty()


def test_answers_about_unclustered_or_agreeing_leads_change_nothing() -> None:
    edits = edits_of({1: 1, 2: 1, 5: None, 8: 8})
    counts = apply_answers(edits, [(1, 5, MUST_LINK, None), (5, 8, CANNOT_LINK, None), (1, 2, MUST_LINK, None), (1, 8, CANNOT_LINK, None)])
    assert counts == {MUST_LINK: 2, CANNOT_LINK: 2, **NO_EDIT}
    assert edits.changed().is_empty() and edits.events().is_empty() and edits.conflicts().is_empty()
    assert edits.labels()["source"].to_list() == ["review"] * 4  # the answers only
    assert not edits.touched


def test_a_yes_does_not_merge_clusters_that_a_cannot_link_keeps_apart() -> None:
    # lead 6 was unmerged from 1's cluster (cannot-linked to 1 and 2); a reviewer now says 2 is 6
    stored = [(1, 6, CANNOT_LINK), (2, 6, CANNOT_LINK)]
    edits = edits_of({1: 1, 2: 1, 6: 6, 9: 9}, stored)
    counts = apply_answers(edits, [(2, 6, MUST_LINK, "same phone"), (6, 9, MUST_LINK, None)])
    # 2-6 is answered anew, but 1-6 still says "different": no merge; 6 and 9 merge
    assert counts == {MUST_LINK: 2, CANNOT_LINK: 0, **NO_EDIT, "merged": 1, "conflicts": 1}
    assert assignment(edits, [1, 2, 6, 9]) == {1: 1, 2: 1, 6: 6, 9: 6}
    assert edits.conflicts().rows() == [(2, 6, MUST_LINK, 1, 6, CANNOT_LINK, None)]  # stored without a source here
    assert edits.labels().rows()[0] == (2, 6, MUST_LINK, "review", "same phone")  # the answer is kept
    # the blocking label can be a label the file itself made: a no that detached a lead earlier
    edits = edits_of({1: 1, 2: 1, 3: 1, 7: 7})
    counts = apply_answers(edits, [(1, 3, CANNOT_LINK, None), (3, 7, MUST_LINK, None), (2, 7, MUST_LINK, None)])
    # 3 leaves {1, 2, 3} cannot-linked to 1 and 2; 3 and 7 merge; 2-7 would put 2 with 3 again
    assert counts == {MUST_LINK: 2, CANNOT_LINK: 1, **NO_EDIT, "merged": 1, "detached": 1, "conflicts": 1}
    assert assignment(edits, [1, 2, 3, 7]) == {1: 1, 2: 1, 3: 3, 7: 3}
    assert edits.conflicts().rows() == [(2, 7, MUST_LINK, 1, 3, CANNOT_LINK, "review")]  # the first such pair: the "no" itself


def test_a_newer_yes_about_the_blocking_pair_lifts_the_conflict() -> None:
    edits = edits_of({1: 1, 2: 1, 6: 6}, [(1, 6, CANNOT_LINK)])
    counts = apply_answers(edits, [(2, 6, MUST_LINK, None), (1, 6, MUST_LINK, None)])
    assert counts == {MUST_LINK: 2, CANNOT_LINK: 0, **NO_EDIT, "merged": 1, "conflicts": 1}
    assert assignment(edits, [1, 2, 6]) == {1: 1, 2: 1, 6: 1}


def test_a_no_takes_the_leads_a_yes_tied_to_the_newer_lead_out_with_it() -> None:
    # a reviewer said 5 is 8; now that 2 is not 8: 5 and 8 leave 2 together
    edits = edits_of({2: 2, 5: 2, 8: 2}, [(5, 8, MUST_LINK)])
    counts = apply_answers(edits, [(2, 8, CANNOT_LINK, None)])
    assert counts == {MUST_LINK: 0, CANNOT_LINK: 1, **NO_EDIT, "detached": 2}
    assert assignment(edits, [2, 5, 8]) == {2: 2, 5: 5, 8: 5}
    detail = "review: lead 8 is not lead 2 (with 5, tied to it as the same person)"
    assert edits.events().rows() == [("unmerge", 2, 5, 5, detail), ("unmerge", 2, 5, 8, detail)]
    # the answer, and 5's cannot-link to 2 (8's is the answer itself: not written twice)
    assert [row[:4] for row in edits.labels().rows()] == [(2, 8, CANNOT_LINK, "review"), (2, 5, CANNOT_LINK, "unmerge")]
    assert edits.touched == {2, 5}
    # an unmerge's cannot-link replaced that yes: 8 leaves alone, as without it
    edits = edits_of({2: 2, 5: 2, 8: 2}, [(5, 8, MUST_LINK), (5, 8, CANNOT_LINK)])
    apply_answers(edits, [(2, 8, CANNOT_LINK, None)])
    assert assignment(edits, [2, 5, 8]) == {2: 2, 5: 2, 8: 8}
    # 2 is tied to 3 and 8 to 5, but nothing ties 2 to 8: {5, 8} leaves {2, 3}
    edits = edits_of({2: 2, 3: 2, 5: 2, 8: 2}, [(5, 8, MUST_LINK), (2, 3, MUST_LINK)])
    assert apply_answers(edits, [(2, 8, CANNOT_LINK, None)])["detached"] == 2
    assert assignment(edits, [2, 3, 5, 8]) == {2: 2, 3: 2, 5: 5, 8: 5}


def test_a_no_between_leads_that_yeses_chain_together_detaches_nothing() -> None:
    # 2 is 3 and 3 is 8 (people said so): "2 is not 8" contradicts them
    edits = edits_of({2: 2, 3: 2, 5: 2, 8: 2}, [(2, 3, MUST_LINK), (3, 8, MUST_LINK)])
    counts = apply_answers(edits, [(2, 8, CANNOT_LINK, "no")])
    assert counts == {MUST_LINK: 0, CANNOT_LINK: 1, **NO_EDIT, "conflicts": 1}
    assert edits.changed().is_empty() and edits.events().is_empty()
    assert edits.conflicts().rows() == [(2, 8, CANNOT_LINK, 2, 3, MUST_LINK, None)]  # the chain's step into 2
    assert edits.labels().rows() == [(2, 8, CANNOT_LINK, "review", "no")]  # kept as a label


def test_tied_follows_must_links_within_the_cluster_only() -> None:
    edits = edits_of({1: 1, 2: 1, 3: 1, 4: 1, 9: 9}, [(1, 2, MUST_LINK), (2, 3, MUST_LINK), (3, 9, MUST_LINK), (1, 4, CANNOT_LINK)])
    assert edits.tied(1) == {1: None, 2: 1, 3: 2}  # 9 is in another cluster; 4 only cannot-linked
    assert edits.tied(4) == {4: None}
    with pytest.raises(ValueError, match="not part of one cluster with other leads"):
        edits.detach_group([1, 2, 3, 4], None, "all")
    with pytest.raises(ValueError, match="not part of one cluster"):
        edits.detach_group([1, 9], None, "two clusters")


def test_stored_labels_about_other_leads_are_ignored() -> None:
    # 1-99: lead 99 is in none of the clusters read; it cannot stop a merge of 1's and 6's clusters
    edits = edits_of({1: 1, 6: 6}, [(1, 99, CANNOT_LINK), (6, 99, CANNOT_LINK)])
    assert apply_answers(edits, [(1, 6, MUST_LINK, None)])["merged"] == 1


def test_lead_ids_of_keeps_the_first_mention() -> None:
    assert lead_ids_of([(4, 9, MUST_LINK, None), (1, 4, CANNOT_LINK, "x")]) == [4, 9, 1]


def test_detach_needs_another_member() -> None:
    edits = edits_of({4: 4, 5: None})
    for lead in (4, 5):
        with pytest.raises(ValueError, match="not in a cluster with other leads"):
            edits.detach(lead, None, "alone")


def test_an_answer_recorded_already_is_not_recorded_again_but_still_applies() -> None:
    stored = pl.DataFrame({"lead_id_l": [1, 1], "lead_id_r": [6, 2], "label": [MUST_LINK, MUST_LINK],
                           "source": ["review", "review"], "note": ["  same phone ", None]})
    edits = ClusterEdits(pl.DataFrame({"lead_id": [1, 2, 6], "cluster_id": [1, 1, 6]}), stored)
    # 1-6 "yes" with the note as a file gives it now (older imports kept its spaces): recorded already;
    # it merges, as it would have the first time; 1-2 with a note now is a new answer
    counts = apply_answers(edits, [(1, 6, MUST_LINK, "same phone"), (1, 2, MUST_LINK, "checked")])
    assert counts == {MUST_LINK: 2, CANNOT_LINK: 0, **NO_EDIT, "merged": 1, "repeated": 1}
    assert edits.labels().rows() == [(1, 2, MUST_LINK, "review", "checked")]
    assert assignment(edits, [1, 2, 6]) == {1: 1, 2: 1, 6: 1}


def test_a_detach_labels_a_pair_a_rule_kept_apart_as_runs_see_labels_only() -> None:
    # 2-8: a rule's cannot-link decision (no label). A "no" about 5-8 detaches 8: its pair with 2
    # still gets the unmerge label (a later run reads labels, not old decisions); 5-8 is the answer
    rule = pl.DataFrame({"lead_id_l": [2], "lead_id_r": [8], "label": [CANNOT_LINK], "source": ["rule:different_person"], "note": [None]})
    edits = ClusterEdits(pl.DataFrame({"lead_id": [2, 5, 8], "cluster_id": [2, 2, 2]}), rule)
    apply_answers(edits, [(5, 8, CANNOT_LINK, None)])
    assert [row[:4] for row in edits.labels().rows()] == [(5, 8, CANNOT_LINK, "review"), (2, 8, CANNOT_LINK, "unmerge")]


def test_a_no_takes_the_leads_a_must_link_rule_tied_to_the_newer_lead_out_with_it() -> None:
    """A rule's must-link (the same e-mail and name) ties like a "yes" as long as it does not
    contradict the person: 8 leaves 2 with its twin 5; a "no" about the rule's own pair replaces
    the rule; when rules tie 8 back to 2 (2 = 5 = 8), the answer wins and cuts them: 8 leaves
    alone, cannot-linked to both (a chain of "yes" answers alone makes a conflict)."""
    rule = "rule:same_email_and_name"

    def stored(*pairs: tuple[int, int], source: str = rule) -> pl.DataFrame:
        return pl.DataFrame([(low, high, MUST_LINK, source, None) for low, high in pairs],
                            schema=["lead_id_l", "lead_id_r", "label", "source", "note"], orient="row")

    members = pl.DataFrame({"lead_id": [2, 5, 8, 9], "cluster_id": [2, 2, 2, 2]})
    edits = ClusterEdits(members, stored((5, 8)))
    assert apply_answers(edits, [(2, 8, CANNOT_LINK, None)])["detached"] == 2
    assert assignment(edits, [2, 5, 8, 9]) == {2: 2, 5: 5, 8: 5, 9: 2}
    assert edits.events()["detail"][0] == "review: lead 8 is not lead 2 (with 5, tied to it as the same person)"
    edits = ClusterEdits(members, stored((5, 8)))
    assert apply_answers(edits, [(5, 8, CANNOT_LINK, None)])["detached"] == 1
    assert assignment(edits, [2, 5, 8, 9]) == {2: 2, 5: 2, 8: 8, 9: 2}
    # 2 = 5 = 8 by rules, 8 = 9 by a person: 8 leaves with 9, each cannot-linked to 2 and 5 (the
    # answer is 2-8's label; the rest are unmerge labels, 5-8 included: they cut the rule's tie)
    edits = ClusterEdits(members, pl.concat([stored((2, 5), (5, 8)), stored((8, 9), source="review")]))
    counts = apply_answers(edits, [(2, 8, CANNOT_LINK, "no")])
    assert counts["conflicts"] == 0 and counts["detached"] == 2
    assert assignment(edits, [2, 5, 8, 9]) == {2: 2, 5: 2, 8: 8, 9: 8}
    assert sorted(row[:3] for row in edits.labels().rows()) == [
        (2, 8, CANNOT_LINK), (2, 9, CANNOT_LINK), (5, 8, CANNOT_LINK), (5, 9, CANNOT_LINK)]
    # a chain with a rule in it gives way (2 = 5 said by a reviewer, 5 = 8 by a rule): 8 leaves alone;
    # only a chain of people's answers makes a conflict (test above)
    edits = ClusterEdits(members, pl.concat([stored((2, 5), source="review"), stored((5, 8))]))
    assert apply_answers(edits, [(2, 8, CANNOT_LINK, "no")]) == {MUST_LINK: 0, CANNOT_LINK: 1, **NO_EDIT, "detached": 1}
    assert assignment(edits, [2, 5, 8, 9]) == {2: 2, 5: 2, 8: 8, 9: 2}


def test_a_no_cuts_only_the_rule_ties_between_the_two_sides() -> None:
    """Rules 2-5, 5-8, 8-11 (11 is tied to 8 only), a "yes" 8 = 9 and a rule 9-12: "2 is not 8"
    takes 8 out with 9, 11 and 12 (nothing ties them to 2 but through 8); 5 stays with 2, and
    only the rule tie between the sides (5-8) is cut, which the event says."""
    rule = "rule:same_email_and_name"
    stored = pl.DataFrame([(2, 5, MUST_LINK, rule, None), (5, 8, MUST_LINK, rule, None), (8, 11, MUST_LINK, rule, None),
                           (8, 9, MUST_LINK, "review", None), (9, 12, MUST_LINK, rule, None)],
                          schema=["lead_id_l", "lead_id_r", "label", "source", "note"], orient="row")
    edits = ClusterEdits(pl.DataFrame({"lead_id": [2, 5, 8, 9, 11, 12], "cluster_id": [2] * 6}), stored)
    assert apply_answers(edits, [(2, 8, CANNOT_LINK, None)])["detached"] == 4
    assert assignment(edits, [2, 5, 8, 9, 11, 12]) == {2: 2, 5: 2, 8: 8, 9: 8, 11: 8, 12: 8}
    assert edits.events()["detail"][0] == "review: lead 8 is not lead 2 (with 9, 11, 12, tied to it as the same person); rule ties cut: 5-8"
    assert edits.separated([8, 9, 2]) == [8, 9]  # 2 was not detached
    # a "no" then a "yes" about the two leads of a cluster: merged back, not separated
    edits = edits_of({3: 3, 7: 3})
    assert apply_answers(edits, [(3, 7, CANNOT_LINK, None), (3, 7, MUST_LINK, None)])["merged"] == 1
    assert edits.separated([7]) == [] and edits_of({3: 3, 7: 3, 9: None}).separated([3, 9]) == []
    # merged back while another lead left the cluster for good: only that one is separated
    trio = pl.DataFrame([(1, 2, MUST_LINK, rule, None), (1, 3, MUST_LINK, rule, None), (2, 3, MUST_LINK, rule, None)],
                        schema=["lead_id_l", "lead_id_r", "label", "source", "note"], orient="row")
    edits = ClusterEdits(pl.DataFrame({"lead_id": [1, 2, 3], "cluster_id": [1, 1, 1]}), trio)
    apply_answers(edits, [(1, 2, CANNOT_LINK, None), (1, 3, CANNOT_LINK, None), (1, 3, MUST_LINK, None)])
    assert assignment(edits, [1, 2, 3]) == {1: 1, 2: 2, 3: 1} and edits.separated([2, 3]) == [2]

"""Deterministic rules on top of the scores: which pairs the default cannot-link rules decide."""

from __future__ import annotations

import polars as pl

from matching.comparisons import LEVELS, gamma_column
from matching.configuration import DedupSettings
from matching.decisions import (
    CANNOT_LINK, DECISION, LABEL, MATCH, MUST_LINK, anchor, decide, labels_in_play, with_answers,
)
from matching.model import PROBABILITY


def decided(levels: dict[str, str | None], probability: float = 0.99) -> tuple[str, str]:
    settings = DedupSettings()
    row = {}
    for c in settings.comparisons:
        value = levels.get(c.name)
        row[gamma_column(c.name)] = None if value is None else LEVELS[c.kind].index(value)
    frame = pl.DataFrame(
        [{"lead_id_l": 1, "lead_id_r": 2, **row, PROBABILITY: probability}],
        schema={"lead_id_l": pl.Int64, "lead_id_r": pl.Int64, **{k: pl.Int8 for k in row}, PROBABILITY: pl.Float64},
    )
    out = decide(frame, settings)
    return out[DECISION][0], out["decided_by"][0]


def test_different_first_names_without_a_shared_contact_point_are_two_people() -> None:
    colleagues = {"first_name": "different", "last_name": "exact", "email": "other_domain", "phone": "shared_org"}
    assert decided(colleagues) == (CANNOT_LINK, "rule:different_person")
    assert decided(colleagues | {"phone": None, "email": None}) == (CANNOT_LINK, "rule:different_person")


def test_a_shared_mailbox_name_or_personal_phone_keeps_the_pair_for_the_model() -> None:
    # "Rsus Grifiths" / "Russell Griffiths": a mangled first name, but russell.griffiths@ at two
    # domains, or the same direct number, is the same person more often than not
    mangled = {"first_name": "different", "last_name": "close", "email": "same_local", "phone": "shared_org"}
    assert decided(mangled) == (MATCH, "model")
    assert decided(mangled | {"email": "other_domain", "phone": "exact"}) == (MATCH, "model")
    assert decided({"last_name": "different", "email": None, "phone": "exact"}) == (MATCH, "model")


def test_swapped_names_with_two_mailboxes_at_one_domain_are_two_colleagues() -> None:
    # Thomas Laurent <thomas.laurent@x> and Laurent Thomas <laurent.thomas@x>
    swapped = {"first_name": "transposed", "last_name": "transposed", "email": "different", "company": "exact"}
    assert decided(swapped) == (CANNOT_LINK, "rule:swapped_colleague")
    # a swap by mistake keeps the one address (or one side has none): left to the model
    assert decided(swapped | {"email": "exact"}) == (MUST_LINK, "rule:same_email_and_name")
    assert decided(swapped | {"email": None}) == (MATCH, "model")


def test_a_cannot_link_side_not_in_play_stands_for_its_cluster() -> None:
    labels = pl.DataFrame({
        "lead_id_l": [7, 7, 8, 1], "lead_id_r": [9, 11, 20, 2], "label": [CANNOT_LINK, MUST_LINK, CANNOT_LINK, CANNOT_LINK],
        "source": ["unmerge", "review", "unmerge", "unmerge"],
        "cluster_id_l": [3, 3, 8, None], "cluster_id_r": [5, 6, 20, 2],
    })
    out = labels_in_play(labels, pl.Series([9, 11, 20, 1]))
    assert out.columns == ["lead_id_l", "lead_id_r", "label", "source"]
    assert out.rows() == [
        (3, 9, CANNOT_LINK, "unmerge"),  # 7 is not read: its cluster 3 keeps apart from 9
        (7, 11, MUST_LINK, "review"),  # must-links only matter on candidate pairs: kept as they are
        (8, 20, CANNOT_LINK, "unmerge"),  # 8 is its cluster's id already
        (1, 2, CANNOT_LINK, "unmerge"),  # 1 is in play; 2 not read, its own cluster
    ]


def test_a_cannot_link_inside_one_cluster_is_left_out() -> None:
    # 2-8: a review "no" that conflicted (both stay in cluster 2); a run cannot honour it
    labels = pl.DataFrame({
        "lead_id_l": [2, 2, 3], "lead_id_r": [8, 9, 5], "label": [CANNOT_LINK, CANNOT_LINK, MUST_LINK],
        "source": ["review", "review", "review"], "cluster_id_l": [2, 2, 2], "cluster_id_r": [2, None, 2],
    })
    assert labels_in_play(labels, pl.Series([9])).rows() == [(2, 9, CANNOT_LINK, "review"), (3, 5, MUST_LINK, "review")]


def test_a_cannot_link_replaced_by_a_newer_must_link_keeps_nothing_apart() -> None:
    labels = pl.DataFrame({  # oldest first
        "lead_id_l": [7, 7, 4, 4, 5], "lead_id_r": [9, 9, 6, 6, 6],
        "label": [CANNOT_LINK, MUST_LINK, MUST_LINK, CANNOT_LINK, CANNOT_LINK],
        "source": ["unmerge", "review", "review", "review", "unmerge"],
        "cluster_id_l": [3, 3, 4, 4, 4], "cluster_id_r": [5, 5, 6, 6, 6],
    })
    out = labels_in_play(labels, pl.Series([9, 6]))
    assert out.rows() == [
        (7, 9, MUST_LINK, "review"),  # the unmerge's cannot-link before it is gone: cluster 3 may join 9
        (4, 6, MUST_LINK, "review"),  # history stays (a must-link keeps nothing apart) ...
        (4, 6, CANNOT_LINK, "review"),  # ... and the newer "no" holds
        (4, 6, CANNOT_LINK, "unmerge"),  # 5 stands for its cluster 4
    ]


def test_a_persons_newest_answer_anchors_the_pair_before_any_rule() -> None:
    settings = DedupSettings()
    same_email = {"email": "exact", "first_name": "exact", "last_name": "exact"}  # must-link rule same_email_and_name
    colleagues = {"first_name": "different", "last_name": "exact", "email": "other_domain", "phone": "shared_org"}  # cannot-link
    rows = []
    for pair, levels in enumerate([same_email, colleagues, same_email, {"first_name": "close"}, {"first_name": "close"}], start=1):
        gammas = {gamma_column(c.name): (LEVELS[c.kind].index(levels[c.name]) if c.name in levels else None) for c in settings.comparisons}
        rows.append({"lead_id_l": pair, "lead_id_r": 100 + pair, **gammas})
    pairs = pl.DataFrame(rows, schema={"lead_id_l": pl.Int64, "lead_id_r": pl.Int64, **{gamma_column(c.name): pl.Int8 for c in settings.comparisons}})
    labels = pl.DataFrame({  # oldest first: pair 1 answered, then unmerged; pair 5 only cannot-linked by an unmerge
        "lead_id_l": [1, 2, 1, 4, 5], "lead_id_r": [101, 102, 101, 104, 105],
        "label": [MUST_LINK, MUST_LINK, CANNOT_LINK, MUST_LINK, CANNOT_LINK],
        "source": ["review", "review", "unmerge", "review", "unmerge"],
    })
    answered = with_answers(pairs, labels)
    assert answered[LABEL].to_list() == [CANNOT_LINK, MUST_LINK, None, MUST_LINK, None]
    assert answered.select(anchor(settings).alias("anchor"))["anchor"].to_list() == [
        0.0,  # the newest label of an answered pair overrides the must-link rule
        1.0,  # an answer overrides the cannot-link rule
        1.0,  # no answer: the must-link rule
        1.0,  # an answer where no rule applies
        None,  # an unmerge's cannot-link to a cluster member is no answer about the pair: left to the EM
    ]
    assert with_answers(pairs, None)[LABEL].null_count() == pairs.height

"""flows.cli_matching: what `leadpipe explain A --with B` says for each kind of pair, and how review import names its conflicts."""

from __future__ import annotations

from datetime import datetime

import polars as pl
from rich.console import Console

from flows.cli_matching import (
    _apart_line,
    _blocks_table,
    _comparison_line,
    _conflict_rows,
    _converted_line,
    _edit_lines,
    _pair_verdict,
)
from flows.dedupe_run import PairExplanation
from matching.edits import CONFLICTS
from warehouse.clusters import LABELS_TOUCHING

BLOCKS = {"rule": pl.String, "key": pl.String, "block": pl.UInt64, "size": pl.Int64, "cap": pl.Int64, "within_cap": pl.Boolean}


def pair(clusters: tuple[int | None, int | None], *, blocks: list[tuple] = (), sizes_known: bool = True,
         stored: str | None = None, now: str | None = None, labels: list[str] = (), apart_by: list[tuple] = ()) -> PairExplanation:
    """Leads 1 and 2 in the given clusters; ``stored``/``now``: the decisions of those scores."""
    return PairExplanation(
        leads=pl.DataFrame({"lead_id": [1, 2], "cluster_id": list(clusters)}, schema={"lead_id": pl.Int64, "cluster_id": pl.Int64}),
        blocks=pl.DataFrame(list(blocks), schema=BLOCKS, orient="row"),
        sizes_known=sizes_known,
        stored=None if stored is None else {"decision": stored},
        now=None if now is None else {"decision": now},
        labels=pl.DataFrame({"label": list(labels), "source": ["review"] * len(labels), "note": [None] * len(labels),
                             "created_at": [datetime(2026, 12, 1)] * len(labels)}, schema_overrides={"note": pl.String}),
        apart_by=pl.DataFrame(list(apart_by), schema=LABELS_TOUCHING, orient="row"),
        comparisons=[],
    )


EMAIL = ("email", "a@x.com", 1, 2, 30, True)
SWITCHBOARD = ("phone", "+15550001", 2, 40, 30, False)


def test_the_verdict_names_what_ties_or_parts_two_leads() -> None:
    assert _pair_verdict(pair((1, 1), stored="match")) == "Both leads are in cluster 1: duplicates."
    assert "tied through other members" in _pair_verdict(pair((1, 1), stored="review", now="review"))
    assert "as a person labelled them" in _pair_verdict(pair((1, 1), labels=["cannot_link", "must_link"]))
    # the newest label counts: labelled different people, then merged again
    assert "although the newest label says different people: a review answer that conflicted" in _pair_verdict(
        pair((1, 1), labels=["must_link", "cannot_link"]))
    assert _pair_verdict(pair((1, 2))) == "Different clusters (1 and 2): not duplicates."
    assert _pair_verdict(pair((1, 2), labels=["must_link", "cannot_link"])) == "Different clusters (1 and 2): not duplicates."
    assert "although the newest label says the same person" in _pair_verdict(pair((1, 2), labels=["cannot_link", "must_link"]))
    assert "lead 2 has not been through a dedup run" in _pair_verdict(pair((1, None)))
    assert "lead 1 and lead 2 have not been through a dedup run" in _pair_verdict(pair((None, None)))


def test_the_comparison_line_says_whether_a_run_compares_them() -> None:
    assert "share no blocking key" in _comparison_line(pair((1, 2)))
    # two clustered leads: never compared again, whatever the caps
    assert "no run compares two clustered leads again" in _comparison_line(pair((1, 2), blocks=[EMAIL], stored="non_match"))
    clustered = _comparison_line(pair((1, 2), blocks=[SWITCHBOARD]))
    assert "Both are clustered and no run compared them" in clustered and "max_block_size" not in clustered
    # a lead waiting for the next run
    assert _comparison_line(pair((1, None), blocks=[EMAIL, SWITCHBOARD])) == "The next dedup run compares them (email)."
    assert "the next run does not compare them" in _comparison_line(pair((1, None), blocks=[SWITCHBOARD]))
    unknown = _comparison_line(pair((1, None), blocks=[("email", "a@x.com", 1, None, 30, None)], sizes_known=False))
    assert "known only then" in unknown


def test_the_apart_line_explains_a_match_in_two_clusters() -> None:
    assert _apart_line(pair((1, 2), stored="non_match", now="non_match")) is None
    assert _apart_line(pair((1, 1), stored="match")) is None
    assert _apart_line(pair((1, None), now="match")) is None  # not clustered yet: the next run decides
    tie = (1, 7, "cannot_link", "unmerge", 1, 2, "two people")
    said = _apart_line(pair((1, 2), stored="match", apart_by=[tie]))
    assert said == "They match, but cannot-link labels between their clusters keep them apart: lead 1 and lead 7 (unmerge)."
    assert "a run split them apart" in _apart_line(pair((1, 2), now="must_link"))


def test_keys_and_notes_with_brackets_print_as_written() -> None:
    console = Console(record=True, width=200)
    console.print(_blocks_table(pair((1, None), blocks=[("name", "[bold]x[/]", 1, 2, 30, True)])))
    assert "[bold]x[/]" in console.export_text()


def test_conflicting_answers_are_named_with_the_label_that_stopped_each() -> None:
    conflicts = pl.DataFrame([(2, 6, "must_link", 1, 6, "cannot_link", "unmerge"), (2, 8, "cannot_link", 2, 3, "must_link", "review"),
                              (4, 9, "must_link", 4, 7, "cannot_link", "rule:different_person")], schema=CONFLICTS, orient="row")
    assert _conflict_rows(conflicts).rows() == [
        ("2 and 6", "match", "leads 1 and 6 are labelled not a match, one in each cluster"),
        ("2 and 8", "not a match", "match labels tie the two leads through other members of their cluster (leads 2 and 3 are labelled match)"),
        ("4 and 9", "match", "a rule (different_person) decided leads 4 and 7 are different people, one in each cluster"),
    ]


def test_review_import_names_each_merge_and_the_leads_each_answer_detached() -> None:
    events = pl.DataFrame(
        [("unmerge", 1072, 1111, 1111, "review: lead 1111 is not lead 1072 (with 1131, 1163, tied to it as the same person)"),
         ("unmerge", 1072, 1111, 1131, "review: lead 1111 is not lead 1072 (with 1131, 1163, tied to it as the same person)"),
         ("unmerge", 1072, 1111, 1163, "review: lead 1111 is not lead 1072 (with 1131, 1163, tied to it as the same person)"),
         ("merge", 8, 92, None, "review: lead 8 is lead 92"),
         # 2 = 8 said before, then 5 is not 8: 8 leaves with 2, which held the cluster's id
         ("unmerge", 5, 2, 2, "review: lead 8 is not lead 5 (with 2, tied to it as the same person)"),
         ("unmerge", 5, 2, 8, "review: lead 8 is not lead 5 (with 2, tied to it as the same person)"),
         # two edits alike in a row (a file cannot answer one pair twice differently any more, but
         # lines must never merge two edits): each its own line
         ("unmerge", 3, 960, 960, "review: lead 960 is not lead 3"),
         ("merge", 3, 960, None, "review: lead 3 is lead 960"),
         ("unmerge", 3, 960, 960, "review: lead 960 is not lead 3")],
        schema={"event": pl.String, "cluster_id": pl.Int64, "other_cluster_id": pl.Int64, "lead_id": pl.Int64, "detail": pl.String},
        orient="row",
    )
    assert _edit_lines(events) == [
        "detached lead(s) 1111, 1131, 1163 from cluster 1072: now cluster 1111 "
        "(review: lead 1111 is not lead 1072 (with 1131, 1163, tied to it as the same person))",
        "merged cluster 92 into 8 (review: lead 8 is lead 92)",
        # the detached part kept the id
        "detached lead(s) 2, 8 from cluster 2: now cluster 2, the rest cluster 5 (review: lead 8 is not lead 5 (with 2, tied to it as the same person))",
        "detached lead(s) 960 from cluster 3: now cluster 960 (review: lead 960 is not lead 3)",
        "merged cluster 960 into 3 (review: lead 3 is lead 960)",
        "detached lead(s) 960 from cluster 3: now cluster 960 (review: lead 960 is not lead 3)",
    ]
    assert _edit_lines(events.head(0)) == []
    many = pl.concat([events.tail(2).with_columns(pl.lit(n).alias("cluster_id")) for n in range(30)])
    lines = _edit_lines(many)
    assert len(lines) == 21 and lines[-1].startswith("... and 40 more merge(s) or detachment(s)")


def test_a_detach_names_the_leads_that_stay_converted() -> None:
    assert _converted_line(pl.DataFrame(schema={"lead_id": pl.Int64, "converted_contact_id": pl.Int64})) is None
    line = _converted_line(pl.DataFrame({"lead_id": [1131, 1163], "converted_contact_id": [6, 6]}))
    assert line is not None and line.startswith("still converted: lead(s) 1131 (contact 6), 1163 (contact 6).")

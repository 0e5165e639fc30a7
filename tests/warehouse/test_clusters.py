"""warehouse.clusters: the reads a dedup run makes of the leads table."""

from __future__ import annotations

import polars as pl

import warehouse.clusters as wc
from matching.comparisons import term_frequencies
from matching.configuration import DedupSettings
from warehouse.connection import Warehouse
from warehouse.migrations import migrate

#: (first name, last name, company key): case and spaces differ, some values are missing or empty
ROWS = [
    ("Anna", "Smith", "acme"), ("anna", " SMITH", "acme"), (" ANNA ", "Smith ", "globex"), (None, "smith", None),
    ("Bob", "O'Brien", "acme"), ("Zoë", "Müller", "initech"), ("zoë", "", "initech"), ("", "Lee", "acme"),
]


def _warehouse(wh: Warehouse) -> None:
    migrate(wh)
    for i, (first, last, company) in enumerate(ROWS, start=1):
        wh.execute(
            "INSERT INTO leads (lead_id, batch_id, source_file, source_kind, source_row, first_name, last_name, company, "
            "company_key, created_at, updated_at) VALUES (?, 1, 'f', 'bulk', ?, ?, ?, 'Co', ?, now()::TIMESTAMP, now()::TIMESTAMP)",
            [i, i, first, last, company],
        )


def test_term_frequencies_count_every_lead_as_the_comparisons_do() -> None:
    """The counts read from the warehouse equal those the comparisons take from the records
    themselves (lower-cased, trimmed, empty = missing), for the values asked for only."""
    settings = DedupSettings()
    with Warehouse.open(":memory:") as wh:
        _warehouse(wh)
        leads = wh.frame("SELECT lead_id, first_name, last_name, company_key FROM leads")
        for comparison in settings.comparisons:
            if comparison.field not in leads.columns:
                continue
            expected = term_frequencies(leads, comparison)
            asked = pl.concat([expected["value"], pl.Series(["zz-not-held", None])])
            counted = wc.term_frequencies(wh, {comparison.field: asked})[comparison.field]
            assert counted.sort("value").equals(expected.select("value", "tf", "count").sort("value")), comparison.field
    # and by hand for the first names: three Annas and two Zoës of the six leads with a first name
    with Warehouse.open(":memory:") as wh:
        _warehouse(wh)
        counted = wc.term_frequencies(wh, {"first_name": pl.Series(["anna", "zoë", "carl"])})["first_name"].sort("value")
    assert counted.rows() == [("anna", 3 / 6, 3), ("zoë", 2 / 6, 2)]


def test_labels_touching_has_one_shape_with_and_without_labels() -> None:
    with Warehouse.open(":memory:") as wh:
        _warehouse(wh)
        wh.execute("UPDATE leads SET cluster_id = CASE WHEN lead_id <= 2 THEN 1 ELSE lead_id END")
        none = wc.labels_touching(wh, pl.Series([1, 5], dtype=pl.Int64), pl.Series([1], dtype=pl.Int64))
        assert none.is_empty() and none.schema == pl.Schema(wc.LABELS_TOUCHING)
        labels = pl.DataFrame({"lead_id_l": [2, 6], "lead_id_r": [3, 7], "label": ["cannot_link", "must_link"],
                               "source": ["unmerge", "review"], "note": [None, None]})
        wc.insert_labels(wh, labels)
        # lead 2 is not asked for, but its cluster (1) is; the label between 6 and 7 touches neither
        found = wc.labels_touching(wh, pl.Series([5], dtype=pl.Int64), pl.Series([1], dtype=pl.Int64))
        assert found.schema == pl.Schema(wc.LABELS_TOUCHING)
        assert found.rows() == [(2, 3, "cannot_link", "unmerge", 1, 3, None)]


def test_the_reads_of_explain_pair() -> None:
    """``stored_pair`` gives a pair's newest row; ``labels_between`` the two leads' labels, oldest
    first; ``stored_keys_sharing`` gives every stored key of the blocks, one held twice twice."""
    with Warehouse.open(":memory:") as wh:
        _warehouse(wh)
        assert wc.stored_pair(wh, 1, 2) is None
        for at, probability in (("2026-01-01", 0.1), ("2026-01-02", 0.9), ("2025-12-31", 0.5)):
            wh.execute(
                "INSERT INTO match_pairs (lead_id_l, lead_id_r, blocking_rules, prior_weight, match_weight, match_probability, decision, "
                "decided_by, created_at) VALUES (1, 2, ['email'], 0, 0, ?, 'match', 'model', ?::TIMESTAMP)", [probability, at],
            )
        assert wc.stored_pair(wh, 1, 2)["match_probability"] == 0.9
        assert wc.stored_pair(wh, 2, 1) is None  # lead_id_l < lead_id_r, as stored
        wc.insert_labels(wh, pl.DataFrame({"lead_id_l": [1, 1, 3], "lead_id_r": [2, 2, 4], "label": ["must_link", "cannot_link", "must_link"],
                                           "source": ["review", "unmerge", "review"], "note": ["same", None, None]}))
        assert wc.labels_between(wh, 1, 2).select("label", "source", "note").rows() == [("must_link", "review", "same"), ("cannot_link", "unmerge", None)]
        # lead 3 holds block 7 twice (a phone and a mobile ending alike): it counts twice, as in a run
        keys = pl.DataFrame({"lead_id": [1, 2, 3, 3, 4, 2], "rule": ["last7"] * 5 + ["phone"], "key": ["k"] * 5 + ["p"],
                             "block": pl.Series([7, 7, 7, 7, 9, 8], dtype=pl.UInt64)})
        wc.insert_keys(wh, keys)
        holders = wc.stored_keys_sharing(wh, pl.Series([7, 9, 10], dtype=pl.UInt64))
        assert holders.rows() == [(1, 7), (2, 7), (3, 7), (3, 7), (4, 9)]  # no lead holds 10


def test_stored_level_patterns_take_each_pairs_newest_label_by_time_then_order() -> None:
    """The refit reads a pair's answer as every other reader does: its newest label by
    ``created_at``, then by the order stored (not by the order stored alone)."""
    with Warehouse.open(":memory:") as wh:
        _warehouse(wh)
        for left, right in ((1, 2), (3, 4)):
            wh.execute(
                "INSERT INTO match_pairs (lead_id_l, lead_id_r, blocking_rules, level_email, prior_weight, match_weight, match_probability, "
                "decision, decided_by, created_at) VALUES (?, ?, ['email'], 'exact', 0, 0, 0.5, 'review', 'model', now()::TIMESTAMP)",
                [left, right],
            )
        for left, right, label, at in ((1, 2, "must_link", "2026-03-02"), (1, 2, "cannot_link", "2026-03-01"),
                                        (3, 4, "cannot_link", "2026-03-01"), (3, 4, "must_link", "2026-03-01")):
            wh.execute("INSERT INTO match_labels VALUES (?, ?, ?, 'review', NULL, ?::TIMESTAMP)", [left, right, label, at])
        patterns = wc.stored_level_patterns(wh, ["email"], "review")
        # 1-2: the "no" stored later but dated earlier; 3-4: one time, the "yes" stored last
        assert patterns.rows() == [("exact", "must_link", 2)]


def test_cluster_history_follows_the_clusters_a_cluster_came_from() -> None:
    """Cluster 1 (leads 1, 2) absorbs cluster 5 (leads 5, 6); lead 1, whose id the cluster had, is
    unmerged, so the rest takes id 2; then each part gains a lead. Cluster 2's history is the old
    cluster 1's up to the unmerge, and cluster 5's up to the merge; the detached lead's cluster 1
    keeps its own events but none of cluster 2's. A lead detached without the id (22) looks back at
    the cluster it left (20) up to its unmerge."""
    events = [
        ("create", 1, None, 1), ("join", 1, None, 2), ("create", 5, None, 5), ("join", 5, None, 6), ("merge", 1, 5, None),
        ("create", 20, None, 20), ("join", 20, None, 22), ("unmerge", 2, 1, 1), ("unmerge", 20, 22, 22),
        ("join", 2, None, 9), ("join", 1, None, 10), ("join", 20, None, 23),
    ]
    with Warehouse.open(":memory:") as wh:
        migrate(wh)
        wc.insert_events(wh, pl.DataFrame(events, schema=["event", "cluster_id", "other_cluster_id", "lead_id"], orient="row")
                         .with_columns(pl.lit("d").alias("detail")))

        def history(cluster: int) -> list[int]:
            return wc.cluster_history(wh, [cluster])["event_id"].to_list()

        assert history(2) == [1, 2, 3, 4, 5, 8, 10]
        assert history(1) == [1, 2, 3, 4, 5, 8, 11]
        assert history(22) == [6, 7, 9]
        assert history(20) == [6, 7, 9, 12]
        assert history(5) == [3, 4, 5]  # an absorbed id: its own events and the merge that ended it
        assert history(99) == []

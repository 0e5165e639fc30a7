from __future__ import annotations

import polars as pl

from matching.configuration import DedupSettings
from matching.dedupe import DEDUP_COLUMNS, assign_clusters


def leads(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=dict(zip(DEDUP_COLUMNS, [pl.Int64, pl.Int64, pl.String, pl.String, pl.String, pl.String], strict=True)), orient="row")


def test_email_and_name_phone_link_within_batch() -> None:
    frame = leads([
        (1, None, "anna@x.com", "Anna", "Schmidt", None),
        (2, None, "anna@x.com", "Anna", "Schmidt", "+4930123456"),
        (3, None, None, "anna", "SCHMIDT", "+4930123456"),  # same name+phone as 2
        (4, None, "bob@x.com", "Bob", "Jones", "+4930123456"),  # colleague sharing the phone: no link
    ])
    result = assign_clusters(frame, DedupSettings()).lead_clusters
    assert result["cluster_id"].to_list() == [1, 1, 1, 4]


def test_new_lead_joins_existing_cluster_and_older_id_survives_merge() -> None:
    frame = leads([
        (10, 10, "a@x.com", "A", "One", None),
        (11, 10, "a2@x.com", "A", "One", None),
        (20, 20, "b@x.com", "B", "Two", None),
        (30, None, "a2@x.com", "A", "One", None),  # joins cluster 10
        (31, None, "b@x.com", "A", "One", None),  # bridges 10 and 20? only via email b -> 20
        (32, None, "b@x.com", "X", "Y", None),
    ])
    result = assign_clusters(frame, DedupSettings())
    clusters = dict(zip(result.lead_clusters["lead_id"], result.lead_clusters["cluster_id"], strict=True))
    assert clusters[30] == 10
    assert clusters[31] == clusters[32] == 20
    assert result.cluster_merges.height == 0


def test_merge_of_two_existing_clusters_keeps_the_older_id() -> None:
    frame = leads([
        (10, 10, "a@x.com", None, "One", None),
        (20, 20, "b@x.com", None, "Two", None),
        (30, None, "a@x.com", "Q", "Q", "+1"),
        (31, None, "b@x.com", "Q", "Q", "+1"),  # name+phone links 30 and 31: clusters 10 and 20 merge
    ])
    result = assign_clusters(frame, DedupSettings())
    assert set(result.lead_clusters["cluster_id"]) == {10}
    assert result.cluster_merges.to_dicts() == [{"old_cluster_id": 20, "new_cluster_id": 10}]


def test_rules_can_be_switched_off() -> None:
    frame = leads([(1, None, "a@x.com", "A", "B", None), (2, None, "a@x.com", "A", "B", None)])
    result = assign_clusters(frame, DedupSettings(match_email=False)).lead_clusters
    assert result["cluster_id"].to_list() == [1, 2]

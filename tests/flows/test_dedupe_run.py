"""The dedup stage against a real warehouse: incremental runs, stable ids, labels, crash safety, CLI."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

import warehouse.clusters as wc
from benchmarks.generate_leads import generate_leads
from flows.cli import app, sample_files
from flows.dedupe_run import (
    DedupResult,
    _log_oversized,
    check_settings,
    explain,
    explain_pair,
    export_review,
    import_review,
    refit,
    run_dedupe,
    still_converted,
    unmerge,
)
from matching.blocking import blocking_keys, candidate_pairs
from matching.comparisons import LEVELS, MISSING
from matching.configuration import BlockingRule, Comparison, DedupSettings, LinkRule, Survivorship
from matching.decisions import CANNOT_LINK, MATCH, MUST_LINK, NON_MATCH, REVIEW
from matching.engine import MATCH_COLUMNS
from matching.golden import GOLDEN_FIELDS, GOLDEN_INPUT, golden_records
from matching.model import MatchModel
from transforms.configuration import IngestSettings
from transforms.errors import ConfigError, MatchingError
from transforms.ingest import describe_source, prepare_batch
from warehouse.batches import load_batch
from warehouse.connection import Warehouse
from warehouse.migrations import migrate
from warehouse.status import matching_summary

SETTINGS = DedupSettings()
GOLDEN_COLUMNS = ("cluster_id", "lead_count", "lead_ids", "source_kinds", "first_seen_at", "last_seen_at", *GOLDEN_FIELDS, "provenance")
INGEST = IngestSettings()


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Three files of one generated population: duplicates across and within files."""
    frame = generate_leads(2_400, dup_rate=0.2, seed=5, noise="hard").drop("record_id", "entity_id")
    folder = tmp_path_factory.mktemp("leads")
    paths = []
    for i, part in enumerate((frame.slice(0, 1200), frame.slice(1200, 800), frame.slice(2000, 400))):
        path = folder / f"part{i}.csv"
        part.write_csv(path)
        paths.append(path)
    return paths


def load(wh: Warehouse, path: Path) -> None:
    load_batch(wh, prepare_batch(describe_source(path, INGEST, "bulk"), INGEST))


def first_run(wh: Warehouse, files: list[Path]) -> None:
    """A new warehouse with the first file loaded and clustered."""
    migrate(wh)
    load(wh, files[0])
    run_dedupe(wh, SETTINGS)


def clusters(wh: Warehouse) -> dict[int, int]:
    return dict(wh.rows("SELECT lead_id, cluster_id FROM leads ORDER BY lead_id"))


def pairs_table(wh: Warehouse) -> pl.DataFrame:
    return wh.frame("SELECT * EXCLUDE (created_at) FROM match_pairs ORDER BY lead_id_l, lead_id_r")


def test_incremental_runs_keep_ids_stable_and_compare_only_new_pairs(files: list[Path], tmp_path: Path) -> None:
    with Warehouse.open(tmp_path / "w.duckdb") as wh:
        migrate(wh)
        load(wh, files[0])
        first = run_dedupe(wh, SETTINGS)
        assert first.new_leads == wh.scalar("SELECT count(*) FROM leads") and first.linked_pairs > 0
        before = clusters(wh)
        pairs_before = wh.scalar("SELECT count(*) FROM match_pairs")
        load(wh, files[1])
        second = run_dedupe(wh, SETTINGS)
        after = clusters(wh)
        merged = dict(wh.rows("SELECT other_cluster_id, cluster_id FROM cluster_events WHERE event = 'merge'"))
        for lead, cluster in before.items():
            # an existing lead keeps its cluster id unless its cluster merged into an older one
            assert after[lead] == merged.get(cluster, cluster)
            assert after[lead] <= cluster
        # every new pair has at least one new lead: nothing old was compared again
        new_ids = set(after) - set(before)
        fresh = wh.frame("SELECT lead_id_l, lead_id_r FROM match_pairs").slice(pairs_before)
        assert all(l in new_ids or r in new_ids for l, r in fresh.iter_rows())
        assert second.joined > 0  # new leads found duplicates among the old ones
        # the new leads without a duplicate are those alone in their cluster
        sizes = wh.frame("SELECT cluster_id, count(*) AS n FROM leads GROUP BY cluster_id")
        alone = [lead for lead in new_ids if sizes.filter(pl.col("cluster_id") == after[lead])["n"].item() == 1]
        assert second.without_duplicate == len(alone) > 0
        # the cluster id is the smallest lead id of its members, and every cluster has a golden record
        assert wh.scalar("SELECT count(*) FROM (SELECT cluster_id, min(lead_id) m FROM leads GROUP BY 1) WHERE cluster_id <> m") == 0
        assert wh.scalar("SELECT count(*) FROM lead_golden") == wh.scalar("SELECT count(DISTINCT cluster_id) FROM leads")
        assert wh.scalar("SELECT count(DISTINCT lead_id) FROM lead_blocking_keys") == wh.scalar("SELECT count(*) FROM leads")
        # only the changed clusters were rebuilt, yet every golden record is what a full rebuild gives
        stored = wh.frame(f"SELECT {', '.join(GOLDEN_COLUMNS)} FROM lead_golden ORDER BY cluster_id")
        rebuilt = golden_records(wh.frame(f"SELECT {', '.join(GOLDEN_INPUT)} FROM leads"), SETTINGS.survivorship)
        assert stored.equals(rebuilt.select(GOLDEN_COLUMNS))
        # nothing new: a run with no new leads changes nothing
        assert run_dedupe(wh, SETTINGS).new_leads == 0
        assert clusters(wh) == after


def test_a_load_and_a_dedup_run_write_into_the_file_not_the_log(files: list[Path], tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    wal = Path(f"{db}.wal")
    with Warehouse.open(db) as wh:
        migrate(wh)
        wh.checkpoint()
        load(wh, files[0])
        assert not wal.exists() or wal.stat().st_size == 0
        result = run_dedupe(wh, SETTINGS)
        assert result.candidate_pairs > 0
        assert not wal.exists() or wal.stat().st_size == 0
        stored = (wh.scalar("SELECT count(*) FROM match_pairs"), clusters(wh))
    with Warehouse.open(db) as wh:
        assert (wh.scalar("SELECT count(*) FROM match_pairs"), clusters(wh)) == stored
        assert None not in stored[1].values()


def test_two_runs_give_identical_pairs_and_clusters(files: list[Path], tmp_path: Path) -> None:
    results = []
    for name in ("a", "b"):
        with Warehouse.open(tmp_path / f"{name}.duckdb") as wh:
            migrate(wh)
            for path in files[:2]:
                load(wh, path)
                run_dedupe(wh, SETTINGS)
            results.append((pairs_table(wh), clusters(wh)))
    assert results[0][0].equals(results[1][0])
    assert results[0][1] == results[1][1]


def test_a_crash_while_writing_leaves_nothing_behind(files: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with Warehouse.open(tmp_path / "w.duckdb") as wh:
        migrate(wh)
        load(wh, files[2])

        def boom(*args: object, **kwargs: object) -> int:
            raise RuntimeError("disk full")

        monkeypatch.setattr(wc, "insert_events", boom)
        with pytest.raises(RuntimeError):
            run_dedupe(wh, SETTINGS)
        assert wh.scalar("SELECT count(*) FROM leads WHERE cluster_id IS NOT NULL") == 0
        for table in ("match_pairs", "lead_blocking_keys", "lead_golden", "match_models"):
            assert wh.scalar(f"SELECT count(*) FROM {table}") == 0
        monkeypatch.undo()
        assert run_dedupe(wh, SETTINGS).new_leads == wh.scalar("SELECT count(*) FROM leads")


def biggest_cluster(wh: Warehouse) -> tuple[int, list[int]]:
    cluster = wh.scalar("SELECT cluster_id FROM leads GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1")
    return cluster, [r[0] for r in wh.rows("SELECT lead_id FROM leads WHERE cluster_id = ? ORDER BY 1", [cluster])]


def test_unmerge_detaches_and_later_runs_keep_the_lead_apart(files: list[Path], tmp_path: Path) -> None:
    with Warehouse.open(tmp_path / "w.duckdb") as wh:
        first_run(wh, files)
        cluster, members = biggest_cluster(wh)
        assert len(members) >= 2
        own, rest = unmerge(wh, SETTINGS, cluster, note="two people")  # detach the oldest: the id moves on
        assert (own, rest) == (cluster, members[1])
        assert wh.scalar("SELECT cluster_id FROM leads WHERE lead_id = ?", [cluster]) == cluster
        assert {r[0] for r in wh.rows("SELECT cluster_id FROM leads WHERE lead_id IN (SELECT unnest(?))", [members[1:]])} == {rest}
        assert wh.scalar("SELECT count(*) FROM match_labels WHERE label = 'cannot_link' AND source = 'unmerge'") == len(members) - 1
        assert wh.scalar("SELECT count(*) FROM cluster_events WHERE event = 'unmerge'") == 1
        # the rest's history still tells how its members came together (filed under the old id)
        history = explain(wh, SETTINGS, members[1]).history
        assert history["event"].to_list()[-1] == "unmerge" and history.height > 1
        assert set(history.filter(pl.col("event") != "unmerge")["cluster_id"]) == {cluster}
        # a new copy of the detached lead links to it, but the cannot-links keep the clusters apart
        copy = wh.frame("SELECT first_name, last_name, email, company FROM leads WHERE lead_id = ?", [cluster])
        path = tmp_path / "copy.csv"
        copy.rename({"first_name": "First Name", "last_name": "Last Name", "email": "Email", "company": "Company"}).write_csv(path)
        load(wh, path)
        run_dedupe(wh, SETTINGS)
        assert wh.scalar("SELECT cluster_id FROM leads WHERE lead_id = ?", [members[1]]) == rest
        assert wh.scalar("SELECT cluster_id FROM leads WHERE lead_id = ?", [cluster]) == cluster
        # explained: the label, and the pair decided by it now whatever the model says
        apart = explain_pair(wh, SETTINGS, members[1], cluster)
        assert apart.labels.select("label", "source", "note").rows() == [(CANNOT_LINK, "unmerge", "two people")]
        assert not apart.same_cluster and apart.now is not None
        assert (apart.now["decision"], apart.now["decided_by"]) == (CANNOT_LINK, "label:unmerge")
        # the unmerge's cannot-links are between the two clusters: each keeps them apart
        between = explain_pair(wh, SETTINGS, members[-1], cluster)
        assert between.apart_by.height == len(members) - 1 and set(between.apart_by["source"]) == {"unmerge"}
        assert set(between.apart_by["lead_id_l"]) == {cluster} and set(between.apart_by["lead_id_r"]) == set(members[1:])
        with pytest.raises(MatchingError, match="nothing to unmerge"):
            unmerge(wh, SETTINGS, wh.scalar("SELECT max(lead_id) FROM leads WHERE cluster_id = lead_id "
                                             "AND lead_id NOT IN (SELECT cluster_id FROM leads WHERE lead_id <> cluster_id)"))
        with pytest.raises(MatchingError, match="no lead"):
            unmerge(wh, SETTINGS, 10**9)


def test_a_review_yes_across_an_unmerge_is_kept_as_a_label_but_merges_nothing(files: list[Path], tmp_path: Path) -> None:
    with Warehouse.open(tmp_path / "w.duckdb") as wh:
        first_run(wh, files)
        _, members = biggest_cluster(wh)
        assert len(members) >= 3
        unmerge(wh, SETTINGS, members[-1], note="two people")
        before = warehouse_state(wh)
        # a reviewer says the detached lead is the second member: the unmerge said it is none of them
        path = tmp_path / "review.csv"
        path.write_text(f"lead_id_l,lead_id_r,label,note\n{members[1]},{members[-1]},yes,same phone\n", encoding="utf-8")
        done = import_review(wh, SETTINGS, path)
        assert done.counts == {MUST_LINK: 1, CANNOT_LINK: 0, "merged": 0, "detached": 0, "conflicts": 1, "repeated": 0}
        assert done.conflicts.rows() == [(members[1], members[-1], MUST_LINK, members[0], members[-1], CANNOT_LINK, "unmerge")]
        assert matching_summary(wh)["labelled pairs the clusters do not follow"] == 1  # status shows it later
        after = warehouse_state(wh)
        assert after["clusters"] == before["clusters"] and after["events"] == before["events"]
        assert after["golden"].equals(before["golden"])
        # the answer is stored, and is the newest label of its pair
        assert after["labels"] == sorted([*before["labels"], (members[1], members[-1], MUST_LINK, "review", "same phone")])
        pair = explain_pair(wh, SETTINGS, members[1], members[-1])
        assert pair.newest_label == MUST_LINK and not pair.same_cluster
        # kept apart by the unmerge's other cannot-links, no longer by the one the answer replaced
        apart = set(pair.apart_by.select("lead_id_l", "lead_id_r").rows())
        assert (members[0], members[-1]) in apart and (members[1], members[-1]) not in apart
        # a later answer that the first member is the detached lead too lifts the conflict: it merges
        path.write_text(f"lead_id_l,lead_id_r,label\n{members[0]},{members[-1]},yes\n", encoding="utf-8")
        assert import_review(wh, SETTINGS, path).counts["conflicts"] == (1 if len(members) > 3 else 0)


def test_a_review_yes_does_not_merge_across_a_rules_cannot_link(files: list[Path], tmp_path: Path) -> None:
    with Warehouse.open(tmp_path / "w.duckdb") as wh:
        first_run(wh, files)
        cluster, members = biggest_cluster(wh)
        alone = wh.scalar("SELECT min(lead_id) FROM leads WHERE cluster_id <> ?", [cluster])
        # a run's rule decided that the cluster's first lead and the other lead are different people
        low, high = sorted((members[0], alone))
        wh.execute(
            "INSERT INTO match_pairs (lead_id_l, lead_id_r, blocking_rules, prior_weight, match_weight, match_probability, decision, "
            "decided_by, created_at) VALUES (?, ?, ['phone'], 0, 0, 0.9, 'cannot_link', 'rule:different_person', now()::TIMESTAMP)",
            [low, high],
        )
        before = warehouse_state(wh)
        path = tmp_path / "review.csv"
        path.write_text(f"lead_id_l,lead_id_r,label\n{members[-1]},{alone},yes\n", encoding="utf-8")
        done = import_review(wh, SETTINGS, path)
        assert done.counts["conflicts"] == 1 and done.counts["merged"] == 0
        assert done.conflicts.select("blocked_by_l", "blocked_by_r", "blocked_by", "blocked_by_source").rows() == [
            (low, high, CANNOT_LINK, "rule:different_person")]
        assert warehouse_state(wh)["clusters"] == before["clusters"]
        # a person's answer about that very pair overrides the rule: then the yes merges
        path.write_text(f"lead_id_l,lead_id_r,label\n{low},{high},yes\n", encoding="utf-8")
        assert import_review(wh, SETTINGS, path).counts["merged"] == 1


def test_a_review_no_detaches_the_leads_a_must_link_rule_ties_to_the_newer_lead(tmp_path: Path) -> None:
    """A rule's must-link (the same e-mail and name) says two leads are one person: a "no" between
    the cluster's first lead and one of them takes both out, not one (the twin left behind would
    say the opposite of the answer)."""
    with Warehouse.open(tmp_path / "w.duckdb") as wh:
        migrate(wh)
        for path in map(Path, sample_files()):  # the bundled samples: the generated files' rule ties all start at the first lead
            load(wh, path)
        run_dedupe(wh, SETTINGS)
        twins = wh.rows(
            "SELECT p.lead_id_l, p.lead_id_r, a.cluster_id FROM match_pairs p JOIN leads a ON a.lead_id = p.lead_id_l "
            "JOIN leads b ON b.lead_id = p.lead_id_r WHERE p.decision = 'must_link' AND p.decided_by LIKE 'rule:%' "
            "AND a.cluster_id = b.cluster_id AND a.cluster_id < p.lead_id_l "
            "AND NOT EXISTS (SELECT 1 FROM match_pairs q WHERE q.decision = 'must_link' AND a.cluster_id IN (q.lead_id_l, q.lead_id_r) "
            "AND (p.lead_id_l IN (q.lead_id_l, q.lead_id_r) OR p.lead_id_r IN (q.lead_id_l, q.lead_id_r))) ORDER BY 3, 1, 2 LIMIT 1"
        )
        assert twins, "the generated files hold a cluster whose first lead no rule ties to a rule-tied pair"
        low, high, cluster = twins[0]
        path = tmp_path / "review.csv"
        path.write_text(f"lead_id_l,lead_id_r,label\n{cluster},{high},no\n", encoding="utf-8")
        done = import_review(wh, SETTINGS, path)
        assert done.counts["detached"] >= 2 and done.counts["conflicts"] == 0
        after = clusters(wh)
        assert after[low] == after[high] != after[cluster] == cluster
        assert "tied to it as the same person" in wh.scalar("SELECT max(detail) FROM cluster_events WHERE event = 'unmerge'")
    # a "no" between the twins themselves replaces the rule's decision about them, and rules that
    # still chain them through a third lead give way to the person: the newer twin leaves
    with Warehouse.open(tmp_path / "w2.duckdb") as wh:
        migrate(wh)
        for sample in map(Path, sample_files()):
            load(wh, sample)
        run_dedupe(wh, SETTINGS)
        third = wh.scalar("SELECT count(*) FROM leads WHERE cluster_id = ? AND lead_id NOT IN (?, ?, ?)", [cluster, cluster, low, high])
        path.write_text(f"lead_id_l,lead_id_r,label\n{low},{high},no\n", encoding="utf-8")
        done = import_review(wh, SETTINGS, path)
        after = clusters(wh)
        assert done.counts["conflicts"] == 0 and after[high] != after[low] == cluster and third > 0


def test_review_round_trip(files: list[Path], tmp_path: Path) -> None:
    lenient = SETTINGS.model_copy(update={"review_threshold": 0.01})
    with Warehouse.open(tmp_path / "w.duckdb") as wh:
        migrate(wh)
        load(wh, files[0])
        run_dedupe(wh, lenient)
        out = tmp_path / "review.csv"
        exported = export_review(wh, out)
        assert exported > 0
        review = pl.read_csv(out, infer_schema=False)
        assert {"lead_id_l", "lead_id_r", "match_probability", "evidence", "first_name_l", "first_name_r", "label"} <= set(review.columns)
        # the pairs a "yes" would merge (two clusters) are told from those a "no" would split (one cluster)
        clusters_now = clusters(wh)
        for left, right, reason in review.select("lead_id_l", "lead_id_r", "reason").iter_rows():
            same = clusters_now[int(left)] == clusters_now[int(right)]
            assert reason == (wc.UNCERTAIN_TOGETHER if same else wc.UNCERTAIN), (left, right, reason)
        assert wc.UNCERTAIN in set(review["reason"])
        # the evidence: each compared field's level and weight, strongest for a match first
        for row in review.head(5).iter_rows(named=True):
            stored = wh.frame("SELECT * FROM match_pairs WHERE lead_id_l = ? AND lead_id_r = ? ORDER BY created_at DESC LIMIT 1",
                              [int(row["lead_id_l"]), int(row["lead_id_r"])]).row(0, named=True)
            weighed = sorted(((stored[f"weight_{c}"], c, stored[f"level_{c}"]) for c in wc.PAIR_COMPARISONS
                              if stored[f"level_{c}"] not in (None, MISSING)), reverse=True)
            assert weighed and row["evidence"] == ", ".join(f"{c} {level} ({w:+.1f})" for w, c, level in weighed)
        answered = review.head(2).with_columns(pl.Series("label", ["yes", "no"][: min(2, review.height)]))
        answered.write_csv(out)
        counts = import_review(wh, lenient, out).counts
        assert counts["must_link"] + counts["cannot_link"] == answered.height
        left, right = int(answered["lead_id_l"][0]), int(answered["lead_id_r"][0])
        assert wh.scalar("SELECT cluster_id FROM leads WHERE lead_id = ?", [left]) == wh.scalar(
            "SELECT cluster_id FROM leads WHERE lead_id = ?", [right])
        # the answered file is not overwritten by a new export, unless forced
        with pytest.raises(MatchingError, match=f"holds {answered.height} answered row"):
            export_review(wh, out)
        other = tmp_path / "notes.csv"
        other.write_text("name,phone\nAnn,123\n", encoding="utf-8")
        with pytest.raises(MatchingError, match="exists and cannot be read as a review file"):
            export_review(wh, other)
        assert other.read_text(encoding="utf-8") == "name,phone\nAnn,123\n"
        # answered pairs are not exported again
        assert export_review(wh, out, force=True) == exported - answered.height
        assert export_review(wh, out) == exported - answered.height  # a file without answers is written over
        bad = tmp_path / "bad.csv"
        bad.write_text("lead_id_l,lead_id_r,label\n1,2,perhaps\n", encoding="utf-8")
        with pytest.raises(MatchingError, match="not understood"):
            import_review(wh, lenient, bad)
        # an unknown lead fails the whole file: no label of it is kept
        labels_before = wh.scalar("SELECT count(*) FROM match_labels")
        bad.write_text(f"lead_id_l,lead_id_r,label\n{left},{right},yes\n1,999999999,no\n", encoding="utf-8")
        with pytest.raises(MatchingError, match="does not exist"):
            import_review(wh, lenient, bad)
        assert wh.scalar("SELECT count(*) FROM match_labels") == labels_before


def models(wh: Warehouse) -> list[MatchModel]:
    return [MatchModel.from_json(p) for (p,) in wh.rows("SELECT parameters::VARCHAR FROM match_models ORDER BY model_id")]


def test_refit_learns_from_the_review_answers_and_later_runs_score_with_it(files: list[Path], tmp_path: Path) -> None:
    lenient = SETTINGS.model_copy(update={"review_threshold": 0.01, "match_threshold": 0.999})  # many pairs to review
    with Warehouse.open(tmp_path / "w.duckdb") as wh:
        migrate(wh)
        with pytest.raises(MatchingError, match="no match model"):
            refit(wh, lenient)
        load(wh, files[0])
        run_dedupe(wh, lenient)
        # nothing answered yet: the stored pairs give the run's model again, stored as a new row
        done = refit(wh, lenient)
        assert done.pairs == wh.scalar("SELECT count(DISTINCT (lead_id_l, lead_id_r)) FROM match_pairs")
        assert (done.labelled_match, done.labelled_non_match) == (0, 0)
        fitted, again = models(wh)
        assert again == fitted and done.prior_after == done.prior_before == fitted.prior
        # answer every uncertain pair, one in two a match
        out = tmp_path / "review.csv"
        export_review(wh, out)
        review = pl.read_csv(out, infer_schema=False)
        assert review.height >= 4
        review.with_columns(pl.Series("label", ["yes", "no"] * (review.height // 2) + ["yes"] * (review.height % 2))).write_csv(out)
        import_review(wh, lenient, out)
        _, members = biggest_cluster(wh)
        unmerge(wh, lenient, members[-1])  # cannot-links to the rest of its cluster, which are not answers
        assert wh.scalar("SELECT count(*) FROM match_labels WHERE source = 'unmerge'") > 0
        done = refit(wh, lenient)
        # every answer counts once, the unmerge's labels not at all
        assert (done.labelled_match, done.labelled_non_match) == ((review.height + 1) // 2, review.height // 2)
        newest = models(wh)[-1]
        assert newest.labels_used == review.height and newest.levels != fitted.levels
        assert newest.u_random == fitted.u_random and newest.tf_reference == fitted.tf_reference
        # the next batch has more pairs than the model saw: a new fit, on the stored pairs (with
        # their answers) and the batch's together
        stored = done.pairs
        load(wh, files[1])
        result = run_dedupe(wh, lenient)
        assert result.model_refitted and result.candidate_pairs > stored
        latest = models(wh)[-1]
        assert latest.pairs_used == stored + result.candidate_pairs and latest.labels_used == newest.labels_used
        # a smaller batch is scored with it: no new fit
        load(wh, files[2])
        assert not run_dedupe(wh, lenient).model_refitted
        assert models(wh)[-1] == latest
        # other model settings: there is no model to refit
        with pytest.raises(MatchingError, match="no match model fitted with these dedup settings"):
            refit(wh, lenient.model_copy(update={"non_match_classes": 2}))
        # a comparison match_pairs has no column for
        extra = lenient.model_copy(update={"comparisons": [*lenient.comparisons, Comparison(name="mobile", kind="phone", field="mobile_phone")]})
        with pytest.raises(MatchingError, match="does not keep the levels of the comparison"):
            refit(wh, extra)
        assert len(models(wh)) == 4


def test_refit_uses_only_the_pairs_stored_since_the_settings_changed(files: list[Path], tmp_path: Path) -> None:
    """Pairs scored under other settings (other thresholds, comparisons, blocking rules) leave the fit."""
    other = SETTINGS.model_copy(update={"non_match_classes": 2})
    with Warehouse.open(tmp_path / "w.duckdb") as wh:
        first_run(wh, files)
        load(wh, files[1])
        result = run_dedupe(wh, other)  # another model: fitted on this batch's pairs alone
        assert result.model_refitted and models(wh)[-1].pairs_used == result.candidate_pairs
        assert wh.scalar("SELECT count(DISTINCT (lead_id_l, lead_id_r)) FROM match_pairs") > result.candidate_pairs
        assert refit(wh, other).pairs == result.candidate_pairs
        # and back to the first settings: only the pairs stored since the other model
        load(wh, files[2])
        back = run_dedupe(wh, SETTINGS)
        assert back.model_refitted
        assert refit(wh, SETTINGS).pairs == back.candidate_pairs


def warehouse_state(wh: Warehouse) -> dict[str, object]:
    """Clusters, events, labels and golden records, without the times of writing."""
    return {
        "clusters": clusters(wh),
        "events": wh.rows("SELECT event_id, event, cluster_id, other_cluster_id, lead_id, detail FROM cluster_events ORDER BY event_id"),
        "labels": sorted(wh.rows("SELECT lead_id_l, lead_id_r, label, source, coalesce(note, '') FROM match_labels")),
        "golden": wh.frame("SELECT * EXCLUDE (updated_at) FROM lead_golden ORDER BY cluster_id"),
    }


def test_review_file_applies_like_its_answers_imported_one_at_a_time(files: list[Path], tmp_path: Path) -> None:
    base = tmp_path / "base.duckdb"
    with Warehouse.open(base) as wh:
        first_run(wh, files)
        groups = [r[0] for r in wh.rows("SELECT list(lead_id ORDER BY lead_id) FROM leads GROUP BY cluster_id HAVING count(*) > 1 ORDER BY 1")]
        singles = [r[0] for r in wh.rows("SELECT min(lead_id) FROM leads GROUP BY cluster_id HAVING count(*) = 1 ORDER BY 1")]
    rng = random.Random(11)
    answers: list[tuple[int, int, str]] = []
    answered: set[frozenset[int]] = set()  # a file answers each pair once (two answers about one pair are refused)
    while len(answers) < 62:
        kind = rng.random()
        if kind < 0.35:  # two members of a cluster: "no" detaches, "yes" agrees
            a, b = rng.sample(rng.choice(groups), 2)
        elif kind < 0.7:  # two clusters: "yes" merges
            a, b = rng.choice(rng.choice(groups)), rng.choice(singles)
        else:  # leads named again, in a new pair: the answers depend on the ones before them
            a, b = (rng.choice(rng.choice(answers)[:2]), rng.choice(rng.choice(answers)[:2])) if answers else (singles[0], singles[1])
        if a != b and frozenset((a, b)) not in answered:
            answered.add(frozenset((a, b)))
            answers.append((a, b, rng.choice(["yes", "no", "match", "not a match"])))
    # conflicts, in clusters no answer touched yet: a yes across a no's detach; a no between two
    # leads that yeses tie to other members
    named = {lead for a, b, _ in answers for lead in (a, b)}
    untouched = [g for g in groups if len(g) >= 3 and not named.intersection(g)]
    first, second = untouched[:2]
    answers += [(first[0], first[-1], "no"), (first[1], first[-1], "yes"),
                (second[0], second[1], "yes"), (second[1], second[2], "yes"), (second[0], second[2], "no")]
    whole, one_by_one = tmp_path / "whole.duckdb", tmp_path / "one.duckdb"
    shutil.copyfile(base, whole)
    shutil.copyfile(base, one_by_one)

    def review_file(rows: list[tuple[int, int, str]], name: str) -> Path:
        path = tmp_path / name
        pl.DataFrame(rows, schema=["lead_id_l", "lead_id_r", "label"], orient="row").write_csv(path)
        return path

    with Warehouse.open(whole) as wh:
        done = import_review(wh, SETTINGS, review_file(answers, "all.csv"))
        counts = done.counts
        expected = warehouse_state(wh)
    assert counts["merged"] > 3 and counts["detached"] > 3, counts  # the answers exercise both edits
    assert counts["conflicts"] >= 2, counts  # and both kinds of conflict
    total = {MUST_LINK: 0, CANNOT_LINK: 0, "merged": 0, "detached": 0, "conflicts": 0, "repeated": 0}
    conflicts = []
    with Warehouse.open(one_by_one) as wh:
        for i, answer in enumerate(answers):
            one = import_review(wh, SETTINGS, review_file([answer], f"one{i}.csv"))
            conflicts.append(one.conflicts)
            for key, value in one.counts.items():
                total[key] += value
        got = warehouse_state(wh)
    assert total == counts
    assert pl.concat(conflicts).equals(done.conflicts)
    assert got["clusters"] == expected["clusters"]
    assert got["events"] == expected["events"]
    assert got["labels"] == expected["labels"]
    assert got["golden"].equals(expected["golden"])
    with Warehouse.open(whole) as wh:
        # every cluster keeps one golden record naming exactly its leads
        golden = dict(wh.rows("SELECT cluster_id, lead_ids FROM lead_golden"))
        members = dict(wh.rows("SELECT cluster_id, list(lead_id ORDER BY lead_id) FROM leads GROUP BY cluster_id"))
        assert golden == members
        bad = tmp_path / "self.csv"
        bad.write_text(f"lead_id_l,lead_id_r,label\n{singles[0]},{singles[0]},no\n", encoding="utf-8")
        with pytest.raises(MatchingError, match="both sides are lead"):
            import_review(wh, SETTINGS, bad)


def test_review_import_names_the_line_of_a_lead_it_cannot_use_and_stores_no_answer_twice(files: list[Path], tmp_path: Path) -> None:
    with Warehouse.open(tmp_path / "w.duckdb") as wh:
        first_run(wh, files)
        cluster, members = biggest_cluster(wh)
        alone = wh.scalar("SELECT min(lead_id) FROM leads WHERE cluster_id <> ?", [cluster])
        # a cluster of two, which a "no" about its one link splits (the biggest one's links are chained by rules)
        pair = wh.scalar("SELECT cluster_id FROM leads GROUP BY 1 HAVING count(*) = 2 ORDER BY 1 LIMIT 1")
        two = [lead for (lead,) in wh.rows("SELECT lead_id FROM leads WHERE cluster_id = ? ORDER BY 1", [pair])]
        load(wh, files[1])
        waiting = wh.scalar("SELECT min(lead_id) FROM leads WHERE cluster_id IS NULL")
        path = tmp_path / "review.csv"
        labels_before = wh.scalar("SELECT count(*) FROM match_labels")
        path.write_text(f"lead_id_l,lead_id_r,label\n{two[0]},{two[1]},no\n{alone},{waiting},yes\n", encoding="utf-8")
        with pytest.raises(MatchingError, match=rf"row 3: lead {waiting} is waiting for a dedup run") as raised:
            import_review(wh, SETTINGS, path)
        assert "leadpipe dedupe" in (raised.value.hint or "")
        path.write_text(f"lead_id_l,lead_id_r,label\n{two[0]},{two[1]},no\n{alone},999999999,no\n", encoding="utf-8")
        with pytest.raises(MatchingError, match="row 3: lead 999999999 does not exist"):
            import_review(wh, SETTINGS, path)
        assert wh.scalar("SELECT count(*) FROM match_labels") == labels_before  # nothing of either file
        with pytest.raises(MatchingError, match=f"lead {waiting} is waiting for a dedup run .*nothing to unmerge"):
            unmerge(wh, SETTINGS, waiting)
        # a "no" about a waiting lead is kept (the run respects it)
        path.write_text(f"lead_id_l,lead_id_r,label,note\n{alone},{waiting},no,\n{members[0]},{members[-1]},yes,same\n"
                        f"{two[0]},{two[1]},no, \n", encoding="utf-8")
        first = import_review(wh, SETTINGS, path)
        assert first.counts[CANNOT_LINK] == 2 and first.counts["detached"] == 1 and first.counts["repeated"] == 0
        stored = warehouse_state(wh)
        # the same file again: every answer is its pair's newest label already (the detaching "no"
        # too: the detach wrote no second label for its pair); nothing is stored twice
        again = import_review(wh, SETTINGS, path)
        assert again.counts == {**first.counts, "repeated": 3, "merged": 0, "detached": 0}
        after = warehouse_state(wh)
        assert after["labels"] == stored["labels"] and after["events"] == stored["events"] and after["clusters"] == stored["clusters"]
        # another note is another answer: stored
        path.write_text(f"lead_id_l,lead_id_r,label,note\n{members[0]},{members[-1]},yes,checked twice\n", encoding="utf-8")
        assert import_review(wh, SETTINGS, path).counts["repeated"] == 0
        assert len(warehouse_state(wh)["labels"]) == len(stored["labels"]) + 1


def test_a_detached_lead_stays_converted_and_the_import_says_so(files: list[Path], tmp_path: Path) -> None:
    with Warehouse.open(tmp_path / "w.duckdb") as wh:
        first_run(wh, files)
        pair = wh.scalar("SELECT cluster_id FROM leads GROUP BY 1 HAVING count(*) = 2 ORDER BY 1 LIMIT 1")
        two = [lead for (lead,) in wh.rows("SELECT lead_id FROM leads WHERE cluster_id = ? ORDER BY 1", [pair])]
        # the cluster was converted: both leads point at its contact
        wh.execute("UPDATE leads SET is_converted = true, converted_contact_id = 6 WHERE cluster_id = ?", [pair])
        path = tmp_path / "review.csv"
        path.write_text(f"lead_id_l,lead_id_r,label\n{two[0]},{two[1]},no\n", encoding="utf-8")
        done = import_review(wh, SETTINGS, path)
        assert done.counts["detached"] == 1 and done.converted.rows() == [(two[1], 6)]  # only the detached one is named
        assert wh.scalar("SELECT is_converted AND converted_contact_id = 6 FROM leads WHERE lead_id = ?", [two[1]])
        assert still_converted(wh, [two[0], two[1], 10**9]).rows() == [(two[0], 6), (two[1], 6)]


def test_a_crash_during_review_import_keeps_nothing_of_the_file(
    files: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    with Warehouse.open(tmp_path / "w.duckdb") as wh:
        first_run(wh, files)
        # a cluster of two: a "no" about its one link detaches the newer lead, whatever tied them
        cluster = wh.scalar("SELECT cluster_id FROM leads GROUP BY 1 HAVING count(*) = 2 ORDER BY 1 LIMIT 1")
        members = [lead for (lead,) in wh.rows("SELECT lead_id FROM leads WHERE cluster_id = ? ORDER BY 1", [cluster])]
        alone = wh.scalar("SELECT min(lead_id) FROM leads WHERE cluster_id <> ?", [cluster])
        path = tmp_path / "review.csv"
        path.write_text(f"lead_id_l,lead_id_r,label\n{members[0]},{members[1]},no\n{members[0]},{alone},yes\n", encoding="utf-8")
        before = warehouse_state(wh)

        def boom(*args: object, **kwargs: object) -> None:
            raise RuntimeError("disk full")

        monkeypatch.setattr(wc, "replace_golden", boom)  # the last write of the import
        with pytest.raises(RuntimeError):
            import_review(wh, SETTINGS, path)
        after = warehouse_state(wh)
        assert after["clusters"] == before["clusters"]
        assert after["events"] == before["events"] and after["labels"] == before["labels"]
        assert after["golden"].equals(before["golden"])
        monkeypatch.undo()
        assert import_review(wh, SETTINGS, path).counts == {MUST_LINK: 1, CANNOT_LINK: 1, "merged": 1, "detached": 1, "conflicts": 0, "repeated": 0}
        assert warehouse_state(wh)["clusters"] != before["clusters"]


def test_review_import_of_an_empty_export_and_of_a_file_without_its_columns(tmp_path: Path) -> None:
    with Warehouse.open(tmp_path / "w.duckdb") as wh:
        migrate(wh)
        out = tmp_path / "review.csv"
        assert export_review(wh, out) == 0  # nothing uncertain: a file with only its header
        done = import_review(wh, SETTINGS, out)
        assert done.counts == {MUST_LINK: 0, CANNOT_LINK: 0, "merged": 0, "detached": 0, "conflicts": 0, "repeated": 0} and done.conflicts.is_empty()
        out.write_text("lead_id_l,lead_id_r,answer\n1,2,yes\n", encoding="utf-8")
        with pytest.raises(MatchingError, match=r"lacks the column\(s\) label \(columns found: 'lead_id_l', 'lead_id_r', 'answer'\)"):
            import_review(wh, SETTINGS, out)
        out.write_text("", encoding="utf-8")
        with pytest.raises(MatchingError, match="the review file .*review.csv is empty"):
            import_review(wh, SETTINGS, out)


def test_cli_explain_shows_field_weights(files: list[Path], tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    with Warehouse.open(db) as wh:
        first_run(wh, files)
        cluster, members = biggest_cluster(wh)
        # a value that looks like markup prints as written (it once vanished, or crashed the command)
        wh.execute("UPDATE leads SET company = 'Acme [/] [de] GmbH' WHERE lead_id = ?", [members[-1]])
    result = CliRunner().invoke(app, ["explain", str(members[-1]), "--db", str(db)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert f"Cluster {cluster}" in result.output and "Acme [/] [de] GmbH" in result.output
    for field in ("first_name", "email", "prior", "total"):
        assert field in result.output
    pair = CliRunner().invoke(app, ["explain", str(members[-1]), "--with", str(members[0]), "--db", str(db)], env={"COLUMNS": "200"})
    assert pair.exit_code == 0, pair.output
    assert f"Both leads are in cluster {cluster}: duplicates" in pair.output and "Blocking keys they share" in pair.output
    assert "the same levels, weights and decision" in pair.output  # scored now as the run scored them
    itself = CliRunner().invoke(app, ["explain", str(members[0]), "--with", str(members[0]), "--db", str(db)])
    assert itself.exit_code == 1 and "both leads are lead" in itself.output
    both = CliRunner().invoke(app, ["explain", str(members[0]), "--with", str(members[-1]), "--all", "--db", str(db)])
    assert both.exit_code == 2 and "--all shows a cluster's pairs and --with one pair" in both.output
    missing = CliRunner().invoke(app, ["explain", "999999", "--db", str(db)])
    assert missing.exit_code == 1 and "no lead with id 999999" in missing.output
    # a lead loaded after the last run has no cluster yet: not "no duplicate", which a run may contradict
    with Warehouse.open(db) as wh:
        load(wh, files[1])
        waiting = wh.scalar("SELECT min(lead_id) FROM leads WHERE cluster_id IS NULL")
    pending = CliRunner().invoke(app, ["explain", str(waiting), "--db", str(db)], env={"COLUMNS": "200"})
    assert pending.exit_code == 0, pending.output
    assert "no cluster yet" in pending.output and "no duplicate" not in pending.output
    waiting_pair = CliRunner().invoke(app, ["explain", str(waiting), "--with", str(members[0]), "--db", str(db)], env={"COLUMNS": "200"})
    assert waiting_pair.exit_code == 0, waiting_pair.output
    assert f"Not clustered yet: lead {waiting} has not been through a dedup run" in " ".join(waiting_pair.output.split())


def test_explain_pair_scores_two_leads_as_the_run_did_and_says_why_others_are_apart(files: list[Path], tmp_path: Path) -> None:
    with Warehouse.open(tmp_path / "w.duckdb") as wh:
        first_run(wh, files)
        # up to six pairs of each decision
        stored = wh.frame("SELECT * FROM match_pairs QUALIFY row_number() OVER (PARTITION BY decision ORDER BY lead_id_l, lead_id_r) <= 6")
        assert stored["decision"].n_unique() >= 3
        ids = clusters(wh)
        for row in stored.iter_rows(named=True):
            found = explain_pair(wh, SETTINGS, row["lead_id_r"], row["lead_id_l"])  # either order
            assert found.stored == row
            # the warehouse holds what it held for the run: the same levels, weights, decision and rules
            assert found.now == {k: v for k, v in row.items() if k != "created_at"}
            assert found.rules_within_cap == row["blocking_rules"]
            assert found.same_cluster == (ids[row["lead_id_l"]] == ids[row["lead_id_r"]])
        # two leads sharing no key: no run compares them, and the model says what a comparison would give
        first = min(ids)
        other = wh.scalar(
            "SELECT max(lead_id) FROM leads WHERE lead_id NOT IN "
            "(SELECT b.lead_id FROM lead_blocking_keys a JOIN lead_blocking_keys b USING (block) WHERE a.lead_id = ?)", [first],
        )
        found = explain_pair(wh, SETTINGS, first, other)
        assert found.blocks.is_empty() and found.stored is None and found.rules_within_cap == [] and not found.same_cluster
        assert found.now is not None and found.now["blocking_rules"] == [] and found.now["decision"] != MATCH
        assert found.leads["lead_id"].to_list() == [first, other] and found.cluster_ids == [ids[first], ids[other]]
        # a lead loaded since the run has no cluster yet
        load(wh, files[1])
        waiting = wh.scalar("SELECT min(lead_id) FROM leads WHERE cluster_id IS NULL")
        assert explain_pair(wh, SETTINGS, first, waiting).cluster_ids == [ids[first], None]
        with pytest.raises(MatchingError, match="both leads are lead"):
            explain_pair(wh, SETTINGS, first, first)
        with pytest.raises(MatchingError, match="no lead with id 999999"):
            explain_pair(wh, SETTINGS, first, 999999)


def wh_scalar(db: Path, sql: str) -> object:
    with Warehouse.open(db, read_only=True) as wh:
        return wh.scalar(sql)


def test_cli_unmerge_and_review_commands(files: list[Path], tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    with Warehouse.open(db) as wh:
        migrate(wh)
        load(wh, files[0])
        run_dedupe(wh, SETTINGS.model_copy(update={"review_threshold": 0.01}))
        _, members = biggest_cluster(wh)
    runner = CliRunner()
    result = runner.invoke(app, ["unmerge", str(members[-1]), "--note", "two people", "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert f"lead {members[-1]} is now cluster {members[-1]}" in result.output
    apart = runner.invoke(app, ["explain", str(members[-1]), "--with", str(members[0]), "--db", str(db)], env={"COLUMNS": "200"})
    assert apart.exit_code == 0, apart.output
    said = " ".join(apart.output.split())
    assert f"Different clusters ({members[0]} and {members[-1]}): not duplicates." in said
    assert "Labelled different people (cannot_link, by unmerge" in said and "two people" in said
    alone = runner.invoke(app, ["explain", str(members[-1]), "--db", str(db)], env={"COLUMNS": "200"})
    said = " ".join(alone.output.split())
    # its matched pairs with the others are labelled now (the unmerge): not listed as kept apart
    assert "This lead has no duplicate: cannot-link labels keep it apart from other leads (below)." in said and "Matched with" not in said
    assert f"Labelled different people with lead {members[0]} (cannot_link, by unmerge" in said and "two people" in said
    assert "Cluster history" in said and f"lead {members[-1]} detached by hand" in said
    again = runner.invoke(app, ["unmerge", str(members[-1]), "--db", str(db)])
    assert again.exit_code == 1 and "nothing to unmerge" in again.output
    out = tmp_path / "review.csv"
    exported = runner.invoke(app, ["review", "export", "-o", str(out), "--db", str(db)])
    assert exported.exit_code == 0 and out.exists()
    exported_rows = pl.read_csv(out, infer_schema=False).height
    imported = runner.invoke(app, ["review", "import", str(out), "--db", str(db)], env={"COLUMNS": "200"})
    assert imported.exit_code == 0 and "nothing imported" in " ".join(imported.output.split())  # nothing answered yet
    assert wh_scalar(db, "SELECT count(*) FROM match_labels WHERE source = 'review'") == 0
    refitted = runner.invoke(app, ["review", "refit", "--db", str(db)])
    stored = wh_scalar(db, "SELECT count(DISTINCT (lead_id_l, lead_id_r)) FROM match_pairs")
    # the unmerge's cannot-links keep the lead apart but are no answers about those pairs
    assert wh_scalar(db, "SELECT count(*) FROM (SELECT DISTINCT lead_id_l, lead_id_r FROM match_pairs) JOIN match_labels USING (lead_id_l, lead_id_r)")
    assert refitted.exit_code == 0, refitted.output
    assert f"model fitted again on {stored:,} stored pairs, 0 answered match and 0 not a match" in refitted.output
    # one pair answered: the command says what it imported
    pl.read_csv(out, infer_schema=False).head(1).with_columns(pl.lit("yes").alias("label")).write_csv(out)
    answered = runner.invoke(app, ["review", "import", str(out), "--db", str(db)], env={"COLUMNS": "200"})
    assert answered.exit_code == 0, answered.output
    said = " ".join(answered.output.split())  # as wrapped to the terminal's width
    assert "1 answer(s) imported" in said and "1 match (must-link), 0 not a match (cannot-link)" in said
    assert wh_scalar(db, "SELECT count(*) FROM match_labels WHERE source = 'review'") == 1
    # status: where matching stands, the pairs left to review being those an export writes
    with Warehouse.open(db, read_only=True) as wh:
        figures = matching_summary(wh)
        assert figures is not None
        assert figures["pairs waiting for a review"] == export_review(wh, tmp_path / "left.csv") == exported_rows - 1
        assert figures["pairs labelled must-link"] == 1 and figures["pairs labelled cannot-link"] >= 1  # the answer, and the unmerge
        # by each pair's newest label: a pair answered "no" after its "yes" counts once, as cannot-link
        labelled = wh.scalar("SELECT count(DISTINCT (lead_id_l, lead_id_r)) FROM match_labels")
        assert figures["pairs labelled must-link"] + figures["pairs labelled cannot-link"] == labelled
        assert figures["labelled pairs the clusters do not follow"] == 0  # the answer merged, the unmerge detached
        assert figures["leads waiting for a dedup run"] == 0
        assert figures["duplicate leads"] == figures["clustered leads"] - figures["clusters"] > 0
        assert 0 < figures["clusters with duplicates"] <= figures["duplicate leads"]
    shown = runner.invoke(app, ["status", "--db", str(db)], env={"COLUMNS": "200"})
    assert shown.exit_code == 0, shown.output
    assert "Matching" in shown.output and "pairs waiting for a review" in shown.output
    # an answer that contradicts the unmerge: imported as a label, named as not applied
    conflicting = tmp_path / "conflicting.csv"
    conflicting.write_text(f"lead_id_l,lead_id_r,label\n{members[1]},{members[-1]},yes\n", encoding="utf-8")
    clusters_before = wh_scalar(db, "SELECT list(cluster_id ORDER BY lead_id) FROM leads")
    refused = runner.invoke(app, ["review", "import", str(conflicting), "--db", str(db)], env={"COLUMNS": "200"})
    assert refused.exit_code == 0, refused.output
    said = " ".join(refused.output.split())
    assert "0 cluster merge(s)" in said and "1 answer(s) kept as labels but not applied to the clusters" in said
    assert f"{members[1]} and {members[-1]}" in said and "labelled not a match, one in each cluster" in said
    assert wh_scalar(db, "SELECT list(cluster_id ORDER BY lead_id) FROM leads") == clusters_before
    assert wh_scalar(db, "SELECT count(*) FROM match_labels WHERE source = 'review'") == 2


# keys stored before migration 6 (no ids; migration 8 drops them), or ids from another polars version
WITHOUT_IDS = [
    "ALTER TABLE lead_blocking_keys ALTER block DROP NOT NULL", "UPDATE lead_blocking_keys SET block = NULL",
    "DELETE FROM schema_migrations WHERE version = 8",
]
OTHER_IDS = ["UPDATE lead_blocking_keys SET block = block + 1"]


@pytest.mark.parametrize("tamper", [WITHOUT_IDS, OTHER_IDS], ids=["without_ids", "other_ids"])
def test_stored_keys_without_or_with_other_block_ids_are_recomputed(files: list[Path], tmp_path: Path, tamper: list[str]) -> None:
    # the run must not silently miss the old duplicates of its new leads
    with Warehouse.open(tmp_path / "w.duckdb") as wh:
        first_run(wh, files)
        keys_before = wh.frame("SELECT lead_id, rule, key, block FROM lead_blocking_keys ORDER BY ALL")
        for statement in tamper:
            wh.execute(statement)
        if migrate(wh):  # the warehouse as an older version left it, upgraded
            assert wh.scalar("SELECT count(*) FROM lead_blocking_keys") == 0
        load(wh, files[1])
        second = run_dedupe(wh, SETTINGS)
        assert second.joined > 0  # new leads still found their duplicates among the old ones
        assert wh.scalar("SELECT count(*) FROM lead_blocking_keys WHERE block IS NULL") == 0
        old_ids = keys_before["lead_id"].implode()
        again = wh.frame("SELECT lead_id, rule, key, block FROM lead_blocking_keys ORDER BY ALL").filter(pl.col("lead_id").is_in(old_ids))
        assert again.equals(keys_before)


def test_an_incremental_run_reads_only_leads_it_can_pair_yet_finds_every_pair(
    files: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # small blocks, so that many stored leads share only oversized blocks with the new batch
    settings = DedupSettings(max_block_size=4)
    with Warehouse.open(tmp_path / "w.duckdb") as wh:
        migrate(wh)
        load(wh, files[0])
        run_dedupe(wh, settings)
        stored_keys = wh.frame("SELECT lead_id, rule, key, block FROM lead_blocking_keys")
        pairs_before = wh.scalar("SELECT count(*) FROM match_pairs")
        load(wh, files[1])
        new = wc.unclustered_leads(wh, MATCH_COLUMNS)
        read: list[int] = []
        real = wc.clusters_of
        monkeypatch.setattr(wc, "clusters_of", lambda w, ids, cols: read.extend(ids) or real(w, ids, cols))
        second = run_dedupe(wh, settings)
        assert second.oversized_blocks  # the case this is about
        new_keys = blocking_keys(new, settings.blocking_rules)
        sharing = stored_keys.join(new_keys.select("block").unique(), on="block", how="semi")["lead_id"].unique()
        assert 0 < len(read) < sharing.len()
        # the pairs stored are those of blocking against every stored key, not only the leads read
        expected, _ = candidate_pairs(new_keys, stored_keys, settings.blocking_rules, settings.max_block_size)
        new_ids = new["lead_id"].implode()
        stored = wh.frame("SELECT lead_id_l, lead_id_r FROM match_pairs").filter(
            pl.col("lead_id_l").is_in(new_ids) | pl.col("lead_id_r").is_in(new_ids)
        ).sort("lead_id_l", "lead_id_r")
        assert wh.scalar("SELECT count(*) FROM match_pairs") == pairs_before + stored.height
        assert stored.equals(expected.select("lead_id_l", "lead_id_r").sort("lead_id_l", "lead_id_r"))


def _stored(wh: Warehouse, rows: list[tuple], rules: list) -> None:
    """Insert clustered leads (lead_id, first, last, email, phone, cluster_id or None) and their keys."""
    for r in rows:
        wh.execute(
            "INSERT INTO leads (lead_id, batch_id, source_file, source_kind, source_row, first_name, last_name, email, phone, "
            "company, company_key, cluster_id, created_at, updated_at) VALUES (?, 1, 'f', 'bulk', ?, ?, ?, ?, ?, 'Acme', 'acme', ?, "
            "now()::TIMESTAMP, now()::TIMESTAMP)", [r[0], r[0], *r[1:]],
        )
    clustered = wh.frame("SELECT " + ", ".join(MATCH_COLUMNS) + " FROM leads WHERE cluster_id IS NOT NULL")
    wc.insert_keys(wh, blocking_keys(clustered, rules))


def test_a_block_oversized_by_stored_leads_stays_oversized_when_none_is_read(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    # three stored leads and two new ones share a switchboard (cap 3) and nothing else: no stored
    # lead is read, yet the block holds five leads and must not pair the two new ones
    rules = [BlockingRule(name="email", parts=["email:canonical_email"]), BlockingRule(name="phone", parts=["any_phone"], max_block_size=3)]
    settings = DedupSettings(blocking_rules=rules, random_pairs=1000)
    with Warehouse.open(tmp_path / "w.duckdb") as wh:
        migrate(wh)
        _stored(wh, [(1, "Ann", "Alpha", "a@x.com", "+15550001", 1), (2, "Bob", "Beta", "b@x.com", "+15550001", 2),
                     (3, "Cy", "Chi", "c@x.com", "+15550001", 3), (4, "Dan", "Delta", "d@x.com", "+15550001", None),
                     (5, "Dan", "Delta", "d2@y.com", "+15550001", None)], rules)
        with caplog.at_level("WARNING", logger="flows.dedupe_run"):
            result = run_dedupe(wh, settings)
        assert ("phone", "+15550001", 5) in [tuple(b) for b in result.oversized_blocks] and result.oversized_count == 1
        # one warning for the run, naming the block
        warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
        assert len(warnings) == 1 and "1 blocking key(s)" in warnings[0] and "phone '+15550001' (5 leads)" in warnings[0]
        assert wh.scalar("SELECT count(*) FROM match_pairs") == 0
        assert clusters(wh)[5] == 5
        # explained: the two share only the switchboard, held by more leads than the phone rule's cap
        found = explain_pair(wh, settings, 4, 5)
        assert found.blocks.select("rule", "key", "size", "cap", "within_cap").rows() == [("phone", "+15550001", 5, 3, False)]
        assert found.rules_within_cap == [] and found.stored is None and not found.next_run_compares


def test_explain_pair_counts_a_block_as_the_next_run_will(tmp_path: Path) -> None:
    """Sizes count the stored keys and those of every lead waiting for the run; with stored keys
    of other blocking rules they are not known, and a model fitted with other settings is not used."""
    rules = [BlockingRule(name="email", parts=["email:canonical_email"]), BlockingRule(name="phone", parts=["any_phone"], max_block_size=3)]
    settings = DedupSettings(blocking_rules=rules, random_pairs=1000)
    with Warehouse.open(tmp_path / "w.duckdb") as wh:
        migrate(wh)
        # one stored lead and four waiting ones on one phone; 2 and 3 also share an e-mail
        _stored(wh, [(1, "Ann", "Alpha", "a@x.com", "+15550001", 1), (2, "Bob", "Beta", "b@x.com", "+15550001", None),
                     (3, "Bob", "Beta", "b@x.com", "+15550001", None), (4, "Cy", "Chi", "c@x.com", "+15550001", None),
                     (5, "Dan", "Delta", "d@x.com", "+15550001", None)], rules)
        found = explain_pair(wh, settings, 3, 2)
        assert found.waiting == [2, 3] and not found.same_cluster and found.now is None  # no model fitted yet
        assert found.blocks.select("rule", "size", "within_cap").rows() == [("email", 2, True), ("phone", 5, False)]
        assert found.next_run_compares and found.rules_within_cap == ["email"]
        run_dedupe(wh, settings)
        assert wh.frame("SELECT lead_id_l, lead_id_r, blocking_rules FROM match_pairs").rows() == [(2, 3, ["email"])]
        after = explain_pair(wh, settings, 2, 3)
        assert after.sizes_known and after.blocks["size"].to_list() == [2, 5] and not after.next_run_compares
        assert after.now is not None and after.now == {k: v for k, v in after.stored.items() if k != "created_at"}
        from flows.cli_matching import _same_score

        assert _same_score(after.stored, after.now, after.comparisons)
        assert not _same_score(after.stored, {**after.now, "weight_email": 0.0}, after.comparisons)
        assert not _same_score(after.stored, {**after.now, "decision": "review"}, after.comparisons)
        # other blocking rules: the stored keys do not tell the sizes, and the stored model is not theirs
        other = settings.model_copy(update={"blocking_rules": [rules[1], rules[0]]})
        changed = explain_pair(wh, other, 2, 3)
        assert not changed.sizes_known and changed.blocks["size"].to_list() == [None, None] and changed.now is None
        # the same rules, but block ids from another version, or no key stored while leads are clustered
        wh.execute("UPDATE lead_blocking_keys SET block = block + 1")
        assert not explain_pair(wh, settings, 2, 3).sizes_known
        wh.execute("DELETE FROM lead_blocking_keys")
        assert not explain_pair(wh, settings, 2, 3).sizes_known


# lead 1 was unmerged from lead 2 (cannot-link). New leads 5 and 6 are the same people as 3
# (cluster 1) and 4 (cluster 2) and the same as each other (one e-mail): linking them all
# would undo the unmerge. Leads 1 and 2 share only an oversized phone block, so they are not read.
UNMERGED_RULES = [BlockingRule(name="email", parts=["email:canonical_email"]), BlockingRule(name="phone", parts=["any_phone"], max_block_size=2),
                  BlockingRule(name="name", parts=["last_name:lower"])]
UNMERGED_SETTINGS = DedupSettings(
    blocking_rules=UNMERGED_RULES, random_pairs=1000, cannot_link=[],
    must_link=[LinkRule(name="e", when={"email": ["exact"]}), LinkRule(name="n", when={"last_name": ["exact"], "first_name": ["exact"]})],
)


def _unmerged(wh: Warehouse) -> None:
    migrate(wh)
    _stored(wh, [(1, "Ann", "Alpha", "a1@x.com", "+15550001", 1), (2, "Bob", "Beta", "b1@x.com", "+15550001", 2),
                 (3, "Cat", "Gamma", "ca@x.com", None, 1), (4, "Dan", "Delta", "da@x.com", None, 2),
                 (5, "Cat", "Gamma", "ca@x.com", "+15550001", None), (6, "Dan", "Delta", "ca@x.com", None, None)], UNMERGED_RULES)
    wh.execute("INSERT INTO match_labels VALUES (1, 2, 'cannot_link', 'unmerge', NULL, now()::TIMESTAMP - INTERVAL 1 DAY)")


def test_a_cannot_link_replaced_by_a_newer_yes_no_longer_keeps_the_clusters_apart(tmp_path: Path) -> None:
    with Warehouse.open(tmp_path / "w.duckdb") as wh:
        _unmerged(wh)
        wh.execute("INSERT INTO match_labels VALUES (1, 2, 'must_link', 'review', 'same after all', now()::TIMESTAMP)")
        run_dedupe(wh, UNMERGED_SETTINGS)
        after = clusters(wh)
        assert after[1] == after[2] == after[3] == after[4] == after[5] == after[6]  # 5 and 6 tie the two clusters
        assert explain_pair(wh, UNMERGED_SETTINGS, 1, 2).same_cluster


def test_a_conflicting_no_inside_a_cluster_does_not_keep_new_leads_out_of_it(tmp_path: Path) -> None:
    # cluster 2 holds Ann (2, 3) and Bob (5, 8); people said 2 is 3 and 3 is 8, then that 2 is not
    # 8: a conflict, nothing detached. A new Ann (9, Ann's e-mail: a must-link) still joins cluster 2
    with Warehouse.open(tmp_path / "w.duckdb") as wh:
        migrate(wh)
        _stored(wh, [(2, "Ann", "Alpha", "a@x.com", None, 2), (3, "Ann", "Alpha", "a@x.com", None, 2),
                     (5, "Bob", "Beta", "b@x.com", None, 2), (8, "Bob", "Beta", "b@x.com", None, 2),
                     (9, "Ann", "Alpha", "a@x.com", None, None)], UNMERGED_RULES)
        path = tmp_path / "review.csv"
        path.write_text("lead_id_l,lead_id_r,label\n2,3,yes\n3,8,yes\n2,8,no\n", encoding="utf-8")
        assert import_review(wh, UNMERGED_SETTINGS, path).counts["conflicts"] == 1
        run_dedupe(wh, UNMERGED_SETTINGS)
        assert clusters(wh) == {2: 2, 3: 2, 5: 2, 8: 2, 9: 2}
        assert wh.scalar("SELECT count(*) FROM cluster_events WHERE event = 'split'") == 0


def test_an_unmerge_label_holds_when_its_leads_are_not_read(tmp_path: Path) -> None:
    settings = UNMERGED_SETTINGS
    with Warehouse.open(tmp_path / "w.duckdb") as wh:
        _unmerged(wh)
        result = run_dedupe(wh, settings)
        after = clusters(wh)
        assert after[1] != after[2]  # the unmerge holds
        assert after[3] == after[1] and after[4] == after[2]  # existing memberships are never cut
        # 5 is tied to cluster 1 only (by 3's e-mail and name): it joins it; 6 is tied by rules to both
        # sides (4's name, 3's and 5's e-mail) about equally: it stays alone
        assert after[5] == after[1] and after[6] == 6
        # explained: 6 matches 5 (one e-mail), yet the run split them apart: linking them would have
        # tied clusters 1 and 2 (the cannot-link is between other leads of the component, not their clusters)
        from flows.cli_matching import _apart_line

        found = explain_pair(wh, settings, 6, 5)
        assert found.stored is not None and found.stored["decision"] == MUST_LINK and not found.same_cluster
        assert found.cluster_ids == [1, 6] and found.apart_by.is_empty()  # 5 is 3 (one e-mail, one name): it joins cluster 1
        line = _apart_line(found)
        assert line is not None and line.startswith("They match, but a run split them apart")
        assert _apart_line(explain_pair(wh, settings, 1, 3)) is None  # one cluster: nothing to say
        # a person decides what the guard could not: the pair is exported for review, and explain says so
        review = wc.review_pairs(wh, ["first_name"])
        assert (5, 6, wc.KEPT_APART) in set(review.select("lead_id_l", "lead_id_r", "reason").rows())
        assert wc.review_pair_count(wh) == review.height
        kept = review.filter(pl.col("reason") == wc.KEPT_APART).height
        assert result.kept_apart == kept > 0  # the run said how many it kept apart
        assert 5 in explain(wh, settings, 6).kept_apart["other"].to_list()


def test_stored_level_and_decision_types_hold_every_label_the_engine_writes(tmp_path: Path) -> None:
    # match_pairs stores levels and decisions as ENUM types (migration 7): a label the engine can
    # write but the type lacks would fail the run's insert
    with Warehouse.open(tmp_path / "w.duckdb") as wh:
        migrate(wh)
        levels = wh.scalar("SELECT enum_range(NULL::match_level)")
        decisions = wh.scalar("SELECT enum_range(NULL::match_decision)")
        types = dict(wh.rows("SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'match_pairs'"))
        level_type, decision_type = wh.rows("SELECT typeof(NULL::match_level), typeof(NULL::match_decision)")[0]
    assert set(levels) == {label for labels in LEVELS.values() for label in labels} | {MISSING}
    assert set(decisions) == {MATCH, REVIEW, NON_MATCH, MUST_LINK, CANNOT_LINK}
    assert level_type.startswith("ENUM(")
    assert {c: t for c, t in types.items() if c.startswith("level_")} == {f"level_{n}": level_type for n in wc.PAIR_COMPARISONS}
    assert types["decision"] == decision_type


def test_many_oversized_blocks_make_one_warning_naming_the_largest(caplog: pytest.LogCaptureFixture) -> None:
    blocks = [("phone", f"+4930{i}", 600 - i) for i in range(5)]
    with caplog.at_level("DEBUG", logger="flows.dedupe_run"):
        _log_oversized(DedupResult(oversized_blocks=blocks, oversized_count=25))
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1
    assert warnings[0].startswith("25 blocking key(s)") and "phone '+49302' (598 leads) and 22 more" in warnings[0]
    assert "+49303" not in warnings[0]  # only the three largest are named
    assert len([r for r in caplog.records if r.levelname == "DEBUG"]) == 5  # each block listed at debug level
    caplog.clear()
    _log_oversized(DedupResult())
    assert not caplog.records


def test_explain_notes_exact_agreements_that_weigh_little() -> None:
    from flows.cli_matching import weak_agreements

    pair = {"level_last_name": "exact", "weight_last_name": -0.3, "level_email": "exact", "weight_email": 10.8,
            "level_company": "exact", "weight_company": 0.4, "level_city": "missing", "weight_city": 0.0,
            "level_phone": "different", "weight_phone": -2.3}
    assert weak_agreements(pair, ["last_name", "email", "company", "city", "phone"]) == ["last_name", "company"]
    assert weak_agreements({**pair, "weight_last_name": 3.0, "weight_company": 1.0}, ["last_name", "company"]) == []


def test_the_run_after_an_upgrade_rebuilds_every_golden_record_once(files: list[Path], tmp_path: Path) -> None:
    """Migration 10 asks the next dedup run to rebuild the golden records an earlier version wrote
    (an address without a street was dropped); fresh warehouses have nothing to rebuild."""
    with Warehouse.open(tmp_path / "w.duckdb") as wh:
        first_run(wh, files)
        assert wh.scalar("SELECT count(*) FROM maintenance_due") == 0  # created with no golden record
        right = wh.frame("SELECT * EXCLUDE (updated_at) FROM lead_golden ORDER BY cluster_id")
        assert right["city"].drop_nulls().len() > 0
        # as an earlier version left it: no address without a street, and the migration's request
        wh.execute("UPDATE lead_golden SET city = NULL, state = NULL, postal_code = NULL, country = NULL WHERE street IS NULL")
        wh.execute("INSERT INTO maintenance_due (task, reason) VALUES ('rebuild_golden', 'test')")
        load(wh, files[1])
        run_dedupe(wh, SETTINGS)
        assert wh.scalar("SELECT count(*) FROM maintenance_due") == 0
        after = wh.frame("SELECT * EXCLUDE (updated_at) FROM lead_golden ORDER BY cluster_id")
        untouched = after.join(right.select("cluster_id", "lead_ids"), on=["cluster_id", "lead_ids"], how="semi")
        assert untouched.height > 0
        assert untouched.equals(right.join(untouched.select("cluster_id"), on="cluster_id", how="semi").select(untouched.columns))
        assert after.height == wh.scalar("SELECT count(DISTINCT cluster_id) FROM leads")


def test_a_change_of_survivorship_rules_rebuilds_every_golden_record_at_the_next_run(files: list[Path], tmp_path: Path) -> None:
    """Golden records are all built with one set of rules: a run that finds other rules than those
    recorded rebuilds every record, even with no new lead, and records the rules; the same rules
    again rebuild nothing. A warehouse from before version 12 (records, no rules) is rebuilt once."""
    oldest = SETTINGS.model_copy(update={"survivorship": Survivorship(default="oldest", fields={"company": "oldest", "street": "oldest",
                                                                                              "title": "oldest"})})
    with Warehouse.open(tmp_path / "w.duckdb") as wh:
        first_run(wh, files)
        assert wh.rows("SELECT rules_id, golden_records FROM golden_rules") == [(1, 0)]  # recorded with the first records
        records = wh.scalar("SELECT count(*) FROM lead_golden")
        before = wh.frame("SELECT * EXCLUDE (updated_at) FROM lead_golden ORDER BY cluster_id")
        done = run_dedupe(wh, oldest)  # no new lead
        assert (done.new_leads, done.golden_rebuilt, done.golden_rebuilt_because) == (0, records, "the survivorship rules changed")
        after = wh.frame("SELECT * EXCLUDE (updated_at) FROM lead_golden ORDER BY cluster_id")
        leads = wh.frame(f"SELECT {', '.join(GOLDEN_INPUT)} FROM leads")
        assert after.equals(golden_records(leads, oldest.survivorship).select(after.columns).sort("cluster_id"))
        assert not after.equals(before)  # some cluster's oldest values differ from its most recent ones
        assert json.loads(wh.scalar("SELECT rules::VARCHAR FROM golden_rules WHERE rules_id = 2"))["default"] == "oldest"
        assert run_dedupe(wh, oldest).golden_rebuilt is None
        # as a warehouse of version 11 left it: records, no rules recorded
        wh.execute("DELETE FROM golden_rules")
        done = run_dedupe(wh, oldest)
        assert (done.golden_rebuilt, done.golden_rebuilt_because) == (records, "no survivorship rules recorded with them yet")
        assert run_dedupe(wh, oldest).golden_rebuilt is None
        # rules that build the same records are the same rules: a source order no group uses, a field
        # named with the rule it has anyway
        same = oldest.survivorship.model_copy(update={"source_priority": ["bulk", "form"], "fields": {**oldest.survivorship.fields,
                                                                                                      "industry": "oldest"}})
        assert run_dedupe(wh, oldest.model_copy(update={"survivorship": same})).golden_rebuilt is None
        # the one source kind left out ranks last: the same order as listing it last
        by_source = oldest.survivorship.model_copy(update={"default": "source_priority"})
        assert run_dedupe(wh, oldest.model_copy(update={"survivorship": by_source})).golden_rebuilt == records
        shorter = by_source.model_copy(update={"source_priority": ["form", "trade_show"]})
        assert run_dedupe(wh, oldest.model_copy(update={"survivorship": shorter})).golden_rebuilt is None
        # settings built in code run as a file's would (fields merged over the built-in ones): once
        title_only = SETTINGS.model_copy(update={"survivorship": Survivorship().model_copy(update={"fields": {"title": "oldest"}})})
        assert run_dedupe(wh, title_only).golden_rebuilt == records
        assert run_dedupe(wh, title_only).golden_rebuilt is None


def test_clusters_edited_with_other_rules_are_rebuilt_by_the_next_run_whatever_its_rules(files: list[Path], tmp_path: Path) -> None:
    """An unmerge run with another configuration than the pipeline's builds the two clusters' records
    with its rules: the next run rebuilds every record, even with the recorded rules, so that all
    are built alike again."""
    oldest = SETTINGS.model_copy(update={"survivorship": Survivorship(default="oldest")})
    with Warehouse.open(tmp_path / "w.duckdb") as wh:
        first_run(wh, files)
        cluster, members = biggest_cluster(wh)
        unmerge(wh, oldest, members[-1])
        assert wh.scalar("SELECT reason FROM maintenance_due WHERE task = 'rebuild_golden'") == (
            "clusters edited with other survivorship rules than the recorded ones")
        done = run_dedupe(wh, SETTINGS)
        assert done.golden_rebuilt == wh.scalar("SELECT count(*) FROM lead_golden") and done.golden_rebuilt_because.startswith("clusters edited")
        after = wh.frame("SELECT * EXCLUDE (updated_at) FROM lead_golden ORDER BY cluster_id")
        leads = wh.frame(f"SELECT {', '.join(GOLDEN_INPUT)} FROM leads")
        assert after.equals(golden_records(leads, SETTINGS.survivorship).select(after.columns).sort("cluster_id"))
        # an edit with the recorded rules asks for nothing
        unmerge(wh, SETTINGS, biggest_cluster(wh)[1][-1])
        assert wh.scalar("SELECT count(*) FROM maintenance_due") == 0


def test_settings_built_in_code_are_validated_before_a_run(tmp_path: Path) -> None:
    """``model_copy(update=...)`` skips pydantic's validators: a run validates its settings again."""
    bad = SETTINGS.model_copy(update={"must_link": [LinkRule(name="x", when={"email": ["exactt"]})]})
    with pytest.raises(ConfigError, match="rule 'x': email has no level exactt"):
        check_settings(bad)
    with pytest.raises(ConfigError, match="comparisons is empty"):
        check_settings(SETTINGS.model_copy(update={"comparisons": [], "must_link": [], "cannot_link": []}))

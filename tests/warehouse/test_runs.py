"""pipeline_runs: figures computed from the warehouse, abandoned runs, the summary's text."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from warehouse.batches import BatchResult
from warehouse.clusters import review_pair_count
from warehouse.connection import Warehouse
from warehouse.migrations import migrate
from warehouse.report import collect_report
from warehouse.runs import StageTimer, finish_run, get_run, recent_runs, runs_frame, start_run

NOW = datetime(2026, 11, 23, 10, 0, 0)
EVENT_COLS = "event_id, event, cluster_id, other_cluster_id, lead_id, detail, created_at"


def add_batch(wh: Warehouse, batch_id: int, status: str, read: int, loaded: int, rejected: int, skipped: int) -> None:
    wh.execute(
        "INSERT INTO import_batches (batch_id, source_file, source_kind, file_sha256, rows_read, rows_loaded, rows_rejected, "
        "rows_skipped, status, started_at) VALUES (?, ?, 'form', ?, ?, ?, ?, ?, ?, ?)",
        [batch_id, f"/in/f{batch_id}.csv", f"sha{batch_id}", read, loaded, rejected, skipped, status, NOW],
    )


def add_lead(wh: Warehouse, lead_id: int, batch_id: int, cluster_id: int | None, status: str = "Open - Not Contacted",
             converted: bool = False) -> None:
    wh.execute(
        "INSERT INTO leads (lead_id, batch_id, source_file, source_kind, source_row, last_name, company, status, cluster_id, "
        "is_converted, created_at, updated_at) VALUES (?, ?, 'f.csv', 'form', ?, 'Lee', 'Acme', ?, ?, ?, ?, ?)",
        [lead_id, batch_id, lead_id, status, cluster_id, converted, NOW, NOW],
    )


def assign(wh: Warehouse, lead_id: int, owner: str) -> None:
    wh.execute("INSERT INTO assignments (lead_id, owner_id, rule, reason, assigned_at) VALUES (?, ?, 'round_robin', 'test', ?)", [lead_id, owner, NOW])


def test_run_figures_are_the_difference_to_the_baseline(wh: Warehouse) -> None:
    # Before the run: one batch, two leads (one MQL), one assignment, one cluster event.
    add_batch(wh, 1, "loaded", 2, 2, 0, 0)
    add_lead(wh, 1, 1, 1, "MQL")
    add_lead(wh, 2, 1, 2)
    assign(wh, 1, "rep_a")
    wh.execute(f"INSERT INTO cluster_events ({EVENT_COLS}) VALUES (1, 'create', 1, NULL, 1, 'old', ?)", [NOW])

    base = start_run(wh, trigger="test", files=3, flow_run_id="abc")
    assert wh.scalar("SELECT status FROM pipeline_runs WHERE run_id = ?", [base.run_id]) == "running"

    # The run: a loaded batch (5 read = 3 + 1 + 1) and a failed one; three new leads, one a duplicate of lead 2.
    add_batch(wh, 2, "loaded", 5, 3, 1, 1)
    add_batch(wh, 3, "failed", 0, 0, 0, 0)
    add_lead(wh, 3, 2, 2, "MQL")
    add_lead(wh, 4, 2, 4, "Closed - Converted", converted=True)
    add_lead(wh, 5, 2, 5)
    wh.execute("UPDATE leads SET is_converted = true, status = 'Closed - Converted' WHERE lead_id = 1")  # was MQL already
    for lead, rep in ((3, "rep_a"), (4, "rep_b"), (5, "rep_b")):
        assign(wh, lead, rep)
    wh.execute(f"INSERT INTO cluster_events ({EVENT_COLS}) VALUES (2, 'join', 2, NULL, 3, 'same email', ?), (3, 'merge', 2, 9, NULL, 'x', ?), "
               "(4, 'create', 4, NULL, 4, 'y', ?)", [NOW, NOW, NOW])
    already = BatchResult(1, "/in/f1.csv", "form", "already_loaded", 2, 2, 0, 0)

    s = finish_run(wh, base, batches=[already], stage_seconds={"ingest": 1.5, "dedupe": 0.25})
    assert (s.status, s.trigger, s.flow_run_id) == ("completed", "test", "abc")
    assert (s.files, s.files_loaded, s.files_already_loaded, s.files_failed) == (3, 1, 1, 1)
    assert s.batch_ids == (2, 3)
    assert (s.rows_read, s.rows_loaded, s.rows_rejected, s.rows_skipped) == (5, 3, 1, 1) and s.balanced
    assert (s.duplicate_leads, s.new_clusters, s.merges) == (1, 1, 1)
    assert s.mqls == 2  # leads 3 and 4 reached MQL; lead 1 had already
    assert s.conversions == 2  # leads 1 and 4
    assert s.assignments_by_rep == {"rep_a": 1, "rep_b": 2} and s.assignments == 3
    assert s.stage_seconds == {"ingest": 1.5, "dedupe": 0.25}
    stored = wh.rows("SELECT assignments_by_rep::VARCHAR, stage_seconds::VARCHAR, finished_at IS NOT NULL FROM pipeline_runs")[0]
    assert json.loads(stored[0]) == {"rep_a": 1, "rep_b": 2} and json.loads(stored[1])["ingest"] == 1.5 and stored[2]

    text = s.to_markdown()
    assert "| **rows** | 5 read = 3 loaded + 1 rejected + 1 skipped |" in text
    assert "rep_b 2" in text
    assert s.review_pairs == 0 and "| **review** | 0 pairs scored by this run between the thresholds; the review queue is empty |" in text


def add_pair(wh: Warehouse, left: int, right: int, decision: str) -> None:
    wh.execute(
        "INSERT INTO match_pairs (lead_id_l, lead_id_r, blocking_rules, prior_weight, match_weight, match_probability, decision, "
        "decided_by, created_at) VALUES (?, ?, ['email'], -3.0, 0.0, 0.5, ?, 'model', ?)", [left, right, decision, NOW],
    )


def test_a_run_counts_the_pairs_it_left_for_review(wh: Warehouse) -> None:
    add_pair(wh, 1, 2, "review")  # an earlier run's
    base = start_run(wh, trigger="test", files=0)
    add_pair(wh, 3, 4, "review")
    add_pair(wh, 3, 5, "review")
    add_pair(wh, 4, 5, "match")
    s = finish_run(wh, base)
    assert s.review_pairs == 2 and wh.scalar("SELECT review_pairs FROM pipeline_runs WHERE run_id = ?", [s.run_id]) == 2
    # what the export would list: the earlier run's uncertain pair too (no lead is in a cluster
    # here, so no matched pair is kept apart)
    assert s.review_queue == review_pair_count(wh) == 3
    assert ("review", "2 pairs scored by this run between the thresholds; 3 pairs in the review queue, from every run so far "
                       "(uncertain, or matched but kept in different clusters: `leadpipe review export`)") in s.rows()
    assert recent_runs(wh)[0] == s
    one = dict(replace(s, review_pairs=1, review_queue=1).rows())["review"]
    assert one.startswith("1 pair scored by this run between the thresholds; 1 pair in the review queue")
    # a run recorded before version 11 shows the run's own count only; before version 9, no review line
    wh.execute("UPDATE pipeline_runs SET review_queue = NULL")
    assert ("review", "2 pairs scored by this run between the thresholds") in recent_runs(wh)[0].rows()
    wh.execute("UPDATE pipeline_runs SET review_pairs = NULL")
    older = recent_runs(wh)[0]
    assert older.review_pairs is None and "review" not in dict(older.rows())


def test_a_run_left_running_becomes_abandoned_and_failed_runs_keep_their_error(wh: Warehouse) -> None:
    first = start_run(wh, trigger="cli", files=1)
    second = start_run(wh, trigger="inbox", files=2)  # the first one's process died
    assert second.run_id == first.run_id + 1
    runs = {r.run_id: r for r in recent_runs(wh)}
    assert runs[first.run_id].status == "abandoned" and "killed or crashed" in (runs[first.run_id].error or "")
    failed = finish_run(wh, second, error="dedupe stage failed: ValueError: boom")
    assert failed.status == "failed" and failed.error == "dedupe stage failed: ValueError: boom"
    assert ("error", "dedupe stage failed: ValueError: boom") in failed.rows()


def test_stage_timer_records_stages_in_order_and_the_current_one() -> None:
    timer = StageTimer()
    with timer.stage("ingest"):
        assert timer.current == "ingest"
    try:
        with timer.stage("dedupe"):
            raise ValueError
    except ValueError:
        pass
    assert list(timer.seconds) == ["ingest", "dedupe"]
    assert timer.current == "dedupe", "after a failure the failing stage is known"


def test_runs_read_from_a_warehouse_not_yet_at_version_9(tmp_path: Path) -> None:
    """Read-only commands do not migrate (the report may read last night's snapshot): runs recorded
    before migration 9 read back without the review figure instead of failing."""
    db = tmp_path / "old.duckdb"
    with Warehouse.open(db) as wh:
        migrate(wh)
        finish_run(wh, start_run(wh, trigger="cli", files=0))
        # as a version-8 warehouse: no review_pairs nor review_queue column, migrations 9 to 12 not recorded
        wh.execute("ALTER TABLE pipeline_runs DROP COLUMN review_pairs")
        wh.execute("ALTER TABLE pipeline_runs DROP COLUMN review_queue")
        wh.execute("DROP TABLE maintenance_due")
        wh.execute("DROP TABLE golden_rules")
        wh.execute("DELETE FROM schema_migrations WHERE version >= 9")
    with Warehouse.open(db, read_only=True) as wh:
        run = recent_runs(wh)[0]
        assert run.review_pairs is None and "review" not in dict(run.rows())
        assert get_run(wh, run.run_id).review_pairs is None
        assert runs_frame(wh).select("review_pairs", "review_queue").rows() == [(None, None)]
        assert get_run(wh, run.run_id).review_queue is None
        assert collect_report(wh).runs.height == 1
    with Warehouse.open(db) as wh:  # the next writing run migrates it
        assert migrate(wh) == [9, 10, 11, 12] and wh.column_exists("pipeline_runs", "review_pairs") and wh.column_exists("pipeline_runs", "review_queue")

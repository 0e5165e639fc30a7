"""The `pipeline_runs` table: one row per pipeline run, with a summary computed from the warehouse.

A run is recorded in two steps. :func:`start_run` inserts a ``running`` row and returns a
:class:`RunBaseline` (high-water marks and counts as they stood before the run). :func:`finish_run`
computes the run's figures as the difference between the warehouse now and that baseline, so
they do not depend on what the stages return (the matching and lifecycle stages change shape):

- files and rows: the ``import_batches`` rows created by the run (batch id above the baseline);
- new clusters and merges: ``cluster_events`` rows created by the run (event id above it);
- duplicate leads: the run's new leads whose cluster is led by another lead;
- pairs left for a review: ``match_pairs`` rows with the decision ``review`` now minus before
  (pairs are only ever appended);
- MQLs, conversions, assignments per rep: counts now minus counts before.

This is exact because a run holds the run lock (:mod:`warehouse.run_lock`): no other writer.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import polars as pl

from transforms.clock import utc_now
from warehouse.batches import BatchResult
from warehouse.clusters import review_pair_count
from warehouse.connection import Warehouse
from warehouse.lifecycle import REACHED_MQL_SQL

RUN_RUNNING = "running"
RUN_COMPLETED = "completed"
RUN_FAILED = "failed"
RUN_ABANDONED = "abandoned"

@dataclass(frozen=True)
class RunBaseline:
    """Where the warehouse stood when a run started (small: passed between Prefect tasks)."""

    run_id: int
    started_at: datetime
    files: int
    max_batch_id: int
    max_event_id: int
    mqls: int
    conversions: int
    assignments_by_rep: dict[str, int] = field(default_factory=dict)
    review_pairs: int = 0


@dataclass(frozen=True)
class RunSummary:
    """One row of ``pipeline_runs``: what a run did."""

    run_id: int
    trigger: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    duration_seconds: float | None
    files: int
    files_loaded: int
    files_already_loaded: int
    files_failed: int
    batch_ids: tuple[int, ...]
    rows_read: int
    rows_loaded: int
    rows_rejected: int
    rows_skipped: int
    duplicate_leads: int
    new_clusters: int
    merges: int
    mqls: int
    assignments: int
    assignments_by_rep: dict[str, int]
    conversions: int
    stage_seconds: dict[str, float]
    error: str | None = None
    flow_run_id: str | None = None
    #: Pairs the run scored between the two thresholds (None: a run recorded before version 9).
    review_pairs: int | None = None
    #: Pairs waiting for a person when the run finished, from any run (what ``leadpipe review
    #: export`` lists; None: a run recorded before version 11).
    review_queue: int | None = None

    @property
    def balanced(self) -> bool:
        """Conservation: every row read was loaded, rejected or skipped."""
        return self.rows_read == self.rows_loaded + self.rows_rejected + self.rows_skipped

    def rows(self) -> list[tuple[str, str]]:
        """(label, value) lines for a table: the CLI and the Prefect artifact show the same."""
        reps = ", ".join(f"{rep} {n}" for rep, n in sorted(self.assignments_by_rep.items()))
        stages = ", ".join(f"{name} {secs:.1f} s" for name, secs in self.stage_seconds.items())
        lines = [
            ("run", f"#{self.run_id} ({self.trigger}): {self.status}"),
            ("files", f"{self.files}: {self.files_loaded} loaded, {self.files_already_loaded} already loaded, {self.files_failed} failed"),
            ("rows", f"{self.rows_read} read = {self.rows_loaded} loaded + {self.rows_rejected} rejected + {self.rows_skipped} skipped"
                     + ("" if self.balanced else "  (DOES NOT BALANCE)")),
            ("duplicates", f"{self.duplicate_leads} new leads are duplicates of another lead; {self.new_clusters} new clusters, {self.merges} merges"),
            *([("review", self._review_line())] if self.review_pairs is not None else []),
            ("MQLs", str(self.mqls)),
            ("assignments", f"{self.assignments}" + (f" ({reps})" if reps else "")),
            ("conversions", str(self.conversions)),
            ("stages", stages or "-"),
            ("duration", f"{self.duration_seconds:.1f} s" if self.duration_seconds is not None else "-"),
        ]
        if self.error:
            lines.append(("error", self.error))
        return lines

    def _review_line(self) -> str:
        line = f"{_pairs(self.review_pairs or 0)} scored by this run between the thresholds"
        if self.review_queue is None:  # recorded before version 11
            return line
        if not self.review_queue:
            return line + "; the review queue is empty"
        return (line + f"; {_pairs(self.review_queue)} in the review queue, from every run so far (uncertain, or "
                "matched but kept in different clusters: `leadpipe review export`)")

    def to_markdown(self) -> str:
        """The summary as a Markdown table (the Prefect artifact)."""
        def cell(text: str) -> str:
            return text.replace("|", "\\|").replace("\n", " ")

        out = [f"### leadpipe run {self.run_id}", "", "| | |", "|---|---|"]
        out += [f"| **{cell(k)}** | {cell(v)} |" for k, v in self.rows()]
        return "\n".join(out) + "\n"


def _pairs(n: int) -> str:
    return f"{n} pair" + ("" if n == 1 else "s")


@dataclass
class StageTimer:
    """Wall-clock seconds per stage, in the order the stages ran.

    Example:
        >>> timer = StageTimer()
        >>> with timer.stage("ingest"):
        ...     pass
        >>> list(timer.seconds)
        ['ingest']
    """

    seconds: dict[str, float] = field(default_factory=dict)
    current: str | None = None

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        self.current = name
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = round(self.seconds.get(name, 0.0) + time.perf_counter() - start, 3)
        self.current = None


# --- SQL --------------------------------------------------------------------------------------
def baseline_sql() -> str:
    return (
        "SELECT (SELECT coalesce(max(run_id), 0) FROM pipeline_runs), "
        "(SELECT coalesce(max(batch_id), 0) FROM import_batches), "
        "(SELECT coalesce(max(event_id), 0) FROM cluster_events), "
        f"(SELECT count(*) FILTER (WHERE {REACHED_MQL_SQL}) FROM leads), "
        "(SELECT count(*) FILTER (WHERE is_converted) FROM leads), "
        "(SELECT count(*) FILTER (WHERE decision = 'review') FROM match_pairs)"
    )


def assignments_by_rep_sql() -> str:
    return "SELECT owner_id, count(*) FROM assignments GROUP BY owner_id ORDER BY owner_id"


def mark_abandoned_sql() -> str:
    return (
        "UPDATE pipeline_runs SET status = ?, error = coalesce(error, ?) , finished_at = coalesce(finished_at, ?) "
        "WHERE status = ?"
    )


def insert_run_sql() -> str:
    return (
        "INSERT INTO pipeline_runs (run_id, trigger, flow_run_id, status, host, pid, started_at, files) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
    )


def run_batches_sql() -> str:
    """Batches created by a run: counts per status and the row totals of loaded ones."""
    return (
        "SELECT coalesce(list(batch_id ORDER BY batch_id), []), "
        "count(*) FILTER (WHERE status = 'loaded'), count(*) FILTER (WHERE status = 'failed'), "
        "coalesce(sum(rows_read), 0), coalesce(sum(rows_loaded), 0), "
        "coalesce(sum(rows_rejected), 0), coalesce(sum(rows_skipped), 0) "
        "FROM import_batches WHERE batch_id > ?"
    )


def run_cluster_events_sql() -> str:
    return (
        "SELECT count(*) FILTER (WHERE event = 'create'), count(*) FILTER (WHERE event = 'merge') "
        "FROM cluster_events WHERE event_id > ?"
    )


def run_duplicate_leads_sql() -> str:
    return "SELECT count(*) FROM leads WHERE batch_id > ? AND cluster_id IS NOT NULL AND cluster_id <> lead_id"


def finish_run_sql() -> str:
    return (
        "UPDATE pipeline_runs SET status = ?, error = ?, finished_at = ?, duration_seconds = ?, "
        "files_loaded = ?, files_already_loaded = ?, files_failed = ?, batch_ids = ?, rows_read = ?, "
        "rows_loaded = ?, rows_rejected = ?, rows_skipped = ?, duplicate_leads = ?, new_clusters = ?, "
        "merges = ?, mqls = ?, assignments = ?, assignments_by_rep = ?, conversions = ?, stage_seconds = ?, "
        "review_pairs = ?, review_queue = ? WHERE run_id = ?"
    )


#: Columns of ``pipeline_runs`` added after version 8 (by migrations 9 and 11).
LATER_COLUMNS = ("review_pairs", "review_queue")


def later_columns_sql(present: Sequence[str]) -> str:
    """The columns of ``LATER_COLUMNS``, NULL for those a warehouse not migrated yet lacks
    (read-only commands do not migrate: ``leadpipe report`` may read last night's snapshot)."""
    return ", ".join(c if c in present else f"NULL::BIGINT AS {c}" for c in LATER_COLUMNS)


def run_row_sql(present: Sequence[str] = tuple(LATER_COLUMNS)) -> str:
    return (
        "SELECT run_id, trigger, status, started_at, finished_at, duration_seconds, files, files_loaded, "
        "files_already_loaded, files_failed, batch_ids, rows_read, rows_loaded, rows_rejected, rows_skipped, "
        "duplicate_leads, new_clusters, merges, mqls, assignments, assignments_by_rep::VARCHAR, conversions, "
        f"stage_seconds::VARCHAR, error, flow_run_id, {later_columns_sql(present)} FROM pipeline_runs"
    )


def update_stage_seconds_sql() -> str:
    return "UPDATE pipeline_runs SET stage_seconds = ? WHERE run_id = ?"


# --- recording ----------------------------------------------------------------------------------
def _assignments_by_rep(wh: Warehouse) -> dict[str, int]:
    return {str(owner): int(n) for owner, n in wh.rows(assignments_by_rep_sql())}


def start_run(wh: Warehouse, *, trigger: str, files: int, flow_run_id: str | None = None) -> RunBaseline:
    """Record the start of a run; runs left ``running`` by a killed process become ``abandoned``.

    Call it while holding the run lock: any ``running`` row then belongs to a run that died.
    """
    now = utc_now()
    with wh.transaction():
        wh.execute(
            mark_abandoned_sql(),
            [RUN_ABANDONED, "the process ended before the run finished (killed or crashed); "
             "its committed batches are kept, the next run finishes the remaining stages", now, RUN_RUNNING],
        )
        last_run, max_batch, max_event, mqls, conversions, review = wh.rows(baseline_sql())[0]
        run_id = int(last_run) + 1
        wh.execute(insert_run_sql(), [run_id, trigger, flow_run_id, RUN_RUNNING, socket.gethostname(), os.getpid(), now, files])
        by_rep = _assignments_by_rep(wh)
    return RunBaseline(run_id, now, files, int(max_batch), int(max_event), int(mqls), int(conversions), by_rep, int(review))


def finish_run(
    wh: Warehouse,
    baseline: RunBaseline,
    *,
    batches: Sequence[BatchResult] = (),
    stage_seconds: dict[str, float] | None = None,
    error: str | None = None,
) -> RunSummary:
    """Compute the run's figures from the warehouse, store them, and return the summary.

    Args:
        baseline: what :func:`start_run` returned.
        batches: the per-file results the run got back (only to count files already loaded).
        stage_seconds: wall-clock seconds per stage.
        error: why the run failed; ``None`` for a completed run.
    """
    now = utc_now()
    with wh.transaction():
        batch_ids, loaded, failed, read, rows_loaded, rejected, skipped = wh.rows(run_batches_sql(), [baseline.max_batch_id])[0]
        creates, merges = wh.rows(run_cluster_events_sql(), [baseline.max_event_id])[0]
        duplicates = wh.scalar(run_duplicate_leads_sql(), [baseline.max_batch_id])
        _, _, _, mqls, conversions, review = wh.rows(baseline_sql())[0]
        by_rep_now = _assignments_by_rep(wh)
        by_rep = {
            rep: n - baseline.assignments_by_rep.get(rep, 0)
            for rep, n in by_rep_now.items()
            if n - baseline.assignments_by_rep.get(rep, 0) > 0
        }
        already = sum(1 for b in batches if b.status == "already_loaded")
        summary = RunSummary(
            run_id=baseline.run_id,
            trigger="",
            status=RUN_FAILED if error else RUN_COMPLETED,
            started_at=baseline.started_at,
            finished_at=now,
            duration_seconds=round((now - baseline.started_at).total_seconds(), 3),
            files=baseline.files,
            files_loaded=int(loaded),
            files_already_loaded=already,
            files_failed=int(failed),
            batch_ids=tuple(int(b) for b in batch_ids),
            rows_read=int(read),
            rows_loaded=int(rows_loaded),
            rows_rejected=int(rejected),
            rows_skipped=int(skipped),
            duplicate_leads=int(duplicates),
            new_clusters=int(creates),
            merges=int(merges),
            mqls=int(mqls) - baseline.mqls,
            assignments=sum(by_rep.values()),
            assignments_by_rep=by_rep,
            conversions=int(conversions) - baseline.conversions,
            stage_seconds=dict(stage_seconds or {}),
            error=error,
            review_pairs=int(review) - baseline.review_pairs,
            review_queue=review_pair_count(wh),
        )
        wh.execute(
            finish_run_sql(),
            [summary.status, error, now, summary.duration_seconds, summary.files_loaded, summary.files_already_loaded,
             summary.files_failed, list(summary.batch_ids), summary.rows_read, summary.rows_loaded, summary.rows_rejected,
             summary.rows_skipped, summary.duplicate_leads, summary.new_clusters, summary.merges, summary.mqls,
             summary.assignments, json.dumps(by_rep), summary.conversions, json.dumps(summary.stage_seconds),
             summary.review_pairs, summary.review_queue, baseline.run_id],
        )
    return get_run(wh, baseline.run_id)


def record_stage_seconds(wh: Warehouse, run_id: int, stage_seconds: dict[str, float]) -> None:
    """Store stage timings measured after the run row was finished (the snapshot stage)."""
    wh.execute(update_stage_seconds_sql(), [json.dumps(stage_seconds), run_id])


def _summary(row: tuple[Any, ...]) -> RunSummary:
    (run_id, trigger, status, started, finished, duration, files, f_loaded, f_already, f_failed, batch_ids,
     read, loaded, rejected, skipped, dups, creates, merges, mqls, assignments, by_rep, conversions,
     stages, error, flow_run_id, review_pairs, review_queue) = row
    return RunSummary(
        run_id=int(run_id), trigger=trigger, status=status, started_at=started, finished_at=finished,
        duration_seconds=duration, files=int(files), files_loaded=int(f_loaded), files_already_loaded=int(f_already),
        files_failed=int(f_failed), batch_ids=tuple(batch_ids or ()), rows_read=int(read), rows_loaded=int(loaded),
        rows_rejected=int(rejected), rows_skipped=int(skipped), duplicate_leads=int(dups), new_clusters=int(creates),
        merges=int(merges), mqls=int(mqls), assignments=int(assignments),
        assignments_by_rep=json.loads(by_rep) if by_rep else {}, conversions=int(conversions),
        stage_seconds=json.loads(stages) if stages else {}, error=error, flow_run_id=flow_run_id,
        review_pairs=None if review_pairs is None else int(review_pairs),
        review_queue=None if review_queue is None else int(review_queue),
    )


def _present(wh: Warehouse) -> list[str]:
    """The columns of ``LATER_COLUMNS`` the warehouse has."""
    return [c for c in LATER_COLUMNS if wh.column_exists("pipeline_runs", c)]


def get_run(wh: Warehouse, run_id: int) -> RunSummary:
    """One run's summary."""
    return _summary(wh.rows(run_row_sql(_present(wh)) + " WHERE run_id = ?", [run_id])[0])


def recent_runs(wh: Warehouse, limit: int = 20) -> list[RunSummary]:
    """The newest runs first."""
    return [_summary(r) for r in wh.rows(run_row_sql(_present(wh)) + " ORDER BY run_id DESC LIMIT ?", [limit])]


def runs_frame(wh: Warehouse, limit: int = 20) -> pl.DataFrame:
    """The newest runs as a frame (for reports)."""
    return wh.frame(
        "SELECT run_id, trigger, status, started_at, duration_seconds, files, rows_read, rows_loaded, rows_rejected, "
        f"duplicate_leads, {later_columns_sql(_present(wh))}, mqls, assignments, conversions, error "
        "FROM pipeline_runs ORDER BY run_id DESC LIMIT ?",
        [limit],
    )

"""The Prefect flows end to end on the bundled samples."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

import warehouse.clusters as wc
from flows.cli import sample_files
from flows.pipeline import dedupe, ingest, lead_pipeline
from warehouse.clusters import review_pair_count
from warehouse.connection import Warehouse
from warehouse.run_lock import lock_path

pytestmark = pytest.mark.usefixtures("prefect_harness")

TABLES = ("import_batches", "leads", "lead_rejects", "accounts", "contacts", "opportunities", "assignments", "reps", "routing_state")


def counts(db: Path) -> dict[str, int]:
    with Warehouse.open(db, read_only=True) as wh:
        return {t: wh.scalar(f"SELECT count(*) FROM {t}") for t in TABLES}


def test_pipeline_on_samples_fills_every_table_and_rerun_adds_nothing(db_path: Path) -> None:
    files = sample_files()
    assert len(files) >= 5
    result = lead_pipeline(files, str(db_path))
    assert not result.failed, [b.error for b in result.failed]
    assert {b.status for b in result.batches} == {"loaded"}
    first = counts(db_path)
    assert all(first[t] > 0 for t in TABLES), first
    with Warehouse.open(db_path, read_only=True) as wh:
        # Conservation holds for every batch and matches the rows in the tables.
        assert wh.scalar("SELECT count(*) FROM import_batches WHERE rows_read <> rows_loaded + rows_rejected + rows_skipped") == 0
        assert wh.rows(
            "SELECT count(*) FROM import_batches b WHERE rows_loaded <> (SELECT count(*) FROM leads l WHERE l.batch_id = b.batch_id) "
            "OR rows_rejected <> (SELECT count(*) FROM lead_rejects r WHERE r.batch_id = b.batch_id)"
        ) == [(0,)]
        # Duplicates across files were found, and each kind of source arrived.
        assert wh.scalar("SELECT count(*) FROM (SELECT cluster_id FROM leads GROUP BY 1 HAVING count(DISTINCT batch_id) > 1)") > 0
        assert {r[0] for r in wh.rows("SELECT DISTINCT source_kind FROM leads")} == {"form", "trade_show", "bulk"}
        assert wh.scalar("SELECT count(*) FROM leads WHERE cluster_id IS NULL OR score IS NULL OR owner_id IS NULL") == 0
        # the run's summary counts the pairs waiting for a person as the export lists them
        assert result.summary is not None and result.summary.review_queue == review_pair_count(wh) == wc.review_pairs(wh, ["email"]).height
        assert result.summary.review_queue >= (result.summary.review_pairs or 0) > 0
        # each exported pair says whether its two leads are in one cluster already (a "no" then detaches)
        queue = wc.review_pairs(wh, ["email"]).join(wh.frame("SELECT lead_id AS lead_id_l, cluster_id AS a FROM leads"), on="lead_id_l")
        queue = queue.join(wh.frame("SELECT lead_id AS lead_id_r, cluster_id AS b FROM leads"), on="lead_id_r")
        together = {r: set(queue.filter(pl.col("reason") == r).select(pl.col("a") == pl.col("b")).to_series())
                    for r in (wc.UNCERTAIN, wc.UNCERTAIN_TOGETHER, wc.KEPT_APART)}
        assert together[wc.UNCERTAIN_TOGETHER] == {True} and together[wc.KEPT_APART] == {False}  # the samples have both
        assert together[wc.UNCERTAIN] <= {False}
    assert result.snapshot and Path(result.snapshot).exists()

    again = lead_pipeline(files, str(db_path))
    assert {b.status for b in again.batches} == {"already_loaded"}
    assert counts(db_path) == {**first, "reps": first["reps"], "routing_state": first["routing_state"]}


def test_broken_file_fails_alone_and_leaves_no_partial_batch(db_path: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.csv"
    broken.write_text("colour,shoe size\nred,42\n", encoding="utf-8")
    good = tmp_path / "good_form.csv"
    good.write_text("First Name,Last Name,Company,Email\nAnn,Lee,Acme,ann@acme.com\n", encoding="utf-8")
    batches = ingest([str(broken), str(good)], str(db_path))
    assert [b.status for b in batches] == ["failed", "loaded"]
    assert "maps to a lead field" in (batches[0].error or "") or "lead field" in (batches[0].error or "")
    with Warehouse.open(db_path, read_only=True) as wh:
        assert wh.rows("SELECT status, rows_read FROM import_batches ORDER BY batch_id") == [("failed", 0), ("loaded", 1)]
        assert wh.scalar("SELECT count(*) FROM leads WHERE source_file = ?", [str(broken)]) == 0
    result = dedupe(str(db_path))
    assert result.new_leads == 1
    with Warehouse.open(db_path, read_only=True) as wh:
        assert wh.scalar("SELECT count(*) FROM lead_golden") == 1


def test_unexpected_error_in_one_file_fails_that_file_only(db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import flows.tasks as tasks

    good = tmp_path / "good_form.csv"
    good.write_text("First Name,Last Name,Company,Email\nAnn,Lee,Acme,ann@acme.com\n", encoding="utf-8")
    bad = tmp_path / "bad_form.csv"
    bad.write_text("First Name,Last Name,Company,Email\nBo,Kim,Initech,bo@initech.com\n", encoding="utf-8")
    real = tasks.prepare_batch

    def flaky(source, settings):  # type: ignore[no-untyped-def]
        if source.path.name == "bad_form.csv":
            raise ZeroDivisionError("simulated bug")
        return real(source, settings)

    monkeypatch.setattr(tasks, "prepare_batch", flaky)
    batches = ingest([str(bad), str(good)], str(db_path))
    assert [b.status for b in batches] == ["failed", "loaded"]
    assert "ZeroDivisionError: simulated bug" in (batches[0].error or "")
    monkeypatch.setattr(tasks, "prepare_batch", real)
    # After the fix, a re-run loads the failed file and leaves the loaded one alone.
    rerun = ingest([str(bad), str(good)], str(db_path))
    assert [b.status for b in rerun] == ["loaded", "already_loaded"]


def one_lead_file(tmp_path: Path) -> Path:
    path = tmp_path / "good_form.csv"
    path.write_text("First Name,Last Name,Company,Email\nAnn,Lee,Acme,ann@acme.com\n", encoding="utf-8")
    return path


def failing_dedupe(*args: object, **kwargs: object) -> None:
    raise ZeroDivisionError("simulated dedupe bug")


def test_a_failing_stage_is_recorded_and_its_error_propagates(
    db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    import flows.tasks as tasks

    monkeypatch.setattr(tasks, "run_dedupe", failing_dedupe)
    with pytest.raises(ZeroDivisionError, match="simulated dedupe bug"):
        lead_pipeline([str(one_lead_file(tmp_path))], str(db_path))
    with Warehouse.open(db_path, read_only=True) as wh:
        assert wh.rows("SELECT status, error, files_loaded FROM pipeline_runs") == [
            ("failed", "dedupe stage failed: ZeroDivisionError: simulated dedupe bug", 1)
        ]
        assert wh.scalar("SELECT count(*) FROM leads") == 1, "the committed batch is kept"
    assert not lock_path(db_path).exists()


def test_a_failing_run_record_does_not_mask_the_stage_error(
    db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    import flows.tasks as tasks

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full while recording")

    monkeypatch.setattr(tasks, "run_dedupe", failing_dedupe)
    monkeypatch.setattr(tasks, "finish_run", broken)
    monkeypatch.setattr(tasks, "publish_snapshot", broken)
    with pytest.raises(ZeroDivisionError, match="simulated dedupe bug"):
        lead_pipeline([str(one_lead_file(tmp_path))], str(db_path))
    with Warehouse.open(db_path, read_only=True) as wh:
        # Left as 'running': the next run marks it abandoned.
        assert wh.rows("SELECT status FROM pipeline_runs") == [("running",)]
    assert not lock_path(db_path).exists()


def test_a_snapshot_failure_after_a_completed_run_is_logged_not_raised(
    db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    import flows.tasks as tasks

    first = lead_pipeline([str(one_lead_file(tmp_path))], str(db_path))
    assert first.snapshot and first.snapshot_error is None
    snapshot = Path(first.snapshot)

    def broken(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(tasks, "publish_snapshot", broken)
    other = tmp_path / "other_form.csv"
    other.write_text("First Name,Last Name,Company,Email\nBo,Kim,Initech,bo@initech.com\n", encoding="utf-8")
    with caplog.at_level("ERROR"):
        result = lead_pipeline([str(other)], str(db_path))
    assert [b.status for b in result.batches] == ["loaded"]
    assert result.snapshot is None and result.snapshot_error == "OSError: [Errno 28] No space left on device"
    assert result.summary is not None and result.summary.status == "completed" and result.summary.error is None
    assert "snapshot" in result.summary.stage_seconds
    assert any("completed, but its read-only snapshot" in r.getMessage() for r in caplog.records), caplog.text
    with Warehouse.open(db_path, read_only=True) as wh:
        assert wh.rows("SELECT run_id, status, error FROM pipeline_runs ORDER BY run_id") == [(1, "completed", None), (2, "completed", None)]
    with Warehouse.open(snapshot, read_only=True) as wh:  # readers keep the previous snapshot
        assert wh.scalar("SELECT count(*) FROM pipeline_runs") == 1
    assert not lock_path(db_path).exists()


def test_a_pipeline_run_after_a_change_of_survivorship_rules_rebuilds_and_says_so(db_path: Path, tmp_path: Path) -> None:
    """The dedup task of a pipeline run reports the rebuild (printed by the CLI, written to the flow
    run's log): every golden record, with the new rules."""
    first = lead_pipeline([str(one_lead_file(tmp_path))], str(db_path))
    assert first.dedup is not None and first.dedup.golden_rebuilt is None  # a new warehouse: nothing to rebuild
    config = tmp_path / "oldest.toml"
    config.write_text('[dedup]\nsurvivorship = { default = "oldest" }\n', encoding="utf-8")
    other = tmp_path / "other_form.csv"
    other.write_text("First Name,Last Name,Company,Email\nBo,Chan,Initech,bo@initech.com\n", encoding="utf-8")
    second = lead_pipeline([str(other)], str(db_path), str(config))
    assert second.dedup is not None
    assert (second.dedup.golden_rebuilt, second.dedup.golden_rebuilt_because) == (1, "the survivorship rules changed")
    with Warehouse.open(db_path, read_only=True) as wh:
        assert wh.scalar("SELECT count(*) FROM golden_rules") == 2 and wh.scalar("SELECT count(*) FROM lead_golden") == 2

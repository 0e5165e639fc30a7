"""Operations end to end under the Prefect test harness: drop folder, run records, report, export, lock."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from flows.cli import app, sample_files
from flows.config import load_settings
from flows.inbox import Inbox
from flows.operations import inbox_poll, scheduled_import
from warehouse.connection import Warehouse
from warehouse.run_lock import lock_path

runner = CliRunner()
BROKEN = "colour,shoe size\nred,42\nblue,43\n"


@pytest.mark.usefixtures("prefect_harness")
def test_drop_folder_processes_samples_and_files_a_broken_one(tmp_path: Path, db_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for f in sample_files():
        shutil.copy(f, inbox)
    (inbox / "broken_export.csv").write_text(BROKEN, "utf-8")
    (inbox / "still_uploading.csv.part").write_text("First Name\n", "utf-8")

    cycle = inbox_poll(str(inbox), str(db_path), stable_seconds=0, lock_wait_seconds=0)

    assert sorted(o.name for o in cycle.processed) == sorted(Path(f).name for f in sample_files())
    assert [o.name for o in cycle.failed] == ["broken_export.csv"]
    error = (cycle.failed[0].folder / "error.txt").read_text()
    assert "could not load broken_export.csv" in error and "lead field" in error
    for outcome in cycle.processed:
        result = json.loads((outcome.folder / "result.json").read_text())
        assert result["balanced"] and result["status"] == "loaded" and result["run_id"] == cycle.run_id
    assert [p.name for p in inbox.iterdir() if p.is_file()] == ["still_uploading.csv.part"]
    assert not list((inbox / "processing").iterdir()) and not lock_path(db_path).exists()

    with Warehouse.open(db_path, read_only=True) as wh:
        assert wh.rows("SELECT status, rows_read FROM import_batches WHERE source_file LIKE '%broken_export.csv'") == [("failed", 0)]
        assert wh.scalar("SELECT count(*) FROM leads WHERE source_file LIKE '%broken_export.csv'") == 0
        run = wh.rows("SELECT trigger, status, files, files_loaded, files_failed, rows_read, rows_loaded + rows_rejected + rows_skipped, "
                      "assignments, stage_seconds::VARCHAR FROM pipeline_runs")
    assert len(run) == 1
    trigger, status, files, loaded, failed, read, accounted, assignments, stages = run[0]
    assert (trigger, status, files, loaded, failed) == ("inbox", "completed", 6, 5, 1)
    assert read == accounted > 1000 and assignments > 0
    assert set(json.loads(stages)) >= {"ingest", "dedupe", "qualify", "route", "convert", "snapshot"}
    assert cycle.summary is not None and cycle.summary.rows_read == read

    # The snapshot was refreshed by the drop-folder run and shows it.
    snap = duckdb.connect(str(db_path.with_name("wh.snapshot.duckdb")), read_only=True)
    try:
        assert snap.execute("SELECT count(*) FROM pipeline_runs WHERE status = 'completed'").fetchone() == (1,)
    finally:
        snap.close()

    # Dropping the same file again loads nothing twice.
    shutil.copy(sample_files()[0], inbox / "again.csv")
    again = inbox_poll(str(inbox), str(db_path), stable_seconds=0, lock_wait_seconds=0)
    assert [o.batch.status for o in again.processed] == ["already_loaded"]
    assert again.summary is not None and again.summary.rows_loaded == 0


@pytest.mark.usefixtures("prefect_harness")
def test_scheduled_import_of_a_glob(tmp_path: Path, db_path: Path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    shutil.copy(sample_files()[-1], folder / "a_form.jsonl")
    (folder / ".hidden.csv").write_text(BROKEN)
    result = scheduled_import(str(folder / "*"), str(db_path))
    assert result is not None and [Path(b.source_file).name for b in result.batches] == ["a_form.jsonl"]
    assert result.summary is not None and result.summary.status == "completed"
    with Warehouse.open(db_path, read_only=True) as wh:
        assert wh.scalar("SELECT trigger FROM pipeline_runs") == "schedule"
    assert scheduled_import(str(folder / "nothing-*.csv"), str(db_path)) is None


@pytest.mark.parametrize("ignore", [None, ["*.bak", ".*"]])
def test_scheduled_import_ignores_what_the_drop_folder_ignores(tmp_path: Path, db_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                ignore: list[str] | None) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    names = ("a.csv", "~$a.csv", "b.csv.tmp", "c.csv.crdownload", "d.csv.partial", ".e.csv", "a.csv~", "old.csv.bak")
    for name in names:
        (folder / name).write_text("x")
    config = None
    if ignore is not None:
        config = tmp_path / "leadpipe.toml"
        config.write_text("[inbox]\nignore = [" + ", ".join(f"'{p}'" for p in ignore) + "]\n", "utf-8")
    read: list[list[str]] = []
    monkeypatch.setattr("flows.operations.lead_pipeline", lambda files, *args, **kwargs: read.append(files))

    scheduled_import.fn(str(folder / "*"), str(db_path), str(config) if config else None)

    settings = load_settings(config, db_path)
    expected = sorted(p.name for p in Inbox(folder, settings.inbox).candidates())
    assert [Path(f).name for f in read[0]] == expected
    assert expected == (["a.csv", "old.csv.bak"] if ignore is None else sorted(set(names) - {".e.csv", "old.csv.bak"}))


@pytest.mark.usefixtures("prefect_harness")
def test_cli_run_prints_the_summary_then_report_and_export(tmp_path: Path, db_path: Path) -> None:
    form = sample_files()[-2]
    result = runner.invoke(app, ["run", "--db", str(db_path), form])
    assert result.exit_code == 0, result.stderr
    assert "Run summary (pipeline_runs #1)" in result.stdout and "rows" in result.stdout and "stages" in result.stdout

    out = tmp_path / "report.html"
    rep = runner.invoke(app, ["report", "--db", str(db_path), "--out", str(out)])
    assert rep.exit_code == 0, rep.stderr
    html = out.read_text("utf-8")
    assert "Lead pipeline report" in html and "Funnel" in html and "<svg" in html

    exp = runner.invoke(app, ["export", "--db", str(db_path), "--parquet", str(tmp_path / "pq")])
    assert exp.exit_code == 0, exp.stderr
    assert (tmp_path / "pq" / "leads.parquet").exists() and (tmp_path / "pq" / "pipeline_runs.parquet").exists()


@pytest.mark.usefixtures("prefect_harness")
def test_no_wait_fails_clearly_while_another_run_holds_the_warehouse(db_path: Path) -> None:
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        lock_path(db_path).write_text(json.dumps({"pid": sleeper.pid, "host": socket.gethostname(),
                                                  "started_at": "2026-11-23T02:00:00", "command": "leadpipe serve"}))
        result = runner.invoke(app, ["run", "--no-wait", "--db", str(db_path), sample_files()[-1]])
        assert result.exit_code == 1
        assert f"another leadpipe run is writing this warehouse: pid {sleeper.pid}" in result.stderr
        assert "without --no-wait" in result.stderr
    finally:
        sleeper.kill()
        sleeper.wait()
        lock_path(db_path).unlink(missing_ok=True)


@pytest.mark.slow
def test_watch_processes_files_dropped_while_it_runs(tmp_path: Path) -> None:
    """`leadpipe watch` in its own process; files appear in the inbox the way a copy does."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env["PREFECT_HOME"] = str(tmp_path / "prefect-home")
    leadpipe = Path(sys.executable).with_name("leadpipe")
    log = (tmp_path / "watch.log").open("w")
    proc = subprocess.Popen([str(leadpipe), "watch", str(inbox), "--db", str(tmp_path / "wh.duckdb"), "--poll", "1", "--stable", "1"],
                            cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        samples = sample_files()
        for f in samples:  # copied under a temporary name, then renamed: never picked up half-written
            part = inbox / (Path(f).name + ".part")
            shutil.copy(f, part)
            part.rename(inbox / Path(f).name)
        (inbox / "broken_export.csv").write_text(BROKEN)
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            done = len(list((inbox / "processed").glob("*/result.json"))) if (inbox / "processed").exists() else 0
            failed = len(list((inbox / "failed").glob("*/error.txt"))) if (inbox / "failed").exists() else 0
            # the folders are written before the cycle prints its lines: wait for those too, or the
            # SIGTERM below may stop the watcher between the two (seen on a loaded machine)
            said = (tmp_path / "watch.log").read_text()
            printed = said.count("processed ") >= len(samples) and "failed " in said and "Run summary" in said
            if done == len(samples) and failed == 1 and printed or proc.poll() is not None:
                break
            time.sleep(1)
        assert proc.poll() is None, (tmp_path / "watch.log").read_text()[-3000:]
        assert done == len(samples) and failed == 1, (tmp_path / "watch.log").read_text()[-3000:]
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()
    output = (tmp_path / "watch.log").read_text()
    assert "processed" in output and "failed" in output and "Run summary" in output
    assert not [p for p in inbox.iterdir() if p.is_file()]
    with Warehouse.open(tmp_path / "wh.duckdb", read_only=True) as wh:
        assert wh.scalar("SELECT count(*) FROM import_batches WHERE status = 'loaded'") == len(samples)
        assert wh.scalar("SELECT count(*) FROM pipeline_runs WHERE trigger = 'inbox' AND status = 'completed'") >= 1

"""The drop folder without Prefect: ignoring, stability, atomic claims, results, crash recovery."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from flows.dedupe_run import DedupResult
from flows.inbox import CLAIM_FILE, Inbox, StabilityTracker, run_inbox_cycle
from flows.operations_config import InboxSettings
from warehouse.batches import BatchResult
from warehouse.connection import Warehouse
from warehouse.migrations import migrate
from warehouse.run_lock import RunLock, RunLockedError, lock_path
from warehouse.runs import RunSummary


@dataclass
class FakeResult:
    batches: list[BatchResult]
    summary: RunSummary | None = None
    dedup: DedupResult | None = None


@dataclass
class FakePipeline:
    """Stands in for lead_pipeline: answers per file name, records the calls."""

    outcomes: dict[str, str] = field(default_factory=dict)  # file name -> status
    calls: list[list[str]] = field(default_factory=list)
    raise_error: Exception | None = None
    dedup: DedupResult | None = None

    def __call__(self, files: list[str]) -> FakeResult:
        self.calls.append(files)
        if self.raise_error is not None:
            raise self.raise_error
        batches = []
        for i, f in enumerate(files, start=1):
            status = self.outcomes.get(Path(f).name, "loaded")
            if status == "failed":
                batches.append(BatchResult(10 + i, f, "unknown", "failed", error="no column maps to a lead field (hint: add a mapping)"))
            else:
                batches.append(BatchResult(1, f, "form", status, 4, 2, 1, 1))
        return FakeResult(batches, dedup=self.dedup)


@pytest.fixture()
def warehouse_file(tmp_path_factory: pytest.TempPathFactory) -> str:
    db_path = tmp_path_factory.mktemp("warehouse") / "wh.duckdb"  # never inside the drop folder
    with Warehouse.open(db_path) as wh:
        migrate(wh)
        wh.execute("INSERT INTO lead_rejects (batch_id, source_file, source_row, reasons, raw_record, raw_line, created_at) VALUES (1, 'x.csv', 3, ['invalid_email'], '{\"Email\": \"x\"}', '=1+1', now()::TIMESTAMP)")
    return str(db_path)


def settings(**kw: object) -> InboxSettings:
    return InboxSettings(stable_seconds=0, **kw)


def drop(folder: Path, name: str, text: str = "First Name,Last Name,Company,Email\nAnn,Lee,Acme,ann@acme.com\n") -> Path:
    path = folder / name
    path.write_text(text, "utf-8")
    return path


def test_ignores_temporary_hidden_and_office_lock_files(tmp_path: Path) -> None:
    box = Inbox(tmp_path, settings())
    for name in ("leads.csv", "leads2.CSV", ".hidden.csv", "~$leads.xlsx", "upload.csv.part", "x.tmp", "dl.crdownload", "backup.csv~"):
        drop(tmp_path, name)
    assert [p.name for p in box.candidates()] == ["leads.csv", "leads2.CSV"]
    assert {p.name for p in tmp_path.iterdir() if p.is_dir()} == {"processing", "processed", "failed"}


def test_missing_inbox_is_a_clear_error(tmp_path: Path) -> None:
    from transforms.errors import LeadpipeError

    with pytest.raises(LeadpipeError, match="does not exist"):
        Inbox(tmp_path / "nope", settings())


def test_a_growing_file_is_not_ready_until_its_size_stays_put(tmp_path: Path) -> None:
    now = [0.0]
    tracker = StabilityTracker(5.0, clock=lambda: now[0])
    growing = drop(tmp_path, "big.csv", "a,b\n")
    assert tracker.observe([growing]) == []
    now[0] = 6.0
    with growing.open("a") as out:
        out.write("1,2\n")  # still being written
    assert tracker.observe([growing]) == []
    now[0] = 9.0
    assert tracker.observe([growing]) == [], "only 3 s since the last change"
    now[0] = 11.5
    assert tracker.observe([growing]) == [growing]


def test_wait_until_stable_takes_two_looks(tmp_path: Path) -> None:
    box = Inbox(tmp_path, InboxSettings(stable_seconds=2))
    done = drop(tmp_path, "done.csv")
    growing = drop(tmp_path, "growing.csv")
    now = [100.0]
    tracker = StabilityTracker(2, clock=lambda: now[0])

    def sleep(seconds: float) -> None:
        now[0] += seconds
        with growing.open("a") as out:  # the writer is still busy while we wait
            out.write("more\n")

    assert box.wait_until_stable(sleep, tracker) == [done]


def test_claim_is_atomic_and_keeps_the_name(tmp_path: Path) -> None:
    box = Inbox(tmp_path, settings())
    path = drop(tmp_path, "hubspot_form.csv")
    claim = box.claim(path)
    assert claim is not None and claim.path.name == "hubspot_form.csv" and claim.path.exists()
    assert claim.folder.parent == tmp_path / "processing" and not path.exists()
    assert json.loads((claim.folder / CLAIM_FILE).read_text())["pid"] == os.getpid()
    assert box.claim(path) is None, "a file someone else claimed first is skipped"
    assert list((tmp_path / "processing").iterdir()) == [claim.folder], "no empty folder left by the lost race"


def test_cycle_files_results_and_errors(tmp_path: Path, warehouse_file: str) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    box = Inbox(inbox, settings())
    drop(inbox, "good_form.csv")
    drop(inbox, "broken.csv", "colour,shoe\nred,42\n")
    drop(inbox, "upload.csv.part")
    pipeline = FakePipeline({"broken.csv": "failed"})
    cycle = run_inbox_cycle(box, warehouse_file, pipeline, lock_wait_seconds=0)
    assert len(pipeline.calls) == 1 and sorted(Path(f).name for f in pipeline.calls[0]) == ["broken.csv", "good_form.csv"]
    assert all("/processing/" in f for f in pipeline.calls[0]), "the pipeline reads the claimed copy"
    assert [o.name for o in cycle.processed] == ["good_form.csv"] and [o.name for o in cycle.failed] == ["broken.csv"]

    done = cycle.processed[0].folder
    assert done.parent == inbox / "processed" and (done / "good_form.csv").exists()
    result = json.loads((done / "result.json").read_text())
    assert result["rows_read"] == 4 and result["balanced"] is True and result["status"] == "loaded"
    assert result["reject_reasons"] == {"invalid_email": 1} and result["rejects_file"] == "rejects.csv"
    rejects_csv = (done / "rejects.csv").read_text("utf-8-sig")
    assert "invalid_email" in rejects_csv and ",'=1+1" in rejects_csv, "formulas neutralised"
    assert not (done / CLAIM_FILE).exists()

    bad = cycle.failed[0].folder
    assert bad.parent == inbox / "failed" and (bad / "broken.csv").exists()
    report = (bad / "error.txt").read_text()
    assert "could not load broken.csv" in report and "no column maps to a lead field" in report
    assert "put the file back into the drop folder" in report and "Nothing of this file is in the warehouse" in report
    assert json.loads((bad / "result.json").read_text())["status"] == "failed"

    assert [p.name for p in inbox.iterdir() if p.is_file()] == ["upload.csv.part"], "the partial upload waits"
    assert list((inbox / "processing").iterdir()) == []
    assert not lock_path(warehouse_file).exists(), "the run lock is released"


def test_cycle_with_nothing_to_do_calls_no_pipeline(tmp_path: Path, warehouse_file: str) -> None:
    pipeline = FakePipeline()
    cycle = run_inbox_cycle(Inbox(tmp_path, settings()), warehouse_file, pipeline, lock_wait_seconds=0)
    assert cycle.outcomes == [] and pipeline.calls == []


def test_a_pipeline_error_moves_the_files_to_failed_with_a_report(tmp_path: Path, warehouse_file: str) -> None:
    box = Inbox(tmp_path, settings())
    drop(tmp_path, "form_a.csv")
    pipeline = FakePipeline(raise_error=ZeroDivisionError("simulated bug in dedupe"))
    with pytest.raises(ZeroDivisionError):
        run_inbox_cycle(box, warehouse_file, pipeline, lock_wait_seconds=0)
    failed = list((tmp_path / "failed").iterdir())
    assert len(failed) == 1 and (failed[0] / "form_a.csv").exists()
    report = (failed[0] / "error.txt").read_text()
    assert "ZeroDivisionError: simulated bug in dedupe" in report and "Nothing of this file is in the warehouse" in report
    assert list((tmp_path / "processing").iterdir()) == []


def test_busy_warehouse_claims_nothing(tmp_path: Path, warehouse_file: str) -> None:
    import subprocess
    import sys

    drop(tmp_path, "form_a.csv")
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        lock_path(warehouse_file).write_text(json.dumps({"pid": sleeper.pid, "host": os.uname().nodename, "started_at": "x"}))
        with pytest.raises(RunLockedError):
            run_inbox_cycle(Inbox(tmp_path, settings()), warehouse_file, FakePipeline(), lock_wait_seconds=0)
        assert (tmp_path / "form_a.csv").exists(), "the file stays in the inbox for the next poll"
    finally:
        sleeper.kill()
        sleeper.wait()
        lock_path(warehouse_file).unlink(missing_ok=True)


def interrupted_claim(box: Inbox, tmp_path: Path, name: str, attempts: int) -> Path:
    """A claim as a killed run leaves it: in processing/, owned by a pid that is gone."""
    import subprocess
    import sys

    claim = box.claim(drop(tmp_path, name))
    assert claim is not None
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    data = json.loads((claim.folder / CLAIM_FILE).read_text())
    (claim.folder / CLAIM_FILE).write_text(json.dumps({**data, "pid": dead.pid, "attempts": attempts}))
    return claim.folder


def test_interrupted_claims_are_retried_then_given_up(tmp_path: Path, warehouse_file: str) -> None:
    box = Inbox(tmp_path, settings(max_attempts=2))
    retried = interrupted_claim(box, tmp_path, "retry_form.csv", attempts=1)
    exhausted = interrupted_claim(box, tmp_path, "crasher.csv", attempts=2)
    # A stale run lock of the killed run is recovered, too.
    import subprocess
    import sys

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    lock_path(warehouse_file).write_text(json.dumps({"pid": dead.pid, "host": os.uname().nodename, "started_at": "x"}))

    pipeline = FakePipeline({"retry_form.csv": "already_loaded"})
    cycle = run_inbox_cycle(box, warehouse_file, pipeline, lock_wait_seconds=0)
    assert [Path(f).name for f in pipeline.calls[0]] == ["retry_form.csv"]
    assert {o.name: o.status for o in cycle.outcomes} == {"retry_form.csv": "processed", "crasher.csv": "failed"}
    result = json.loads((tmp_path / "processed" / retried.name / "result.json").read_text())
    assert result["status"] == "already_loaded" and result["attempts"] == 2
    report = (tmp_path / "failed" / exhausted.name / "error.txt").read_text()
    assert "gave up on crasher.csv" in report and "2 time(s)" in report and "Nothing of it was loaded twice" in report
    assert list((tmp_path / "processing").iterdir()) == []


def test_claims_of_a_live_process_are_left_alone(tmp_path: Path, warehouse_file: str) -> None:
    import subprocess
    import sys

    box = Inbox(tmp_path, settings())
    claim = box.claim(drop(tmp_path, "busy.csv"))
    assert claim is not None
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        data = json.loads((claim.folder / CLAIM_FILE).read_text())
        (claim.folder / CLAIM_FILE).write_text(json.dumps({**data, "pid": live.pid}))
        pipeline = FakePipeline()
        assert run_inbox_cycle(box, warehouse_file, pipeline, lock_wait_seconds=0).outcomes == []
        assert pipeline.calls == [] and claim.path.exists()
    finally:
        live.kill()
        live.wait()


def test_release_puts_a_file_back(tmp_path: Path) -> None:
    box = Inbox(tmp_path, settings())
    claim = box.claim(drop(tmp_path, "a.csv"))
    assert claim is not None
    assert box.release(claim) == tmp_path / "a.csv" and (tmp_path / "a.csv").exists()
    assert list((tmp_path / "processing").iterdir()) == []
    held = RunLock(tmp_path / "x.duckdb")
    assert not held.path.exists()


def fail_for(name: str, real):  # type: ignore[no-untyped-def]
    """``real`` (an Inbox method taking a claim first), raising OSError for the claim of file ``name``."""
    def wrapper(self: Inbox, claim, *args, **kwargs):  # type: ignore[no-untyped-def]
        if claim.name == name:
            raise OSError(28, "No space left on device")
        return real(self, claim, *args, **kwargs)
    return wrapper


def test_a_file_that_cannot_be_filed_does_not_strand_the_others(
    tmp_path: Path, warehouse_file: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    box = Inbox(tmp_path, settings())
    for name in ("a_form.csv", "b_form.csv", "c_form.csv"):
        drop(tmp_path, name)
    drop(tmp_path, "d_broken.csv", "colour,shoe\nred,42\n")
    monkeypatch.setattr(Inbox, "complete", fail_for("b_form.csv", Inbox.complete))
    cycle = run_inbox_cycle(box, warehouse_file, FakePipeline({"d_broken.csv": "failed"}), lock_wait_seconds=0)

    assert {o.name: o.status for o in cycle.outcomes} == {
        "a_form.csv": "processed", "b_form.csv": "failed", "c_form.csv": "processed", "d_broken.csv": "failed",
    }
    stuck = next(o for o in cycle.outcomes if o.name == "b_form.csv")
    assert stuck.error == "could not file the result: OSError: [Errno 28] No space left on device"
    assert stuck.batch is not None and stuck.batch.status == "loaded"
    assert stuck.folder.parent == tmp_path / "failed" and (stuck.folder / "b_form.csv").exists()
    report = (stuck.folder / "error.txt").read_text()
    assert "could not file the result of b_form.csv" in report and "No space left on device" in report
    assert "Its rows were committed before the failure" in report
    assert list((tmp_path / "processing").iterdir()) == []
    assert not lock_path(warehouse_file).exists()


def test_a_claim_that_cannot_be_moved_at_all_is_retried_by_the_next_cycle(
    tmp_path: Path, warehouse_file: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    box = Inbox(tmp_path, settings())
    drop(tmp_path, "a_form.csv")
    drop(tmp_path, "b_form.csv")
    real_finish = Inbox._finish
    monkeypatch.setattr(Inbox, "_finish", fail_for("b_form.csv", real_finish))
    cycle = run_inbox_cycle(box, warehouse_file, FakePipeline(), lock_wait_seconds=0)
    assert {o.name: o.status for o in cycle.outcomes} == {"a_form.csv": "processed", "b_form.csv": "failed"}
    stuck = next(o for o in cycle.outcomes if o.name == "b_form.csv")
    assert stuck.folder.parent == tmp_path / "processing" and "the next cycle retries it" in (stuck.error or "")

    monkeypatch.setattr(Inbox, "_finish", real_finish)
    pipeline = FakePipeline({"b_form.csv": "already_loaded"})
    again = run_inbox_cycle(box, warehouse_file, pipeline, lock_wait_seconds=0)
    assert [Path(f).name for f in pipeline.calls[0]] == ["b_form.csv"]
    assert [(o.name, o.status) for o in again.outcomes] == [("b_form.csv", "processed")]
    assert json.loads((again.outcomes[0].folder / "result.json").read_text())["attempts"] == 2
    assert list((tmp_path / "processing").iterdir()) == []


def test_files_are_filed_even_when_their_rejects_cannot_be_read(
    tmp_path: Path, warehouse_file: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    import flows.inbox as inbox_module

    def unreadable(*args: object) -> None:
        raise OSError("warehouse unreadable")

    monkeypatch.setattr(inbox_module, "rejects", unreadable)
    box = Inbox(tmp_path, settings())
    drop(tmp_path, "a_form.csv")
    cycle = run_inbox_cycle(box, warehouse_file, FakePipeline(), lock_wait_seconds=0)
    assert [(o.name, o.status) for o in cycle.outcomes] == [("a_form.csv", "processed")]
    result = json.loads((cycle.outcomes[0].folder / "result.json").read_text())
    assert result["rejects_error"] == "OSError: warehouse unreadable" and result["reject_reasons"] == {}
    assert not (cycle.outcomes[0].folder / "rejects.csv").exists()
    assert list((tmp_path / "processing").iterdir()) == []


def test_watch_output_points_at_the_report_that_exists(
    tmp_path: Path, warehouse_file: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    """A claim left in processing/ has no error.txt when writing it failed: the output names the folder."""
    from flows.cli_operations import _print_cycle

    box = Inbox(tmp_path, settings())
    drop(tmp_path, "a_form.csv")
    drop(tmp_path, "b_form.csv")
    drop(tmp_path, "c_broken.csv", "colour,shoe\nred,42\n")
    monkeypatch.setattr(Inbox, "complete", fail_for("b_form.csv", Inbox.complete))
    monkeypatch.setattr(Inbox, "fail", fail_for("b_form.csv", Inbox.fail))  # disk full: not even error.txt
    rebuilt = DedupResult(golden_rebuilt=1073, golden_rebuilt_because="the survivorship rules changed")
    cycle = run_inbox_cycle(box, warehouse_file, FakePipeline({"c_broken.csv": "failed"}, dedup=rebuilt), lock_wait_seconds=0)
    stuck = next(o for o in cycle.outcomes if o.name == "b_form.csv")
    broken = next(o for o in cycle.outcomes if o.name == "c_broken.csv")
    assert stuck.folder.parent == tmp_path / "processing" and not (stuck.folder / "error.txt").exists()

    _print_cycle(cycle, box.root)
    out = capsys.readouterr()
    err = " ".join(out.err.split()) + " "  # rich wraps long lines
    assert ("failed b_form.csv: could not file the result: OSError: [Errno 28] No space left on device "
            f"(left in processing/; the next cycle retries it) -> processing/{stuck.folder.name}/ ") in err, out.err
    assert "error.txt" not in err.replace(f"failed/{broken.folder.name}/error.txt", ""), out.err
    assert f"failed c_broken.csv: no column maps to a lead field (hint: add a mapping) -> failed/{broken.folder.name}/error.txt " in err
    assert (broken.folder / "error.txt").exists()
    assert "processed a_form.csv: 4 read = 2 loaded + 1 rejected + 1 skipped -> processed/" in out.out
    assert "1073 golden record(s) rebuilt first: the survivorship rules changed" in out.out


def test_a_claim_whose_move_failed_keeps_its_claim_file_and_is_retried_clean(
    tmp_path: Path, warehouse_file: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The rename out of processing/ fails (permissions): the claim keeps claim.json, so the retry takes
    the dropped file (not error.txt or result.json beside it) and files it without that attempt's error.txt."""
    box = Inbox(tmp_path, settings())
    drop(tmp_path, "b_form.csv")
    real_rename = os.rename

    def rename(src, dst):  # type: ignore[no-untyped-def]
        if Path(dst).parent.name in ("processed", "failed"):
            raise PermissionError(13, "Permission denied")
        return real_rename(src, dst)

    monkeypatch.setattr(os, "rename", rename)
    cycle = run_inbox_cycle(box, warehouse_file, FakePipeline(), lock_wait_seconds=0)
    monkeypatch.setattr(os, "rename", real_rename)
    stuck = cycle.outcomes[0]
    assert stuck.folder.parent == tmp_path / "processing"
    assert json.loads((stuck.folder / CLAIM_FILE).read_text())["file"] == "b_form.csv"
    assert {"b_form.csv", "error.txt", "result.json"} <= {p.name for p in stuck.folder.iterdir()}

    pipeline = FakePipeline({"b_form.csv": "already_loaded"})
    again = run_inbox_cycle(box, warehouse_file, pipeline, lock_wait_seconds=0)
    assert [Path(f).name for f in pipeline.calls[0]] == ["b_form.csv"]
    assert [(o.name, o.status) for o in again.outcomes] == [("b_form.csv", "processed")]
    filed = again.outcomes[0].folder
    assert not (filed / "error.txt").exists() and not (filed / CLAIM_FILE).exists()
    assert json.loads((filed / "result.json").read_text())["attempts"] == 2
    assert list((tmp_path / "processing").iterdir()) == []

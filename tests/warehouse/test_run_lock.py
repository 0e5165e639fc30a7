"""The run lock: one run per warehouse, waiting or failing clearly, stale locks recovered."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from warehouse.run_lock import RunLock, RunLockedError, held_by_this_process, lock_path, read_holder


def dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def write_lock(db: Path, pid: int, host: str | None = None) -> Path:
    path = lock_path(db)
    path.write_text(json.dumps({"pid": pid, "host": host or socket.gethostname(), "started_at": "2026-11-23T01:00:00", "command": "leadpipe run"}))
    return path


def test_lock_file_beside_the_database_holds_pid_and_host(db_path: Path) -> None:
    lock = RunLock(db_path)
    with lock.hold(wait_seconds=0):
        holder = read_holder(lock_path(db_path))
        assert holder is not None and holder.host == socket.gethostname()
        assert lock_path(db_path) == db_path.resolve().with_name("wh.duckdb.lock")
        assert held_by_this_process(db_path)
    assert not lock_path(db_path).exists()
    assert not held_by_this_process(db_path)


def test_reentrant_in_one_process(db_path: Path) -> None:
    lock = RunLock(db_path)
    with lock.hold(0):
        with RunLock(db_path).hold(0):
            assert lock_path(db_path).exists()
        assert lock_path(db_path).exists(), "the inner release must not drop the outer hold"
    assert not lock_path(db_path).exists()


def test_no_wait_fails_with_a_clear_message_when_a_live_run_holds_it(db_path: Path) -> None:
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        write_lock(db_path, sleeper.pid)
        with pytest.raises(RunLockedError) as info:
            RunLock(db_path).acquire(wait_seconds=0)
        assert f"pid {sleeper.pid}" in info.value.message and "another leadpipe run" in info.value.message
        assert "--no-wait" in (info.value.hint or "")
        assert read_holder(lock_path(db_path)).pid == sleeper.pid  # untouched
    finally:
        sleeper.kill()
        sleeper.wait()


def test_waits_with_a_message_then_gets_the_lock(db_path: Path) -> None:
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    messages: list[str] = []
    try:
        write_lock(db_path, sleeper.pid)
        releaser = threading.Timer(0.5, lambda: lock_path(db_path).unlink())
        releaser.start()
        lock = RunLock(db_path, poll_seconds=0.05, on_wait=lambda h: messages.append(h.describe() if h else "?"))
        lock.acquire(wait_seconds=None)
        releaser.join()
        assert read_holder(lock_path(db_path)).pid != sleeper.pid
        assert messages and f"pid {sleeper.pid}" in messages[0]
        lock.release()
    finally:
        sleeper.kill()
        sleeper.wait()


def test_bounded_wait_gives_up(db_path: Path) -> None:
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        write_lock(db_path, sleeper.pid)
        with pytest.raises(RunLockedError, match="another leadpipe run"):
            RunLock(db_path, poll_seconds=0.05, on_wait=lambda h: None).acquire(wait_seconds=0.2)
    finally:
        sleeper.kill()
        sleeper.wait()


def test_stale_lock_of_a_killed_run_is_recovered(db_path: Path) -> None:
    write_lock(db_path, dead_pid())
    with RunLock(db_path).hold(wait_seconds=0):
        holder = read_holder(lock_path(db_path))
        assert holder is not None and holder.pid != 0
        import os

        assert holder.pid == os.getpid()
    assert not list(db_path.parent.glob("*.stale-*"))


def test_lock_of_another_host_is_not_taken_over(db_path: Path) -> None:
    write_lock(db_path, dead_pid(), host="some-other-host")
    with pytest.raises(RunLockedError) as info:
        RunLock(db_path).acquire(wait_seconds=0)
    assert "some-other-host" in info.value.message
    assert str(lock_path(db_path)) in (info.value.hint or "")


def test_two_processes_never_hold_it_together(db_path: Path, tmp_path: Path) -> None:
    """Several processes race for the lock; each appends start/end marks while holding it."""
    log = tmp_path / "log.txt"
    script = (
        "import sys, time\n"
        "from warehouse.run_lock import RunLock\n"
        f"with RunLock({str(db_path)!r}, poll_seconds=0.01).hold(None):\n"
        f"    open({str(log)!r}, 'a').write('start\\n'); time.sleep(0.05); open({str(log)!r}, 'a').write('end\\n')\n"
    )
    procs = [subprocess.Popen([sys.executable, "-c", script], cwd=Path(__file__).resolve().parents[2]) for _ in range(4)]
    for p in procs:
        assert p.wait(timeout=60) == 0
    lines = log.read_text().split()
    assert lines == ["start", "end"] * 4
    assert not lock_path(db_path).exists()
    time.sleep(0)  # nothing left behind

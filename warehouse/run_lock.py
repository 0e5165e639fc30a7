"""One pipeline run at a time per warehouse: a lock file beside the DuckDB file.

DuckDB itself refuses a second writer, but only at the moment a step opens the file; a run
opens and closes the warehouse once per step, so two runs could interleave their steps. The
run lock covers a whole run.

The lock is ``<db>.lock`` (``leadpipe.duckdb`` -> ``leadpipe.duckdb.lock``), created with
``O_CREAT | O_EXCL`` (atomic: exactly one process succeeds) and holding JSON with the holder's
pid, host name, start time and command. A lock whose pid is no longer alive *on this host* is
stale (its run was killed) and is recovered. A lock from another host is never taken over:
leadpipe cannot see that host's processes; the error says which file to remove.

The lock is re-entrant within a process: the drop-folder cycle holds it across claim, run and
result files while the pipeline flow it calls takes it again.

Example:
    >>> with RunLock("wh.duckdb").hold(wait_seconds=0):   # doctest: +SKIP
    ...     run_the_pipeline()
"""

from __future__ import annotations

import json
import logging
import os
import socket
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from transforms.clock import utc_now
from transforms.errors import WarehouseError

log = logging.getLogger(__name__)
progress = logging.getLogger("leadpipe.progress")

#: A lock file that cannot be parsed is being written right now, unless it is older than this.
UNREADABLE_GRACE_SECONDS = 30.0

# path -> depth: locks this process holds (re-entrancy).
_HELD: dict[str, int] = {}


class RunLockedError(WarehouseError):
    """Another run holds the warehouse's run lock (and we were asked not to wait, or waited long enough)."""

    def __init__(self, message: str, *, holder: LockHolder | None, lock_file: str, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.holder = holder
        self.lock_file = lock_file


@dataclass(frozen=True)
class LockHolder:
    """Who holds a run lock."""

    pid: int
    host: str
    started_at: str
    command: str = ""

    def describe(self) -> str:
        return f"pid {self.pid} on {self.host}, running since {self.started_at} UTC" + (
            f" ({self.command})" if self.command else ""
        )


def lock_path(db_path: str | Path) -> Path:
    """``leadpipe.duckdb`` -> ``leadpipe.duckdb.lock`` beside it."""
    path = Path(db_path).resolve()
    return path.with_name(path.name + ".lock")


def pid_alive(pid: int) -> bool:
    """True when a process with this pid exists on this host."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def _this_holder() -> LockHolder:
    started = utc_now().isoformat(timespec="seconds")
    command = " ".join(Path(sys.argv[0]).name.split() + sys.argv[1:3]) if sys.argv and sys.argv[0] else ""
    return LockHolder(os.getpid(), socket.gethostname(), started, command[:120])


def read_holder(path: Path) -> LockHolder | None:
    """The holder recorded in a lock file; None when it is missing or (being) written."""
    try:
        data = json.loads(path.read_text("utf-8"))
        return LockHolder(int(data["pid"]), str(data["host"]), str(data["started_at"]), str(data.get("command", "")))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError):
        return None


def is_stale(path: Path, holder: LockHolder | None) -> bool:
    """A lock is stale when its process is gone from this host, or it stayed unreadable too long."""
    if holder is None:
        try:
            age = time.time() - path.stat().st_mtime
        except FileNotFoundError:
            return False
        return age > UNREADABLE_GRACE_SECONDS
    return holder.host == socket.gethostname() and not pid_alive(holder.pid)


class RunLock:
    """The run lock of one warehouse file.

    Args:
        db_path: the DuckDB file the lock protects.
        poll_seconds: how often a waiting run looks again.
        on_wait: called once with the holder when a run starts waiting (default: a progress message).
    """

    def __init__(
        self,
        db_path: str | Path,
        *,
        poll_seconds: float = 1.0,
        on_wait: Callable[[LockHolder | None], None] | None = None,
    ) -> None:
        self.path = lock_path(db_path)
        self.poll_seconds = poll_seconds
        self.on_wait = on_wait or self._announce

    def _announce(self, holder: LockHolder | None) -> None:
        who = holder.describe() if holder else "another process"
        message = f"waiting for the run of {who} to finish (lock {self.path})"
        progress.info(message)
        log.warning(message)

    def _try_create(self) -> bool:
        try:
            fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(_this_holder().__dict__, out)
        return True

    def _remove_stale(self, seen: LockHolder | None) -> None:
        """Take a stale lock away, without ever removing a lock a live run created meanwhile."""
        aside = self.path.with_name(f"{self.path.name}.stale-{uuid.uuid4().hex[:8]}")
        try:
            os.rename(self.path, aside)  # atomic: only one recovering process gets the file
        except FileNotFoundError:
            return
        moved = read_holder(aside)
        if seen is not None and moved != seen:
            # Between our read and the rename another process recovered the lock and took it:
            # put its lock back (link fails if yet another one exists, which then holds the lock).
            try:
                os.link(aside, self.path)
            except FileExistsError:
                pass
        else:
            log.warning("recovered stale run lock %s (%s)", self.path, seen.describe() if seen else "unreadable")
        aside.unlink(missing_ok=True)

    def acquire(self, wait_seconds: float | None = None) -> None:
        """Take the lock.

        Args:
            wait_seconds: how long to wait for a running run; ``0`` fails at once, ``None`` waits
                as long as it takes.

        Raises:
            RunLockedError: another live run holds the lock after ``wait_seconds``.
        """
        key = str(self.path)
        if _HELD.get(key):
            _HELD[key] += 1
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        deadline = None if wait_seconds is None else time.monotonic() + wait_seconds
        announced = False
        while True:
            if self._try_create():
                _HELD[key] = 1
                return
            holder = read_holder(self.path)
            if is_stale(self.path, holder):
                self._remove_stale(holder)
                continue
            if deadline is not None and time.monotonic() >= deadline:
                raise self._busy(holder, waited=bool(wait_seconds))
            if not announced:
                self.on_wait(holder)
                announced = True
            time.sleep(self.poll_seconds if deadline is None else max(0.0, min(self.poll_seconds, deadline - time.monotonic())))

    def _busy(self, holder: LockHolder | None, *, waited: bool) -> RunLockedError:
        who = holder.describe() if holder else "another process"
        other_host = holder is not None and holder.host != socket.gethostname()
        hint = (
            f"wait for that run to finish, or run without --no-wait to queue behind it"
            if not waited
            else "that run is still going; try again later, or raise [schedule] lock_wait_seconds"
        )
        if other_host:
            hint += f"; if that host's run is gone for good, delete {self.path}"
        return RunLockedError(
            f"another leadpipe run is writing this warehouse: {who}",
            holder=holder,
            lock_file=str(self.path),
            hint=hint,
        )

    def release(self) -> None:
        """Give the lock back (the file is removed when the outermost holder releases it)."""
        key = str(self.path)
        depth = _HELD.get(key, 0)
        if depth > 1:
            _HELD[key] = depth - 1
            return
        _HELD.pop(key, None)
        holder = read_holder(self.path)
        if holder is not None and (holder.pid, holder.host) == (os.getpid(), socket.gethostname()):
            self.path.unlink(missing_ok=True)

    @contextmanager
    def hold(self, wait_seconds: float | None = None) -> Iterator[RunLock]:
        """Hold the lock for the duration of a ``with`` block."""
        self.acquire(wait_seconds)
        try:
            yield self
        finally:
            self.release()


def held_by_this_process(db_path: str | Path) -> bool:
    """True while this process holds the run lock of ``db_path``."""
    return bool(_HELD.get(str(lock_path(db_path))))


def live_holder(db_path: str | Path) -> LockHolder | None:
    """The holder of ``db_path``'s run lock if another live process holds it (not this one), else None."""
    if held_by_this_process(db_path):
        return None
    path = lock_path(db_path)
    holder = read_holder(path)
    if holder is None or is_stale(path, holder):
        return None
    return holder

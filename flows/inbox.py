"""The drop folder: claim new files atomically, run the pipeline on them, file the results.

Filesystem orchestration only; no Prefect here (the `inbox-poll` flow and `leadpipe watch` both
call :func:`run_inbox_cycle`), so it is tested without a server.

Layout inside the drop folder ``INBOX/``::

    INBOX/web_form.csv                                   dropped by a person or a sync job
    INBOX/processing/20261123T101500Z_web_form.csv/      claimed: the file + claim.json
    INBOX/processed/20261123T101500Z_web_form.csv/       the file + result.json (+ rejects.csv)
    INBOX/failed/20261123T101500Z_web_form.csv/          the file + error.txt + result.json

A file is claimed by ``os.rename`` into its own folder under ``processing/`` (atomic on one
filesystem: of two watchers exactly one gets it) and keeps its name, so source rules that match
file names still apply. The folder moves as a whole to ``processed/`` or ``failed/`` once its
result files are written. A cycle runs under the warehouse's run lock, so a claim left in
``processing/`` at the start of a cycle belongs to a run that was killed: it is retried (safe:
a file whose content hash is loaded is never loaded again) until ``[inbox] max_attempts``, then
moved to ``failed/``.
"""

from __future__ import annotations

import fnmatch
import json
import logging
import os
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import polars as pl

from flows.operations_config import InboxSettings
from transforms.clock import utc_now
from transforms.errors import LeadpipeError
from transforms.export import write_safe_csv
from transforms.ingest import file_sha256
from warehouse.batches import BatchResult, find_loaded_batch
from warehouse.connection import Warehouse
from warehouse.run_lock import RunLock, pid_alive
from warehouse.runs import RunSummary
from warehouse.status import rejects

log = logging.getLogger(__name__)
progress = logging.getLogger("leadpipe.progress")

PROCESSING = "processing"
PROCESSED = "processed"
FAILED = "failed"
CLAIM_FILE = "claim.json"
RESULT_FILE = "result.json"
ERROR_FILE = "error.txt"
REJECTS_FILE = "rejects.csv"


class PipelineOutcome(Protocol):
    """What the cycle needs from a pipeline run (``flows.pipeline.PipelineResult``)."""

    batches: list[BatchResult]
    summary: RunSummary | None


@dataclass
class Claim:
    """A file claimed into ``processing/<claim_id>/``."""

    folder: Path
    name: str
    attempts: int = 1
    claimed_at: str = ""

    @property
    def path(self) -> Path:
        return self.folder / self.name

    @property
    def claim_id(self) -> str:
        return self.folder.name

    def write(self) -> None:
        data = {"file": self.name, "attempts": self.attempts, "claimed_at": self.claimed_at,
                "pid": os.getpid(), "host": socket.gethostname()}
        tmp = self.folder / f".{CLAIM_FILE}.tmp"
        tmp.write_text(json.dumps(data, indent=2), "utf-8")
        os.replace(tmp, self.folder / CLAIM_FILE)


@dataclass(frozen=True)
class FileOutcome:
    """Where one claimed file ended up."""

    name: str
    status: str  # "processed" or "failed"
    folder: Path
    batch: BatchResult | None = None
    error: str | None = None


@dataclass
class CycleResult:
    """What one drop-folder cycle did."""

    outcomes: list[FileOutcome] = field(default_factory=list)
    summary: RunSummary | None = None  # the pipeline_runs row of the cycle's run
    error: str | None = None
    #: golden records the run's dedup stage rebuilt first, and why (``DedupResult.golden_rebuilt``)
    golden_rebuilt: tuple[int, str] | None = None

    @property
    def run_id(self) -> int | None:
        return self.summary.run_id if self.summary else None

    @property
    def processed(self) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.status == PROCESSED]

    @property
    def failed(self) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.status == FAILED]


class StabilityTracker:
    """Remembers each candidate's size and mtime; a file is ready once they stayed put long enough.

    Args:
        stable_seconds: how long size and mtime must not change.
        clock: a monotonic clock (injected by tests).
    """

    def __init__(self, stable_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.stable_seconds = stable_seconds
        self.clock = clock
        self._seen: dict[Path, tuple[tuple[int, int], float]] = {}

    def observe(self, paths: Sequence[Path]) -> list[Path]:
        """Record the current state of ``paths``; return those unchanged for ``stable_seconds``."""
        now = self.clock()
        ready = []
        current = set(paths)
        for path in paths:
            try:
                st = path.stat()
            except FileNotFoundError:
                continue
            signature = (st.st_size, st.st_mtime_ns)
            previous = self._seen.get(path)
            if previous is None or previous[0] != signature:
                self._seen[path] = (signature, now)
                if self.stable_seconds > 0:
                    continue
            if now - self._seen[path][1] >= self.stable_seconds:
                ready.append(path)
        for gone in set(self._seen) - current:
            del self._seen[gone]
        return ready


def ignored_name(name: str, patterns: Sequence[str]) -> bool:
    """True when a file name matches one of the ``[inbox] ignore`` globs (case-insensitively).

    The one rule for both ways files come in: the drop folder and the scheduled import.

    Example:
        >>> [ignored_name(n, ("~$*", "*.tmp")) for n in ("~$leads.xlsx", "leads.CSV.TMP", "leads.csv")]
        [True, True, False]
    """
    return any(fnmatch.fnmatchcase(name, p) or fnmatch.fnmatchcase(name.lower(), p.lower()) for p in patterns)


class Inbox:
    """A drop folder and its processing/, processed/ and failed/ subfolders."""

    def __init__(self, root: str | Path, settings: InboxSettings) -> None:
        self.root = Path(root).resolve()
        self.settings = settings
        if not self.root.is_dir():
            raise LeadpipeError(f"drop folder {self.root} does not exist", hint="create it, or check [inbox] path / the INBOX argument")
        for sub in (PROCESSING, PROCESSED, FAILED):
            (self.root / sub).mkdir(exist_ok=True)

    def pending_claims(self) -> bool:
        """True when processing/ holds claims (left by an interrupted run, or being processed)."""
        return any(p.is_dir() for p in (self.root / PROCESSING).iterdir())

    def ignored(self, name: str) -> bool:
        """True for names that are never picked up (temporary, hidden, Office lock files)."""
        return ignored_name(name, self.settings.ignore)

    def candidates(self) -> list[Path]:
        """Regular files directly in the drop folder that are not ignored, by name."""
        found = []
        for entry in os.scandir(self.root):
            if entry.is_file() and not self.ignored(entry.name):
                found.append(Path(entry.path))
        return sorted(found)

    def wait_until_stable(self, sleep: Callable[[float], None] = time.sleep, tracker: StabilityTracker | None = None) -> list[Path]:
        """Candidates whose size and mtime do not change over ``stable_seconds`` (one look, a wait, a second look)."""
        tracker = tracker or StabilityTracker(self.settings.stable_seconds)
        first = tracker.observe(self.candidates())
        if self.settings.stable_seconds <= 0 or not self.candidates():
            return first
        sleep(self.settings.stable_seconds)
        return tracker.observe(self.candidates())

    def _new_claim_folder(self, name: str) -> Path:
        stamp = utc_now().strftime("%Y%m%dT%H%M%SZ")
        base = self.root / PROCESSING / f"{stamp}_{name}"
        folder, n = base, 1
        while True:
            try:
                folder.mkdir()
                return folder
            except FileExistsError:
                n += 1
                folder = base.with_name(f"{base.name}.{n}")

    def claim(self, path: Path) -> Claim | None:
        """Move ``path`` into its own processing folder; None when someone else claimed it first."""
        folder = self._new_claim_folder(path.name)
        claim = Claim(folder, path.name, 1, utc_now().isoformat(timespec="seconds"))
        try:
            os.rename(path, claim.path)
        except FileNotFoundError:
            folder.rmdir()
            return None
        claim.write()
        log.info("claimed %s as %s", path.name, claim.claim_id)
        return claim

    def release(self, claim: Claim) -> Path:
        """Put a claimed file back into the drop folder (it was not processed)."""
        target = self.root / claim.name
        if target.exists():
            target = self.root / f"{claim.claim_id}_{claim.name}"
        os.rename(claim.path, target)
        (claim.folder / CLAIM_FILE).unlink(missing_ok=True)
        claim.folder.rmdir()
        return target

    def recover(self) -> tuple[list[Claim], list[FileOutcome]]:
        """Claims left in processing/ by a killed run: the ones to retry, and those moved to failed/.

        Call it while holding the warehouse's run lock (no run of this warehouse is live then).
        """
        retry: list[Claim] = []
        failed: list[FileOutcome] = []
        for folder in sorted(p for p in (self.root / PROCESSING).iterdir() if p.is_dir()):
            info = _read_json(folder / CLAIM_FILE)
            files = [p for p in folder.iterdir() if p.is_file() and p.name not in (CLAIM_FILE, f".{CLAIM_FILE}.tmp")]
            if not files:
                for leftover in folder.iterdir():
                    leftover.unlink()
                folder.rmdir()
                continue
            results = {ERROR_FILE, RESULT_FILE, REJECTS_FILE}
            name = str(info.get("file") or next((p.name for p in sorted(files) if p.name not in results), files[0].name))
            pid, host = int(info.get("pid") or 0), info.get("host")
            if host == socket.gethostname() and pid != os.getpid() and pid_alive(pid):
                continue  # another live process (a watcher of another warehouse?) works on it
            claim = Claim(folder, name, int(info.get("attempts") or 1), str(info.get("claimed_at") or ""))
            if claim.attempts >= self.settings.max_attempts:
                report = interrupted_report(claim, self.root)
                failed.append(self.fail(claim, report, {"status": "failed", "error": "interrupted", "attempts": claim.attempts}))
                continue
            for stale in results - {name}:  # what an earlier attempt that could not be filed wrote
                try:
                    (folder / stale).unlink(missing_ok=True)
                except OSError:
                    log.warning("could not remove %s", folder / stale, exc_info=True)
            claim.attempts += 1
            claim.write()
            log.warning("retrying %s (attempt %d of %d) after an interrupted run", name, claim.attempts, self.settings.max_attempts)
            retry.append(claim)
        return retry, failed

    def _finish(self, claim: Claim, area: str) -> Path:
        target = self.root / area / claim.claim_id
        n = 1
        while target.exists():
            n += 1
            target = self.root / area / f"{claim.claim_id}.{n}"
        os.rename(claim.folder, target)
        # Only once moved: a claim that cannot be moved keeps its claim.json (file name, attempts) for the retry.
        try:
            (target / CLAIM_FILE).unlink(missing_ok=True)
        except OSError:
            log.warning("could not remove %s", target / CLAIM_FILE, exc_info=True)
        return target

    def complete(self, claim: Claim, result: dict[str, Any], rejects_frame: pl.DataFrame | None = None) -> Path:
        """Write result.json (and rejects.csv) beside the file, then move it to processed/."""
        if rejects_frame is not None and rejects_frame.height:
            write_safe_csv(rejects_frame, claim.folder / REJECTS_FILE)
            result = {**result, "rejects_file": REJECTS_FILE}
        _write_json(claim.folder / RESULT_FILE, result)
        return self._finish(claim, PROCESSED)

    def fail(self, claim: Claim, report: str, result: dict[str, Any]) -> FileOutcome:
        """Write error.txt and result.json beside the file, then move it to failed/."""
        (claim.folder / ERROR_FILE).write_text(report, "utf-8")
        _write_json(claim.folder / RESULT_FILE, {"file": claim.name, "attempts": claim.attempts, **result})
        folder = self._finish(claim, FAILED)
        log.warning("%s moved to %s", claim.name, folder)
        return FileOutcome(claim.name, FAILED, folder, error=str(result.get("error")))


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text("utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=2, default=str) + "\n", "utf-8")


# --- reports --------------------------------------------------------------------------------------
def _put_back(inbox_root: Path) -> str:
    return ("When it is fixed, put the file back into the drop folder; the next poll picks it up:\n"
            f"    {inbox_root}\n"
            "  (best: copy it in as NAME.part and rename it to NAME when the copy is complete).")


def failed_batch_report(claim: Claim, batch: BatchResult, inbox_root: Path) -> str:
    """error.txt for a file the ingest stage refused as a whole."""
    return (
        f"leadpipe could not load {claim.name}\n\n"
        f"What went wrong:\n  {batch.error}\n\n"
        "What to do:\n"
        "  Fix the file (headers, encoding, format), or tell leadpipe how to read it with an\n"
        "  [[ingest.sources]] rule in the configuration (e.g. columns = { \"Mail\" = \"email\" }).\n"
        f"  {_put_back(inbox_root)}\n\n"
        f"Nothing of this file is in the warehouse: import_batches row {batch.batch_id} records the\n"
        "attempt with status 'failed' and 0 rows.\n\n"
        f"Claimed {claim.claimed_at} UTC as {claim.claim_id}, attempt {claim.attempts}.\n"
    )


def crash_report(claim: Claim, error: str, loaded: BatchResult | None, inbox_root: Path, *, heading: str | None = None) -> str:
    """error.txt for a file whose pipeline run raised an error (or whose result could not be filed: ``heading``)."""
    where = (
        f"Its rows were committed before the failure (batch {loaded.batch_id}: {loaded.rows_loaded} leads, "
        f"{loaded.rows_rejected} rejects);\nput it back once the cause is fixed: it is recognised as already loaded "
        "(nothing is loaded twice)\nand the run finishes the remaining stages."
        if loaded is not None
        else "Nothing of this file is in the warehouse (its import did not commit)."
    )
    heading = heading or f"leadpipe's pipeline failed while processing {claim.name}"
    return (
        f"{heading}\n\n"
        f"What went wrong:\n  {error}\n\n"
        f"{where}\n\n"
        "What to do:\n"
        "  If the message names a problem with the file, fix the file. Otherwise this is a bug or an\n"
        "  environment problem (disk full, warehouse locked): fix that, or report it with this text\n"
        "  (set LEADPIPE_DEBUG=1 to see the traceback).\n"
        f"  {_put_back(inbox_root)}\n\n"
        f"Claimed {claim.claimed_at} UTC as {claim.claim_id}, attempt {claim.attempts}.\n"
    )


def interrupted_report(claim: Claim, inbox_root: Path) -> str:
    """error.txt for a file whose runs were killed ``max_attempts`` times."""
    return (
        f"leadpipe gave up on {claim.name}\n\n"
        f"What went wrong:\n  the process running the pipeline on this file ended {claim.attempts} time(s) before\n"
        "  it finished (killed, out of memory, machine restarted).\n\n"
        "Nothing of it was loaded twice: each file commits in one transaction and a file whose\n"
        "content is already loaded is skipped. `leadpipe status` shows whether it was loaded.\n\n"
        "What to do:\n"
        "  If the file is very large, split it or give the machine more memory; check the logs of\n"
        "  the killed run.\n"
        f"  {_put_back(inbox_root)}\n\n"
        f"First claimed {claim.claimed_at} UTC as {claim.claim_id}.\n"
    )


def _batch_fields(batch: BatchResult) -> dict[str, Any]:
    return {
        "status": batch.status,
        "batch_id": batch.batch_id,
        "rows_read": batch.rows_read,
        "rows_loaded": batch.rows_loaded,
        "rows_rejected": batch.rows_rejected,
        "rows_skipped": batch.rows_skipped,
        "balanced": batch.rows_read == batch.rows_loaded + batch.rows_rejected + batch.rows_skipped,
    }


def _reason_counts(frame: pl.DataFrame) -> dict[str, int]:
    if frame.height == 0:
        return {}
    counts = frame.select(pl.col("reasons").explode().alias("reason")).group_by("reason").len().sort("len", descending=True)
    return {str(r): int(n) for r, n in counts.iter_rows()}


# --- one cycle ------------------------------------------------------------------------------------
def run_inbox_cycle(
    inbox: Inbox,
    db: str,
    run_pipeline: Callable[[list[str]], PipelineOutcome],
    *,
    lock_wait_seconds: float | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> CycleResult:
    """Claim the stable files of the drop folder, run the pipeline on them, file each one.

    A file whose result cannot be filed (disk full, permissions) is logged and reported as a failed
    outcome, in failed/ when it can still be moved there, else left in processing/ for the next
    cycle to retry; the other files are filed as usual.

    Args:
        inbox: the drop folder.
        db: the warehouse file (its run lock is held for the whole cycle).
        run_pipeline: runs the whole pipeline on a list of paths (the Prefect flow, or a fake).
        lock_wait_seconds: how long to wait for another run (``None``: as long as it takes).
        sleep: waits ``stable_seconds`` between the two looks at the folder.

    Raises:
        RunLockedError: another run held the warehouse for longer than ``lock_wait_seconds``
            (nothing was claimed).
        Exception: whatever the pipeline raised, after the claimed files were moved to failed/.
    """
    cycle = CycleResult()
    with RunLock(db).hold(lock_wait_seconds):
        retry, gave_up = inbox.recover()
        cycle.outcomes.extend(gave_up)
        ready = inbox.wait_until_stable(sleep)
        claims = retry + [c for c in (inbox.claim(p) for p in ready) if c is not None]
        if not claims:
            return cycle
        progress.info("processing %d file(s) from %s", len(claims), inbox.root)
        try:
            result = run_pipeline([str(c.path) for c in claims])
        except Exception as exc:
            message = f"{type(exc).__name__}: {exc}" if not isinstance(exc, LeadpipeError) else exc.message
            cycle.error = message
            for claim in claims:
                loaded = _loaded_batch(db, claim.path)
                cycle.outcomes.append(inbox.fail(claim, crash_report(claim, message, loaded, inbox.root),
                                                 {"status": "failed", "error": message,
                                                  "batch_id": loaded.batch_id if loaded else None}))
            raise
        cycle.summary = result.summary
        if result.dedup is not None and result.dedup.golden_rebuilt is not None:
            cycle.golden_rebuilt = (result.dedup.golden_rebuilt, result.dedup.golden_rebuilt_because or "")
        cycle.outcomes.extend(_file_results(inbox, db, claims, result, cycle.run_id))
    return cycle


def _loaded_batch(db: str, path: Path) -> BatchResult | None:
    try:
        sha = file_sha256(path)
        with Warehouse.open(db, read_only=True) as wh:
            return find_loaded_batch(wh, sha)
    except LeadpipeError:
        log.debug("cannot look up the batch of %s", path, exc_info=True)
        return None


def _rejects_frames(db: str, claims: list[Claim], by_claim: dict[str, BatchResult]) -> tuple[dict[str, pl.DataFrame], str | None]:
    """The rejected rows of each claimed file that has some; on failure none, and why (the files are filed anyway)."""
    wanted = {c.claim_id: b.batch_id for c in claims
              if (b := by_claim.get(c.claim_id)) is not None and b.status != "failed" and b.batch_id is not None and b.rows_rejected}
    if not wanted:
        return {}, None
    try:
        with Warehouse.open(db, read_only=True) as wh:
            return {claim_id: rejects(wh, batch_id) for claim_id, batch_id in wanted.items()}, None
    except Exception as exc:  # the files must still leave processing/
        log.exception("could not read the rejected rows of the claimed files; filing them without rejects.csv")
        return {}, f"{type(exc).__name__}: {exc}"


def _file_results(inbox: Inbox, db: str, claims: list[Claim], result: PipelineOutcome, run_id: int | None) -> list[FileOutcome]:
    # One result per file, in the order given (an already loaded file reports its first path).
    by_claim = dict(zip((c.claim_id for c in claims), result.batches, strict=False))
    frames, rejects_error = _rejects_frames(db, claims, by_claim)
    outcomes: list[FileOutcome] = []
    for claim in claims:
        batch = by_claim.get(claim.claim_id)
        try:  # one file that cannot be filed must not leave the others in processing/
            outcomes.append(_file_one(inbox, claim, batch, frames.get(claim.claim_id), rejects_error, run_id))
        except Exception as exc:
            log.exception("could not file the result of %s (%s); going on with the other files", claim.name, claim.claim_id)
            outcomes.append(_filing_failed(inbox, claim, batch, f"could not file the result: {type(exc).__name__}: {exc}"))
    return outcomes


def _file_one(inbox: Inbox, claim: Claim, batch: BatchResult | None, frame: pl.DataFrame | None,
              rejects_error: str | None, run_id: int | None) -> FileOutcome:
    common = {"file": claim.name, "claimed_at": claim.claimed_at, "attempts": claim.attempts, "run_id": run_id,
              "finished_at": utc_now().isoformat(timespec="seconds")}
    if batch is None:  # cannot happen with the real pipeline; never leave a file in processing/
        return inbox.fail(claim, crash_report(claim, "the pipeline returned no result for this file", None, inbox.root),
                          {**common, "status": "failed", "error": "no result"})
    if batch.status == "failed":
        return inbox.fail(claim, failed_batch_report(claim, batch, inbox.root),
                          {**common, **_batch_fields(batch), "error": batch.error})
    fields = {**common, **_batch_fields(batch), "reject_reasons": _reason_counts(frame) if frame is not None else {}}
    if frame is None and batch.rows_rejected and rejects_error:
        fields["rejects_error"] = rejects_error
    folder = inbox.complete(claim, fields, frame)
    return FileOutcome(claim.name, PROCESSED, folder, batch)


def _filing_failed(inbox: Inbox, claim: Claim, batch: BatchResult | None, message: str) -> FileOutcome:
    """Move a claim whose result could not be filed to failed/; if even that fails, it stays for the next cycle."""
    loaded = batch if batch is not None and batch.status != "failed" else None
    try:
        report = crash_report(claim, message, loaded, inbox.root, heading=f"leadpipe could not file the result of {claim.name}")
        outcome = inbox.fail(claim, report,
                             {"status": "failed", "error": message, "batch_id": batch.batch_id if batch else None})
        return FileOutcome(outcome.name, FAILED, outcome.folder, batch, outcome.error)
    except Exception:
        log.exception("could not move %s to %s/ either; the next cycle retries it", claim.claim_id, FAILED)
        return FileOutcome(claim.name, FAILED, claim.folder, batch,
                           f"{message} (left in {PROCESSING}/; the next cycle retries it)")

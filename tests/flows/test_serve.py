"""`leadpipe serve` against a real Prefect server on loopback: a scheduled run completes.

Starts `prefect server start` and `leadpipe serve` in their own process groups with a temporary
PREFECT_HOME, and kills both groups at the end whatever happens. Bounded: about 30-90 s here.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from flows.cli import sample_files

pytestmark = pytest.mark.slow
BIN = Path(sys.executable).parent
DEADLINE_SECONDS = 180


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def stop(proc: subprocess.Popen[bytes]) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=20)
            return
        except subprocess.TimeoutExpired:
            continue


def wait_for(check, what: str, deadline: float, procs: list[subprocess.Popen[bytes]], logs: list[Path]):  # type: ignore[no-untyped-def]
    while time.monotonic() < deadline:
        for p in procs:
            assert p.poll() is None, f"a process died while waiting for {what}:\n" + "\n".join(l.read_text()[-2000:] for l in logs)
        value = check()
        if value:
            return value
        time.sleep(1)
    raise AssertionError(f"timed out waiting for {what}:\n" + "\n".join(l.read_text()[-2000:] for l in logs))


def test_served_inbox_poll_runs_on_its_schedule(tmp_path: Path) -> None:
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update({
        "PREFECT_HOME": str(tmp_path / "prefect-home"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_UI_ENABLED": "false",
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "5",  # the server creates scheduled runs sooner
        "PREFECT_RUNNER_POLL_FREQUENCY": "2",  # the served process picks them up sooner
    })
    inbox, exports = tmp_path / "inbox", tmp_path / "exports"
    inbox.mkdir()
    exports.mkdir()
    config = tmp_path / "leadpipe.toml"
    config.write_text(
        f'[warehouse]\npath = "{tmp_path / "wh.duckdb"}"\n\n'
        f'[inbox]\npath = "{inbox}"\npoll_seconds = 5\nstable_seconds = 1\n\n'
        f'[schedule]\nimport_path = "{exports}/*.csv"\nimport_cron = "0 2 * * *"\ntimezone = "Europe/Berlin"\n'
    )
    shutil.copy(sample_files()[-2], inbox / "web_form.csv")
    logs = [tmp_path / "server.log", tmp_path / "serve.log"]
    server = subprocess.Popen([str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                              env=env, cwd=tmp_path, stdout=logs[0].open("w"), stderr=subprocess.STDOUT, start_new_session=True)
    procs = [server]
    try:
        deadline = time.monotonic() + DEADLINE_SECONDS

        def healthy() -> bool:
            try:
                return httpx.get(f"{api}/health", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(healthy, "the Prefect server", deadline, procs, logs)
        served = subprocess.Popen([str(BIN / "leadpipe"), "serve", "--config", str(config)], env={**env, "PREFECT_API_URL": api},
                                  cwd=tmp_path, stdout=logs[1].open("w"), stderr=subprocess.STDOUT, start_new_session=True)
        procs.append(served)

        def deployment(name: str) -> dict | None:
            r = httpx.get(f"{api}/deployments/name/{name}", timeout=5)
            return r.json() if r.status_code == 200 else None

        poll = wait_for(lambda: deployment("inbox-poll/inbox-poll"), "the inbox-poll deployment", deadline, procs, logs)
        nightly = wait_for(lambda: deployment("scheduled-import/nightly-import"), "the nightly deployment", deadline, procs, logs)
        assert poll["schedules"][0]["schedule"]["interval"] == 5.0
        assert nightly["schedules"][0]["schedule"]["cron"] == "0 2 * * *"
        assert nightly["schedules"][0]["schedule"]["timezone"] == "Europe/Berlin"

        def completed_scheduled_run() -> list[dict]:
            r = httpx.post(f"{api}/flow_runs/filter", timeout=5, json={
                "deployments": {"id": {"any_": [poll["id"]]}},
                "flow_runs": {"state": {"type": {"any_": ["COMPLETED"]}}},
            })
            r.raise_for_status()
            return [run for run in r.json() if run.get("auto_scheduled")]

        runs = wait_for(completed_scheduled_run, "a completed scheduled run", deadline, procs, logs)
        assert runs[0]["state"]["type"] == "COMPLETED"
        processed = wait_for(lambda: list((inbox / "processed").glob("*/result.json")), "the dropped file processed", deadline, procs, logs)
        assert "web_form.csv" in processed[0].parent.name
    finally:
        for p in reversed(procs):
            stop(p)
    assert all(p.poll() is not None for p in procs)

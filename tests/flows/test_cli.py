from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows.cli import app

runner = CliRunner()


def test_config_show_prints_valid_toml() -> None:
    import tomllib

    result = runner.invoke(app, ["config", "show"])
    assert result.exit_code == 0
    assert tomllib.loads(result.stdout)["ingest"]["default_region"] == "US"


def test_bad_config_fails_before_touching_data(tmp_path: Path, db_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text("[routing]\nreps = []\n")
    result = runner.invoke(app, ["run", "--config", str(cfg), "--db", str(db_path), __file__])
    assert result.exit_code == 1
    assert "routing.reps" in result.stderr or "at least one rep" in result.stderr
    assert not db_path.exists()


def test_unknown_kind_and_missing_file(db_path: Path) -> None:
    result = runner.invoke(app, ["run", "--kind", "webinar", "--db", str(db_path), __file__])
    assert result.exit_code == 1 and "unknown --kind" in result.stderr
    result = runner.invoke(app, ["run", "--db", str(db_path), "/no/such/file.csv"])
    assert result.exit_code == 1 and "file not found" in result.stderr
    assert not db_path.exists()


def test_status_without_warehouse(db_path: Path) -> None:
    result = runner.invoke(app, ["status", "--db", str(db_path)])
    assert result.exit_code == 1 and "does not exist" in result.stderr


@pytest.mark.usefixtures("prefect_harness")
def test_ingest_status_and_rejects_export(db_path: Path, tmp_path: Path, samples: Path) -> None:
    form = samples / "web_form_2026-11.csv"
    result = runner.invoke(app, ["ingest", "--db", str(db_path), str(form)])
    assert result.exit_code == 0, result.stderr
    assert "loaded" in result.stdout
    again = runner.invoke(app, ["ingest", "--db", str(db_path), str(form)])
    assert again.exit_code == 0 and "already loaded" in again.stdout
    status = runner.invoke(app, ["status", "--db", str(db_path)])
    assert status.exit_code == 0 and "import_batches" in status.stdout and "True" in status.stdout
    out = tmp_path / "rejects.csv"
    export = runner.invoke(app, ["rejects", "export", "--db", str(db_path), "--out", str(out)])
    assert export.exit_code == 0, export.stderr
    text = out.read_text(encoding="utf-8-sig")
    assert "reasons" in text.splitlines()[0]
    assert "\n=" not in text and ",=" not in text


@pytest.mark.slow
def test_demo_command_in_a_fresh_process(tmp_path: Path) -> None:
    """The README's first command, minus the install: `leadpipe demo` in a new process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env["PREFECT_HOME"] = str(tmp_path / "prefect-home")
    leadpipe = Path(sys.executable).with_name("leadpipe")
    proc = subprocess.run([str(leadpipe), "demo"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (tmp_path / "leadpipe.duckdb").exists() and (tmp_path / "leadpipe.snapshot.duckdb").exists()
    assert "Files" in proc.stdout and "MQLs" in proc.stdout
    rerun = subprocess.run([str(leadpipe), "demo"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0 and "already loaded" in rerun.stdout

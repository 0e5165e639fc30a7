from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows.cli import app
from tests.processes import open_for_writing_elsewhere
from warehouse.run_lock import lock_path

runner = CliRunner()


@pytest.fixture()
def locked_by_another_run(db_path: Path) -> Iterator[int]:
    """The warehouse's run lock held by another live process (the lock is re-entrant within one)."""
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        lock_path(db_path).write_text(json.dumps({"pid": sleeper.pid, "host": socket.gethostname(),
                                                  "started_at": "2026-11-23T02:00:00", "command": "leadpipe run"}))
        yield sleeper.pid
    finally:
        sleeper.kill()
        sleeper.wait()
        lock_path(db_path).unlink(missing_ok=True)


def test_config_show_prints_valid_toml() -> None:
    import tomllib

    result = runner.invoke(app, ["config", "show"])
    assert result.exit_code == 0
    assert tomllib.loads(result.stdout)["ingest"]["default_region"] == "US"


def test_bad_config_fails_before_touching_data(tmp_path: Path, db_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text("[routing]\ndefault_owner = 'nobody'\n")
    result = runner.invoke(app, ["run", "--config", str(cfg), "--db", str(db_path), __file__])
    assert result.exit_code == 1
    assert "default_owner 'nobody'" in result.stderr
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


def test_commands_on_loaded_leads_never_create_a_warehouse(db_path: Path, tmp_path: Path) -> None:
    """A mistyped --db fails with the path named instead of leaving an empty warehouse behind."""
    answers = tmp_path / "review.csv"
    answers.write_text("lead_id_l,lead_id_r,label\n1,2,yes\n", encoding="utf-8")
    for command in (["dedupe"], ["qualify"], ["route"], ["convert"], ["convert", "--dry-run"], ["unmerge", "5"],
                    ["review", "import", str(answers)], ["review", "refit"]):
        result = runner.invoke(app, [*command, "--db", str(db_path)])
        assert result.exit_code == 1, (command, result.output)
        assert f"warehouse {db_path} does not exist" in result.stderr and "check --db / [warehouse] path" in result.stderr, command
        assert not db_path.exists() and not list(db_path.parent.glob(f"{db_path.name}*")), command
    # reps can be set up before the first load: that one creates the warehouse
    reps = tmp_path / "reps.csv"
    reps.write_text("rep_id,name\nrep_ana,Ana\n", encoding="utf-8")
    made = runner.invoke(app, ["reps", "import", str(reps), "--db", str(db_path)])
    assert made.exit_code == 0, made.output
    assert db_path.exists()


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
    deduped = runner.invoke(app, ["dedupe", "--db", str(db_path)])
    assert deduped.exit_code == 0 and "new leads" in deduped.stdout and "without a duplicate" in " ".join(deduped.stdout.split())
    idle = runner.invoke(app, ["dedupe", "--db", str(db_path)])
    assert idle.exit_code == 0 and "nothing to match" in idle.stdout and "new leads" not in idle.stdout
    # with matching turned off, a file's leads wait, and dedupe says why it did nothing
    off = tmp_path / "off.toml"
    off.write_text("[dedup]\nenabled = false\n", encoding="utf-8")
    assert runner.invoke(app, ["ingest", "--db", str(db_path), str(samples / "trade_show_boston_2026.csv")]).exit_code == 0
    skipped = runner.invoke(app, ["dedupe", "--db", str(db_path), "--config", str(off)])
    assert skipped.exit_code == 0 and "matching is turned off" in skipped.stdout and "nothing to match" not in skipped.stdout
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
    # the summary's cluster figures are the warehouse's: all clusters, those with duplicates, duplicate leads
    import duckdb

    with duckdb.connect(str(tmp_path / "leadpipe.snapshot.duckdb"), read_only=True) as con:
        sizes = [n for (n,) in con.execute("SELECT count(*) FROM leads GROUP BY cluster_id").fetchall()]
    assert f"{len(sizes)} / {sum(n > 1 for n in sizes)} / {sum(sizes) - len(sizes)}" in proc.stdout
    assert 0 < sum(n > 1 for n in sizes) < len(sizes)
    rerun = subprocess.run([str(leadpipe), "demo"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0 and "already loaded" in rerun.stdout


def test_reps_import_and_list(db_path: Path, tmp_path: Path) -> None:
    reps = tmp_path / "reps.csv"
    reps.write_text("rep_id,name,weight,daily_cap,queues,out_of_office\nrep_zoe,Zoe,3,20,inbound,2026-12-24..2026-12-26\n", encoding="utf-8")
    result = runner.invoke(app, ["reps", "import", str(reps), "--db", str(db_path)])
    assert result.exit_code == 0, result.stderr
    assert "1 reps imported" in result.stdout and "rep_zoe" in result.stdout and "2026-12-24..2026-12-26" in result.stdout
    bad = tmp_path / "bad.csv"
    bad.write_text("rep_id,queues\nrep_x,nowhere\n", encoding="utf-8")
    result = runner.invoke(app, ["reps", "import", str(bad), "--db", str(db_path)])
    assert result.exit_code == 1 and "row 2: unknown queue 'nowhere'" in result.stderr


@pytest.mark.usefixtures("prefect_harness")
def test_convert_dry_run_changes_nothing_then_converts(db_path: Path) -> None:
    from tests.lifecycle_data import add_lead, build_golden
    from warehouse.connection import Warehouse
    from warehouse.migrations import migrate

    with Warehouse.open(db_path) as wh:
        migrate(wh)
        add_lead(wh, 1, first_name="Ann", email="ann@acme.com", company_domain="acme.com", title="CEO", country="DE",
                 form_name="Request a demo", submitted_at="2026-11-22")
        build_golden(wh)
    assert runner.invoke(app, ["qualify", "--db", str(db_path)]).exit_code == 0
    routed = runner.invoke(app, ["route", "--db", str(db_path)])
    assert routed.exit_code == 0 and "1 leads got a new owner" in routed.stdout
    dry = runner.invoke(app, ["convert", "--dry-run", "--db", str(db_path)])
    assert dry.exit_code == 0, dry.stderr
    assert "Dry run: nothing was changed" in dry.stdout and "create #1 Acme Inc." in dry.stdout
    with Warehouse.open(db_path, read_only=True) as wh:
        assert wh.scalar("SELECT count(*) FROM accounts") == 0
    done = runner.invoke(app, ["convert", "--db", str(db_path)])
    assert done.exit_code == 0 and "Conversion" in done.stdout
    why = runner.invoke(app, ["why", "1", "--db", str(db_path)])
    assert why.exit_code == 0 and "demo request" in why.stdout and "Closed - Converted" in why.stdout


@pytest.mark.usefixtures("prefect_harness")
@pytest.mark.parametrize("command", [
    ["qualify"], ["route"], ["convert"], ["convert", "--dry-run"], ["dedupe"], ["reps", "import", "REPS"],
])
def test_writing_commands_with_no_wait_fail_while_another_run_holds_the_lock(
    command: list[str], db_path: Path, tmp_path: Path, locked_by_another_run: int,
) -> None:
    reps = tmp_path / "reps.csv"
    reps.write_text("rep_id,name\nrep_zoe,Zoe\n", encoding="utf-8")
    args = [str(reps) if a == "REPS" else a for a in command]
    result = runner.invoke(app, [*args, "--no-wait", "--db", str(db_path)])
    assert result.exit_code == 1, (result.stdout, result.stderr)
    assert f"another leadpipe run is writing this warehouse: pid {locked_by_another_run}" in result.stderr
    assert "without --no-wait" in result.stderr
    assert not db_path.exists(), "nothing was opened or migrated before the lock was taken"


@pytest.mark.parametrize(("option", "value", "message"), [
    ("--poll", "0", "--poll 0: Input should be greater than 0"), ("--poll", "-5", "--poll -5: Input should be greater than 0"),
    ("--poll", "90000", "--poll 90000: Input should be less than or equal to 86400"),
    ("--stable", "-1", "--stable -1: Input should be greater than or equal to 0"),
])
def test_watch_refuses_poll_and_stable_values_the_config_would_refuse(
    tmp_path: Path, db_path: Path, option: str, value: str, message: str,
) -> None:
    result = runner.invoke(app, ["watch", str(tmp_path), "--db", str(db_path), "--once", option, value])
    assert result.exit_code == 1 and message in " ".join(result.stderr.split()), result.output
    assert not (tmp_path / "processing").exists(), "nothing was set up"


def documented_commands() -> set[tuple[str, ...]]:
    """Every `leadpipe COMMAND [SUBCOMMAND]` written in the README and the docs."""
    root = Path(__file__).resolve().parents[2]
    text = "\n".join(p.read_text("utf-8") for p in [root / "README.md", *sorted((root / "docs").glob("*.md"))])
    found = set()
    for words in re.findall(r"`leadpipe ([a-z][a-z ]*)", text):
        parts = words.split()
        groups = {"review", "rejects", "reps", "config"}  # commands with subcommands
        found.add(tuple(parts[:2]) if parts[0] in groups and len(parts) > 1 else (parts[0],))
    return found


def test_every_command_the_docs_name_exists() -> None:
    commands = documented_commands()
    assert {("run",), ("dedupe",), ("review", "export")} <= commands
    for command in sorted(commands):
        result = runner.invoke(app, [*command, "--help"])
        assert result.exit_code == 0, f"`leadpipe {' '.join(command)}` is documented but is no command: {result.output}"


def _commands(group: object, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], object]]:
    """Every command of the CLI (a group's subcommands, not the group) with its path."""
    subcommands = getattr(group, "commands", None)
    if subcommands:
        for name, command in subcommands.items():
            yield from _commands(command, (*path, name))
    else:
        yield path, group


def test_every_option_help_shows_whole() -> None:
    """Help texts are printed with rich markup: a bracketed note such as "[env LEADPIPE_DB]" would
    be taken for a tag and vanish from `--help`, so each option's help must appear as written."""
    import typer.main

    def flat(text: str) -> str:
        return " ".join(re.sub(r"[│╭╮╰╯─]", " ", text).split())

    checked = 0
    for path, command in _commands(typer.main.get_command(app)):
        shown = flat(runner.invoke(app, [*path, "--help"]).output)  # 80 columns, as most terminals
        for param in command.params:  # type: ignore[attr-defined]
            text = getattr(param, "help", None)
            if text:
                checked += 1
                assert flat(text.replace("\\[", "[")) in shown, f"`leadpipe {' '.join(path)} --help` garbles: {text}"
    assert checked > 20
    shown = flat(runner.invoke(app, ["status", "--help"]).output) + flat(runner.invoke(app, ["watch", "--help"]).output)
    assert "(env LEADPIPE_DB; default ./leadpipe.duckdb)" in shown and "poll_seconds in the [inbox] section" in shown


#: Commands that only read the warehouse (OUT: a folder for their files).
READING_COMMANDS = [
    ["status"], ["rejects", "export", "-o", "OUT/rejects.csv"], ["reps", "list"], ["why", "1"], ["explain", "1"],
    ["explain", "1", "--with", "2"], ["review", "export", "-o", "OUT/review.csv"], ["report", "-o", "OUT/report.html"],
    ["export", "--parquet", "OUT/parquet"],
]


def clustered_warehouse(db: Path, snapshot: Path | None = None) -> Path:
    """A small clustered warehouse at ``db`` and its published snapshot (default path unless given)."""
    from flows.dedupe_run import run_dedupe
    from matching.configuration import DedupSettings
    from transforms.configuration import IngestSettings
    from transforms.ingest import describe_source, prepare_batch
    from warehouse.batches import load_batch
    from warehouse.connection import Warehouse
    from warehouse.migrations import migrate
    from warehouse.snapshot import default_snapshot_path, publish_snapshot

    sample = Path(__file__).resolve().parents[2] / "flows" / "samples" / "trade_show_boston_2026.csv"
    with Warehouse.open(db) as wh:
        migrate(wh)
        load_batch(wh, prepare_batch(describe_source(sample, IngestSettings(), "trade_show"), IngestSettings()))
        run_dedupe(wh, DedupSettings())
        return publish_snapshot(wh, snapshot or default_snapshot_path(db))


@pytest.fixture()
def written_by_another_process(db_path: Path) -> Iterator[Path]:
    """A clustered warehouse with its snapshot, held open for writing by another process."""
    clustered_warehouse(db_path)
    with open_for_writing_elsewhere(db_path):
        yield db_path


def said(text: str) -> str:
    """Output as one line (rich wraps it to the terminal's width)."""
    return " ".join(text.split())


def test_reading_commands_read_the_snapshot_while_another_process_writes(written_by_another_process: Path, tmp_path: Path) -> None:
    db = written_by_another_process
    snapshot = db.with_name("wh.snapshot.duckdb")
    out = tmp_path / "out"
    out.mkdir()
    for command in READING_COMMANDS:
        args = [a.replace("OUT", str(out)) for a in command]
        result = runner.invoke(app, [*args, "--db", str(db)], env={"COLUMNS": "200"})
        assert result.exit_code == 0, (command, result.stdout, result.stderr)
        assert f"{db}: another process has it open for writing; reading the snapshot {snapshot} published" in said(result.stderr), command
    status = runner.invoke(app, ["status", "--db", str(db)], env={"COLUMNS": "200"})
    assert str(snapshot) in said(status.stdout) and "Matching" in status.stdout
    assert (out / "report.html").stat().st_size > 0 and (out / "review.csv").exists() and any((out / "parquet").iterdir())
    # snapshots turned off: a leftover one is not read
    config = tmp_path / "off.toml"
    config.write_text("[warehouse]\npublish_snapshot = false\n", encoding="utf-8")
    off = runner.invoke(app, ["status", "--db", str(db), "--config", str(config)])
    assert off.exit_code == 1 and "is locked" in off.stderr
    # no snapshot to read: the warehouse's own error, with its hint
    snapshot.unlink()
    locked = runner.invoke(app, ["explain", "1", "--db", str(db)])
    assert locked.exit_code == 1 and "is locked" in locked.stderr and "snapshot" in locked.stderr


def test_reading_commands_read_the_snapshot_while_a_run_holds_the_warehouse(
    db_path: Path, tmp_path: Path, locked_by_another_run: int,
) -> None:
    """Between a run's tasks the file is not open, but a reader holding it would keep the run's
    next task from opening it: the run lock sends readers to the snapshot, a configured one too."""
    snapshot = clustered_warehouse(db_path, tmp_path / "elsewhere" / "snap.duckdb")
    config = tmp_path / "c.toml"
    config.write_text(f"[warehouse]\nsnapshot_path = '{snapshot}'\n", encoding="utf-8")
    result = runner.invoke(app, ["explain", "1", "--with", "2", "--db", str(db_path), "--config", str(config)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert f"{db_path}: a run holds it (pid {locked_by_another_run} on " in said(result.stderr)
    assert f"reading the snapshot {snapshot} published" in said(result.stderr)
    # a missing warehouse stays a missing warehouse, whatever its path says
    missing = tmp_path / "locked" / "wh.duckdb"
    gone = runner.invoke(app, ["status", "--db", str(missing), "--config", str(config)])
    assert gone.exit_code == 1 and "does not exist" in gone.stderr

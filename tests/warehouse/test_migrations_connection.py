from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.processes import open_for_writing_elsewhere
from transforms.errors import WarehouseError, WarehouseLockedError
from warehouse.connection import Warehouse
from warehouse.migrations import available_migrations, current_version, migrate
from warehouse.snapshot import default_snapshot_path, publish_snapshot


def test_migrate_is_recorded_and_idempotent(db_path: Path) -> None:
    with Warehouse.open(db_path) as wh:
        applied = migrate(wh)
        assert applied == [m.version for m in available_migrations()]
        assert migrate(wh) == []
        assert current_version(wh) == applied[-1]
        for table in ("import_batches", "leads", "lead_rejects", "accounts", "contacts", "opportunities"):
            assert wh.table_exists(table)


def test_newer_database_is_refused(wh: Warehouse) -> None:
    wh.execute("INSERT INTO schema_migrations (version, name, checksum) VALUES (999, 'future', 'x')")
    with pytest.raises(WarehouseError, match="schema version 999"):
        migrate(wh)


def test_edited_migration_is_refused(wh: Warehouse) -> None:
    wh.execute("UPDATE schema_migrations SET checksum = 'tampered' WHERE version = 1")
    with pytest.raises(WarehouseError, match="changed after it was applied"):
        migrate(wh)


def test_failed_statement_rolls_back_and_names_statement(wh: Warehouse) -> None:
    with pytest.raises(WarehouseError) as info:
        with wh.transaction():
            wh.execute("INSERT INTO reps (rep_id, name, active, updated_at) VALUES ('r1', 'R', true, now()::TIMESTAMP)")
            wh.execute("INSERT INTO no_such_table VALUES (1)")
    assert "no_such_table" in (info.value.statement or "")
    assert wh.scalar("SELECT count(*) FROM reps") == 0


def _wal_bytes(db_path: Path) -> int:
    wal = Path(f"{db_path}.wal")
    return wal.stat().st_size if wal.exists() else 0


@pytest.mark.parametrize("into_file", [False, True])
def test_a_checkpointing_commit_writes_the_file_not_the_log(db_path: Path, into_file: bool) -> None:
    with Warehouse.open(db_path) as wh:
        wh.execute("CREATE TABLE t AS SELECT range AS i, range::VARCHAR AS s FROM range(1000)")
        wh.checkpoint()
        before = wh.scalar("SELECT current_setting('checkpoint_threshold')")
        with wh.transaction(checkpoint=into_file):
            wh.execute("UPDATE t SET s = s || '!'")  # an update always goes to the log when not checkpointed
            wh.execute("INSERT INTO t SELECT range, 'new ' || range FROM range(50000)")
        assert (_wal_bytes(db_path) == 0) is into_file
        assert wh.scalar("SELECT current_setting('checkpoint_threshold')") == before
    with Warehouse.open(db_path) as wh:
        assert wh.scalar("SELECT count(*) FROM t") == 51000
        assert wh.scalar("SELECT count(*) FROM t WHERE s LIKE '%!'") == 1000


def test_a_checkpointing_transaction_that_fails_leaves_nothing(db_path: Path) -> None:
    with Warehouse.open(db_path) as wh:
        wh.execute("CREATE TABLE t (i INTEGER)")
        wh.checkpoint()
        before = wh.scalar("SELECT current_setting('checkpoint_threshold')")
        with pytest.raises(WarehouseError):
            with wh.transaction(checkpoint=True):
                wh.execute("INSERT INTO t VALUES (1)")
                wh.execute("INSERT INTO no_such_table VALUES (1)")
        assert wh.scalar("SELECT count(*) FROM t") == 0
        assert wh.scalar("SELECT current_setting('checkpoint_threshold')") == before
        with wh.transaction(checkpoint=True):  # the connection is usable and the next commit lands
            wh.execute("INSERT INTO t VALUES (2)")
    with Warehouse.open(db_path) as wh:
        assert wh.rows("SELECT i FROM t") == [(2,)]


@pytest.mark.parametrize("into_file", [False, True])
def test_an_error_caught_inside_a_transaction_fails_its_commit_and_frees_the_connection(db_path: Path, into_file: bool) -> None:
    with Warehouse.open(db_path) as wh:
        wh.execute("CREATE TABLE t (i INTEGER)")
        defaults = wh.rows("SELECT current_setting('checkpoint_threshold'), current_setting('auto_checkpoint_skip_wal_threshold')")
        with pytest.raises(WarehouseError):
            with wh.transaction(checkpoint=into_file):
                wh.execute("INSERT INTO t VALUES (1)")
                with pytest.raises(WarehouseError):
                    wh.execute("INSERT INTO no_such_table VALUES (1)")  # caught: the transaction is aborted
        assert wh.rows("SELECT current_setting('checkpoint_threshold'), current_setting('auto_checkpoint_skip_wal_threshold')") == defaults
        with wh.transaction(checkpoint=into_file):
            wh.execute("INSERT INTO t VALUES (2)")
        assert wh.rows("SELECT i FROM t") == [(2,)]


def test_a_checkpointing_commit_that_cannot_write_fails_and_keeps_nothing(db_path: Path) -> None:
    """A full disk, as a file size limit: the commit fails, and reopened, the file holds what it
    held before; nothing went to the log to be replayed behind the failure's back."""
    with Warehouse.open(db_path) as wh:
        wh.execute("CREATE TABLE t (i INTEGER, s VARCHAR)")
        wh.execute("INSERT INTO t VALUES (0, 'before')")
        wh.checkpoint()
    limit = db_path.stat().st_size
    child = textwrap.dedent(f"""
        import resource, signal, sys
        sys.path.insert(0, {str(Path(__file__).resolve().parents[2])!r})
        from transforms.errors import WarehouseError
        from warehouse.connection import Warehouse
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails instead of killing
        try:
            with Warehouse.open({str(db_path)!r}) as wh:
                resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit}))
                with wh.transaction(checkpoint=True):
                    wh.execute("INSERT INTO t VALUES (1, 'small'), (2, 'change')")
        except WarehouseError as exc:
            print("failed:", exc.message)
        else:
            print("committed")
    """)
    done = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, timeout=120)
    assert done.stdout.startswith("failed:"), done.stdout + done.stderr
    with Warehouse.open(db_path) as wh:
        assert wh.rows("SELECT i, s FROM t") == [(0, "before")]


def test_a_nested_checkpointing_transaction_commits_with_the_outer_one(db_path: Path) -> None:
    with Warehouse.open(db_path) as wh:
        wh.execute("CREATE TABLE t (i INTEGER)")
        wh.checkpoint()
        with pytest.raises(RuntimeError):
            with wh.transaction():
                with wh.transaction(checkpoint=True):
                    wh.execute("INSERT INTO t VALUES (1)")
                raise RuntimeError("the outer block fails after the inner one")
        assert wh.scalar("SELECT count(*) FROM t") == 0


def test_locked_file_gives_a_clear_error(db_path: Path) -> None:
    with Warehouse.open(db_path) as wh:
        migrate(wh)
    with open_for_writing_elsewhere(db_path):
        with pytest.raises(WarehouseLockedError) as info:
            with Warehouse.open(db_path):
                pass
        assert "locked" in info.value.message
        assert info.value.hint and "snapshot" in info.value.hint


def test_snapshot_is_a_readable_copy(db_path: Path) -> None:
    with Warehouse.open(db_path) as wh:
        migrate(wh)
        wh.execute("INSERT INTO reps (rep_id, name, active, updated_at) VALUES ('r1', 'R', true, now()::TIMESTAMP)")
        target = publish_snapshot(wh, default_snapshot_path(db_path))
        # Readable by another connection while the writer still has the database open.
        with Warehouse.open(target, read_only=True) as reader:
            assert reader.scalar("SELECT count(*) FROM reps") == 1
            assert reader.scalar("SELECT count(*) FROM schema_migrations") >= 1
    assert target.name == "wh.snapshot.duckdb"
    assert not list(target.parent.glob(".*tmp*"))


def test_timestamps_written_in_sql_are_utc_whatever_the_machines_zone(tmp_path: Path) -> None:
    """Timestamps are stored as UTC (docs/warehouse.md): those DuckDB makes (a column default,
    ``now()::TIMESTAMP`` in a run's writes) too, on a machine set to another zone."""
    script = (
        "import sys, datetime\n"
        "from warehouse.connection import Warehouse\n"
        "from warehouse.migrations import migrate\n"
        "with Warehouse.open(sys.argv[1]) as wh:\n"
        "    migrate(wh)\n"
        "    made = [wh.scalar('SELECT now()::TIMESTAMP'), wh.scalar('SELECT max(applied_at) FROM schema_migrations')]\n"
        "utc = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)\n"
        "print(max(abs((utc - t).total_seconds()) for t in made))\n"
    )
    env = {**os.environ, "TZ": "America/New_York", "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path / "w.duckdb")], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert float(done.stdout) < 600  # New York is 4-5 hours away from UTC

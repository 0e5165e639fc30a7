"""The one place that opens DuckDB and runs SQL.

Every statement in leadpipe goes through :class:`Warehouse`: values as parameters, DuckDB
errors re-raised as :class:`~transforms.errors.WarehouseError` with the statement attached,
a lock held by another process explained in words, and transactions as a context manager.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pyarrow  # noqa: F401  DuckDB and polars exchange frames through Arrow: loaded with this module, not by the first query

from transforms.errors import WarehouseError, WarehouseLockedError

log = logging.getLogger(__name__)

IN_MEMORY = ":memory:"


def _lock_hint(path: str) -> str:
    return (
        f"another process has {path} open for writing (DuckDB allows one writer); wait for it to "
        "finish, or query the read-only snapshot published after each run"
    )


class Warehouse:
    """A DuckDB connection with leadpipe's error handling.

    Args:
        path: database file, or ``":memory:"``.
        read_only: open without write access (several readers may share a file).

    Example:
        >>> with Warehouse.open(":memory:") as wh:
        ...     wh.scalar("SELECT 42")
        42
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, path: str, read_only: bool) -> None:
        self._con = con
        self.path = path
        self.read_only = read_only
        self._in_transaction = False
        self._aborted = False  # a statement failed inside the open transaction (DuckDB aborted it)

    @classmethod
    @contextmanager
    def open(cls, path: str | Path, *, read_only: bool = False) -> Iterator[Warehouse]:
        """Open the warehouse for the duration of a ``with`` block."""
        target = str(path)
        if target != IN_MEMORY:
            if read_only:
                cls.require(target)
            Path(target).parent.mkdir(parents=True, exist_ok=True)
        try:
            con = duckdb.connect(target, read_only=read_only)
        except duckdb.IOException as exc:
            if "lock" in str(exc).lower():
                raise WarehouseLockedError(f"warehouse {target} is locked", hint=_lock_hint(target)) from exc
            raise WarehouseError(f"cannot open warehouse {target}: {exc}") from exc
        except duckdb.Error as exc:
            raise WarehouseError(f"cannot open warehouse {target}: {exc}") from exc
        try:
            # timestamps are stored as UTC without a time zone: now()::TIMESTAMP and column
            # defaults (current_timestamp) convert to the session's zone, the machine's unless set
            con.execute("SET TimeZone = 'UTC'")
        except duckdb.Error as exc:
            con.close()
            raise WarehouseError(f"cannot set the warehouse session's time zone to UTC: {exc}") from exc
        wh = cls(con, target, read_only)
        try:
            yield wh
        finally:
            con.close()

    @staticmethod
    def require(path: str | Path) -> None:
        """Fail unless the warehouse file exists: for what reads it, and for commands that work on
        leads already loaded, which must not create an empty warehouse where ``--db`` was mistyped.

        Raises:
            WarehouseError: no such file.
        """
        if str(path) != IN_MEMORY and not Path(path).exists():
            raise WarehouseError(f"warehouse {path} does not exist",
                                 hint="run `leadpipe run` or `leadpipe demo` first, or check --db / [warehouse] path")

    # --- running statements -------------------------------------------------------------------
    def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> None:
        """Run a statement that returns nothing useful (DDL, INSERT, UPDATE)."""
        try:
            self._con.execute(sql, params).fetchall()
        except duckdb.Error as exc:
            raise self._failure(f"statement failed: {exc}", statement=sql) from exc

    def rows(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
        """Run a query and return all rows as tuples."""
        try:
            return self._con.execute(sql, params).fetchall()
        except duckdb.Error as exc:
            raise self._failure(f"query failed: {exc}", statement=sql) from exc

    def _failure(self, message: str, statement: str) -> WarehouseError:
        """The error for a failed statement, noting that it aborted the open transaction, if any."""
        self._aborted = self._aborted or self._in_transaction
        return WarehouseError(message, statement=statement)

    def scalar(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> Any:
        """Run a query and return the first column of the first row (None when no row)."""
        rows = self.rows(sql, params)
        return rows[0][0] if rows else None

    def frame(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> pl.DataFrame:
        """Run a query and return the result as a polars frame."""
        try:
            # DuckDB 2.0: a relation converts to polars without the extra copy of a DB-API result.
            return self._con.sql(sql, params=params).pl()
        except duckdb.Error as exc:
            raise self._failure(f"query failed: {exc}", statement=sql) from exc

    @contextmanager
    def registered(self, name: str, frame: pl.DataFrame) -> Iterator[str]:
        """Expose a polars frame to SQL under ``name`` for the duration of the block."""
        try:
            # polars' own layout (string views), handed over without a copy: with polars 2.1 and
            # DuckDB 2.0 it inserts faster than Arrow's classic large_string, whose conversion
            # alone took 0.5-1.9 s for the 903k golden records of a 1M-lead run (inserting them:
            # 4.6 s against 5.4-7.3 s; the 1.86M pairs 1.7 against 2.1 s; 1M leads 2.9-3.3 against
            # 4.0-4.1 s). An earlier measurement had favoured the classic layout (1M x 16 string
            # columns: 3.3 s against 5.6 s); on 2026-12-06 the same shape gave 1.7 s against 1.8 s.
            self._con.register(name, frame.to_arrow(compat_level=pl.CompatLevel.newest()))
        except duckdb.Error as exc:
            raise WarehouseError(f"cannot register frame {name}: {exc}", table=name) from exc
        try:
            yield name
        finally:
            try:
                self._con.unregister(name)
            except duckdb.Error:
                # In an aborted transaction the unregister fails too; the registration was made
                # in that transaction and goes with its rollback. Never mask the first error.
                log.debug("unregister of %s failed", name, exc_info=True)

    @contextmanager
    def transaction(self, *, checkpoint: bool = False) -> Iterator[Warehouse]:
        """All statements in the block commit together or not at all.

        With ``checkpoint``, the commit writes the changes straight into the database file (a
        checkpoint) and not into the write-ahead log. For a large transaction in a process that
        closes the warehouse soon after: closing checkpoints, so what went to the log would be
        written a second time. Should that checkpoint fail (a full disk), the commit fails and the
        file keeps what it held before the transaction; DuckDB then refuses further statements on
        this warehouse until it is opened again, as after any failed checkpoint. Inside another
        transaction it changes nothing: the outer commit is the one that writes.
        """
        if self._in_transaction:
            yield self
            return
        if not checkpoint:
            with self._transaction():
                yield self
            return
        # DuckDB checkpoints at a commit whose log would pass checkpoint_threshold, and writes no
        # log for it when the changes pass auto_checkpoint_skip_wal_threshold: both are lowered to
        # nothing for this transaction (before it starts: a statement that fails aborts it, and
        # an aborted transaction takes no other statement than its end), then reset, not set back
        # (leadpipe sets them nowhere else, and their text form is rounded: '953.6 MiB')
        self.execute("SET checkpoint_threshold = '0b'")
        self.execute("SET auto_checkpoint_skip_wal_threshold = 0")
        try:
            with self._transaction():
                yield self
        finally:
            for setting in ("checkpoint_threshold", "auto_checkpoint_skip_wal_threshold"):
                try:
                    self._con.execute(f"RESET {setting}").fetchall()
                except duckdb.Error:  # never mask the transaction's own error
                    log.warning("could not reset %s", setting, exc_info=True)

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self.execute("BEGIN TRANSACTION")
        self._in_transaction, self._aborted = True, False
        try:
            yield
        except BaseException:
            self._in_transaction = False
            try:
                self._con.execute("ROLLBACK").fetchall()
            except duckdb.Error:  # the failure may already have aborted the transaction
                log.debug("rollback after failure raised", exc_info=True)
            raise
        else:
            self._in_transaction = False
            if self._aborted:  # DuckDB would take the COMMIT as a ROLLBACK, silently
                self.execute("ROLLBACK")
                raise WarehouseError(
                    "a statement of this transaction failed: nothing of the transaction was committed",
                    hint="the error was caught inside the transaction block; let it propagate, or run that statement outside",
                )
            self.execute("COMMIT")

    def table_exists(self, name: str) -> bool:
        """True when a table or view of that name exists in the main schema."""
        return bool(
            self.scalar(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'main' AND table_name = ?",
                [name],
            )
        )

    def column_exists(self, table: str, column: str) -> bool:
        """True when the table of the main schema has that column (a read-only command may open a
        warehouse that the next writing run has not migrated yet)."""
        return bool(
            self.scalar(
                "SELECT count(*) FROM information_schema.columns WHERE table_schema = 'main' AND table_name = ? "
                "AND column_name = ?",
                [table, column],
            )
        )

    def checkpoint(self) -> None:
        """Write the WAL into the database file."""
        self.execute("CHECKPOINT")

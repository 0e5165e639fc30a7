"""Versioned schema migrations, recorded in the database itself.

Migrations are the ``NNN_name.sql`` files in ``warehouse/migrations/``; each runs once, in
order, inside its own transaction, and is recorded in ``schema_migrations`` with a checksum.
A database whose recorded version is newer than this code, or whose applied migration text was
changed afterwards, is refused with a clear error instead of being touched.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from importlib import resources

from transforms.errors import WarehouseError
from warehouse.connection import Warehouse

log = logging.getLogger(__name__)

_NAME = re.compile(r"^(\d{3})_([a-z0-9_]+)\.sql$")

_CREATE_LEDGER_SQL = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       VARCHAR NOT NULL,
    checksum   VARCHAR NOT NULL,
    applied_at TIMESTAMP NOT NULL DEFAULT current_timestamp
)
"""


@dataclass(frozen=True)
class Migration:
    """One migration file."""

    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def available_migrations() -> list[Migration]:
    """All migration files shipped with the package, in version order."""
    found = []
    for entry in resources.files("warehouse").joinpath("migrations").iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), match.group(2), entry.read_text("utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if versions != list(range(1, len(found) + 1)):
        raise WarehouseError(f"migration files are not numbered 1..n: {versions}")
    return found


def _split_statements(sql: str) -> list[str]:
    """Split a migration file into statements (files hold no ';' inside literals)."""
    without_comments = "\n".join(line.split("--", 1)[0] for line in sql.splitlines())
    return [stmt.strip() for stmt in without_comments.split(";") if stmt.strip()]


def current_version(wh: Warehouse) -> int:
    """The highest applied migration version, 0 for an empty database."""
    if not wh.table_exists("schema_migrations"):
        return 0
    return int(wh.scalar("SELECT coalesce(max(version), 0) FROM schema_migrations"))


def migrate(wh: Warehouse) -> list[int]:
    """Apply every migration not yet applied; return the versions applied now.

    Raises:
        WarehouseError: the database is newer than this code, or an applied migration changed.
    """
    migrations = available_migrations()
    wh.execute(_CREATE_LEDGER_SQL)
    applied = {int(v): c for v, c in wh.rows("SELECT version, checksum FROM schema_migrations")}
    newest = migrations[-1].version if migrations else 0
    if applied and max(applied) > newest:
        raise WarehouseError(
            f"warehouse {wh.path} is at schema version {max(applied)}, this leadpipe knows only up to {newest}",
            hint="upgrade leadpipe, or point --db at another file",
        )
    done = []
    for migration in migrations:
        if migration.version in applied:
            if applied[migration.version] != migration.checksum:
                raise WarehouseError(
                    f"migration {migration.version} ({migration.name}) was changed after it was applied",
                    hint="never edit an applied migration; add a new one",
                )
            continue
        with wh.transaction():
            for statement in _split_statements(migration.sql):
                wh.execute(statement)
            wh.execute(
                "INSERT INTO schema_migrations (version, name, checksum) VALUES (?, ?, ?)",
                [migration.version, migration.name, migration.checksum],
            )
        log.info("applied migration %03d_%s", migration.version, migration.name)
        done.append(migration.version)
    return done

"""Every table and column of the warehouse is documented in docs/warehouse.md."""

from __future__ import annotations

import re
from pathlib import Path

from warehouse.connection import Warehouse

DOC = Path(__file__).resolve().parents[2] / "docs" / "warehouse.md"


def documented() -> dict[str, set[str]]:
    tables: dict[str, set[str]] = {}
    current = None
    for line in DOC.read_text("utf-8").splitlines():
        heading = re.match(r"^## `(\w+)`", line)
        if heading:
            current = heading.group(1)
            tables[current] = set()
        elif current and (row := re.match(r"^\| (\w+) \| ", line)) and row.group(1) != "column":
            tables[current].add(row.group(1))
    return tables


def test_every_column_is_documented(wh: Warehouse) -> None:
    docs = documented()
    actual: dict[str, set[str]] = {}
    for table, column in wh.rows(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'main'"
    ):
        actual.setdefault(table, set()).add(column)
    assert set(actual) == set(docs), f"tables: undocumented {set(actual) - set(docs)}, stale {set(docs) - set(actual)}"
    for table, columns in actual.items():
        assert columns == docs[table], f"{table}: undocumented {columns - docs[table]}, stale {docs[table] - columns}"

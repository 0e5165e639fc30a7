"""Every table and column of the warehouse is documented in docs/warehouse.md, and its example queries run."""

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


def example_queries() -> list[str]:
    """The SQL statements of docs/warehouse.md's ```sql blocks (comments dropped)."""
    blocks = re.findall(r"```sql\n(.*?)```", DOC.read_text("utf-8"), flags=re.S)
    text = "\n".join(line for block in blocks for line in block.splitlines() if not line.lstrip().startswith("--"))
    return [statement.strip() for statement in text.split(";") if statement.strip()]


def test_the_example_queries_run_on_the_current_schema(wh: Warehouse) -> None:
    queries = example_queries()
    assert len(queries) >= 5
    for query in queries:
        wh.rows(query)  # a renamed table or column fails here with the statement in the error

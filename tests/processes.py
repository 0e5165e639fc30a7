"""Test helper: other processes that hold a warehouse, as a run or a notebook would."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def open_for_writing_elsewhere(db_path: Path) -> Iterator[None]:
    """The warehouse file held open for writing by another process (DuckDB then refuses every
    other process, readers too), until the block ends."""
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import duckdb, sys
            con = duckdb.connect({str(db_path)!r})
            print('open', flush=True)
            sys.stdin.readline()
        """)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        yield
    finally:
        holder.communicate("\n", timeout=30)

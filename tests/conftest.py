"""Shared fixtures: quiet offline Prefect in a temporary home, warehouses, sample paths."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

# Prefect settings must be in the environment before prefect is imported anywhere.
_PREFECT_HOME = tempfile.mkdtemp(prefix="leadpipe-prefect-")
os.environ["PREFECT_HOME"] = _PREFECT_HOME
os.environ.pop("PREFECT_API_URL", None)
# Derived-table caches (transforms.disk_cache) go to a fresh folder, never the user's.
_CACHE_DIR = tempfile.TemporaryDirectory(prefix="leadpipe-cache-")  # removed at exit
os.environ["LEADPIPE_CACHE_DIR"] = _CACHE_DIR.name
from flows.prefect_env import apply_prefect_defaults  # noqa: E402

apply_prefect_defaults()

import pytest  # noqa: E402

from warehouse.connection import Warehouse  # noqa: E402
from warehouse.migrations import migrate  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "flows" / "samples"


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """One temporary Prefect server for every flow test (about 8 s to start)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=90):
        yield


@pytest.fixture()
def wh() -> Iterator[Warehouse]:
    """A migrated in-memory warehouse."""
    with Warehouse.open(":memory:") as warehouse:
        migrate(warehouse)
        yield warehouse


@pytest.fixture()
def db_path(tmp_path: Path) -> Path:
    """Path of a fresh (not yet created) warehouse file."""
    return tmp_path / "wh.duckdb"


@pytest.fixture()
def samples() -> Path:
    return SAMPLES

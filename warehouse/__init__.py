"""The DuckDB warehouse: the only package that runs SQL."""

from warehouse.batches import BatchResult, find_loaded_batch, load_batch, record_failed_batch
from warehouse.configuration import WarehouseSettings
from warehouse.connection import Warehouse
from warehouse.conversion import ConversionResult, convert_leads
from warehouse.migrations import current_version, migrate
from warehouse.snapshot import default_snapshot_path, publish_snapshot

__all__ = [
    "BatchResult",
    "ConversionResult",
    "Warehouse",
    "WarehouseSettings",
    "convert_leads",
    "current_version",
    "default_snapshot_path",
    "find_loaded_batch",
    "load_batch",
    "migrate",
    "publish_snapshot",
    "record_failed_batch",
]

"""Reading, header mapping, normalising, validation, scoring and routing: pure polars.

This package imports no other leadpipe package, no DuckDB and no Prefect.
"""

from transforms.configuration import (
    ConvertSettings,
    Criterion,
    GradeRule,
    IngestSettings,
    QualifySettings,
    Rep,
    RoutingSettings,
    ScoreRule,
    SourceRule,
)
from transforms.errors import (
    ConfigError,
    IngestError,
    LeadpipeError,
    LifecycleError,
    MatchingError,
    WarehouseError,
)
from transforms.ingest import PreparedBatch, SourceInfo, describe_source, file_sha256, prepare_batch
from transforms.routing import Rotation, assign_round_robin
from transforms.scoring import qualify

__all__ = [
    "ConfigError",
    "ConvertSettings",
    "Criterion",
    "GradeRule",
    "IngestError",
    "IngestSettings",
    "LeadpipeError",
    "LifecycleError",
    "MatchingError",
    "PreparedBatch",
    "QualifySettings",
    "Rep",
    "Rotation",
    "RoutingSettings",
    "ScoreRule",
    "SourceInfo",
    "SourceRule",
    "WarehouseError",
    "assign_round_robin",
    "describe_source",
    "file_sha256",
    "prepare_batch",
    "qualify",
]

"""Reading, header mapping, normalising, validation, qualification and routing decisions: pure polars.

This package imports no other leadpipe package, no DuckDB and no Prefect.
"""

from transforms.configuration import (
    AssignmentRule,
    ConvertSettings,
    Criterion,
    GradeRule,
    IngestSettings,
    QualifySettings,
    Queue,
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
from transforms.round_robin import RoundRobin, assign_round_robin, rotation_cycle
from transforms.routing import Roster, RoutingDecision, route
from transforms.scoring import Qualification, qualify

__all__ = [
    "ConfigError",
    "AssignmentRule",
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
    "Qualification",
    "Queue",
    "Rep",
    "Roster",
    "RoundRobin",
    "RoutingDecision",
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
    "rotation_cycle",
    "route",
]

"""Typed settings of the transform stages: ingestion here; qualification, routing and conversion
in ``qualify_config``, ``routing_config`` and ``convert_config`` (re-exported from here).

Every field has a default that works out of the box and a one-line description; the flows
compose these models into the one TOML file (see ``flows/config.py``).
"""

from __future__ import annotations

import fnmatch
import re
from typing import Literal

from pydantic import Field, field_validator

from transforms import schema
from transforms.convert_config import AmountRule, ConvertSettings, FieldMapping
from transforms.criteria import Criterion
from transforms.models import StrictModel
from transforms.qualify_config import GRADES, GradeRule, QualifySettings, ScoreRule
from transforms.routing_config import AssignmentRule, OutOfOffice, Queue, Rep, RoutingSettings

__all__ = [
    "GRADES", "AmountRule", "AssignmentRule", "ConvertSettings", "Criterion", "FieldMapping", "GradeRule",
    "IngestSettings", "OutOfOffice", "QualifySettings", "Queue", "Rep", "RoutingSettings", "ScoreRule",
    "SourceRule", "StrictModel",
]


class SourceRule(StrictModel):
    """How to treat files whose name matches a pattern: their kind, lead source and columns."""

    pattern: str = Field(
        description="Glob matched against the file name, e.g. '*expo*'; a pattern with a '/' (or '\\') is matched "
                    "against the file's absolute path instead, a relative one against its end: 'tradeshows/*' "
                    "(case-insensitive)."
    )
    kind: Literal["form", "trade_show", "bulk"] | None = Field(
        None, description="Source kind for matching files."
    )
    lead_source: str | None = Field(
        None, description="LeadSource value for rows that have none (default: by kind)."
    )
    columns: dict[str, str] = Field(
        default_factory=dict,
        description="Mapping profile: source header -> canonical lead field; wins over aliases.",
    )

    @field_validator("pattern")
    @classmethod
    def _pattern(cls, value: str) -> str:
        path = value.replace("\\", "/")
        if path.startswith(("../", "~")) or "/../" in path:
            raise ValueError(f"{value!r}: files are named by their absolute path; write the folder as '/srv/expo/*' or 'expo/*'")
        return value[2:] if path.startswith("./") else value

    @field_validator("columns")
    @classmethod
    def _known_fields(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted({v for v in value.values() if v not in schema.INPUT_FIELDS})
        if unknown:
            raise ValueError(
                f"unknown lead field(s) {unknown}; allowed: {', '.join(schema.INPUT_FIELDS)}"
            )
        return value

    def matches(self, path: str) -> bool:
        """True when the pattern matches the file's name, or its full path for a pattern with a
        ``/`` (case-insensitive). A folder's name never decides the kind of the files in it unless
        a pattern says so: ``*form*`` must not take every file under ``/data/platform/`` for a form."""
        full = path.replace("\\", "/").lower()
        pattern = self.pattern.replace("\\", "/").lower()
        if "/" not in pattern:
            return fnmatch.fnmatchcase(full.rsplit("/", 1)[-1], pattern)
        # files are named by their absolute path: a relative pattern (tradeshows/*) ends the path
        relative = not pattern.startswith(("/", "*")) and not re.match(r"^[a-z]:/", pattern)
        return fnmatch.fnmatchcase(full, pattern) or (relative and fnmatch.fnmatchcase(full, "*/" + pattern))


DEFAULT_SOURCE_RULES: tuple[SourceRule, ...] = (
    SourceRule(pattern="*form*", kind="form"),
    SourceRule(pattern="*.jsonl", kind="form"),
    SourceRule(pattern="*.ndjson", kind="form"),
    SourceRule(pattern="*trade*", kind="trade_show"),
    SourceRule(pattern="*show*", kind="trade_show"),
    SourceRule(pattern="*expo*", kind="trade_show"),
    SourceRule(pattern="*messe*", kind="trade_show"),
    SourceRule(pattern="*event*", kind="trade_show"),
    SourceRule(pattern="*.xlsx", kind="trade_show"),
)


class IngestSettings(StrictModel):
    """How files are read, mapped, normalised and validated."""

    default_region: str = Field(
        "US", description="ISO 3166 alpha-2 region for phones when a row has no country."
    )
    missing_company: Literal["reject", "not_provided"] = Field(
        "reject",
        description="A row without company: 'reject' it, or fill '[not provided]' as web-to-lead does.",
    )
    require_contact_channel: bool = Field(
        True, description="Reject rows that have neither a valid email nor a valid phone."
    )
    invalid_email: Literal["reject", "drop_value"] = Field(
        "reject", description="A syntactically bad email: 'reject' the row or drop the value."
    )
    invalid_phone: Literal["reject", "drop_value"] = Field(
        "drop_value",
        description="A phone that is not a valid number: drop the E.164 value (raw kept) or reject.",
    )
    max_field_length: int = Field(
        1000, ge=10, description="Longest accepted value of a field; longer rows are rejected."
    )
    sources: tuple[SourceRule, ...] = Field(
        (), description="Per-source rules, first match wins; checked before the built-in rules."
    )
    default_kind: Literal["form", "trade_show", "bulk"] = Field(
        "bulk", description="Kind of a file that no rule matches."
    )

    @field_validator("default_region")
    @classmethod
    def _region(cls, value: str) -> str:
        if len(value) != 2 or not value.isalpha():
            raise ValueError("must be an ISO 3166 alpha-2 code such as 'US' or 'DE'")
        return value.upper()

    def rule_for(self, path: str) -> SourceRule | None:
        """The first configured rule, then built-in rule, whose pattern matches ``path``."""
        for rule in (*self.sources, *DEFAULT_SOURCE_RULES):
            if rule.matches(path):
                return rule
        return None

"""Typed settings of the transform stages: ingestion, qualification and routing.

Every field has a default that works out of the box and a one-line description; the flows
compose these models into the one TOML file (see ``flows/config.py``).
"""

from __future__ import annotations

import fnmatch
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from transforms import schema


class StrictModel(BaseModel):
    """Base for settings: unknown keys are errors, values are validated, models are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


Operator = Literal[
    "eq", "ne", "in", "not_in", "contains", "not_contains", "starts_with", "ends_with",
    "gt", "gte", "lt", "lte", "is_null", "not_null",
]
NULLARY_OPERATORS = frozenset({"is_null", "not_null"})
LIST_OPERATORS = frozenset({"in", "not_in"})
NUMERIC_OPERATORS = frozenset({"gt", "gte", "lt", "lte"})


class Criterion(BaseModel):
    """One declarative condition on a lead field: ``field operator value``. No code, no eval."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    field: str = Field(description="Lead column the condition reads, e.g. 'title' or 'country'.")
    op: Operator = Field("eq", description="Comparison operator.")
    value: str | float | int | bool | list[str] | list[float] | None = Field(
        None, description="Value to compare with; a list for 'in'/'not_in'; none for null tests."
    )
    case_sensitive: bool = Field(False, description="Compare text case-sensitively.")

    @model_validator(mode="after")
    def _check(self) -> Criterion:
        allowed = set(schema.LEAD_DATA_COLUMNS) | {schema.SOURCE_KIND, schema.SCORE, schema.GRADE}
        if self.field not in allowed:
            raise ValueError(
                f"unknown lead field {self.field!r}; allowed: {', '.join(sorted(allowed))}"
            )
        if self.op in NULLARY_OPERATORS:
            if self.value is not None:
                raise ValueError(f"operator {self.op!r} takes no value")
        elif self.value is None:
            raise ValueError(f"operator {self.op!r} needs a value")
        if self.op in LIST_OPERATORS and not isinstance(self.value, list):
            raise ValueError(f"operator {self.op!r} needs a list value")
        if self.op in NUMERIC_OPERATORS and not isinstance(self.value, (int, float)):
            raise ValueError(f"operator {self.op!r} needs a number")
        return self


class SourceRule(BaseModel):
    """How to treat files whose name matches a pattern: their kind, lead source and columns."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    pattern: str = Field(description="Glob matched against the file name and the full path, e.g. '*expo*'.")
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
        """True when the pattern matches the file's name or its full path (case-insensitive)."""
        name = path.replace("\\", "/").rsplit("/", 1)[-1].lower()
        pattern = self.pattern.lower()
        return fnmatch.fnmatchcase(name, pattern) or fnmatch.fnmatchcase(path.lower(), pattern)


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


class ScoreRule(BaseModel):
    """Points added to a lead's score when its criterion holds."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    when: Criterion = Field(description="Condition on the lead.")
    points: int = Field(description="Points added (negative to subtract).")
    label: str | None = Field(None, description="Short name shown as a scoring factor.")


class GradeRule(BaseModel):
    """A fit criterion that moves the grade by thirds of a letter (3 steps = one letter)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    when: Criterion = Field(description="Condition on the lead.")
    steps: int = Field(ge=-12, le=12, description="Thirds of a letter: +1 = D to D+, +3 = D to C.")
    label: str | None = Field(None, description="Short name shown as a grading factor.")


GRADES: tuple[str, ...] = ("F", "D-", "D", "D+", "C-", "C", "C+", "B-", "B", "B+", "A-", "A", "A+")


def _default_score_rules() -> tuple[ScoreRule, ...]:
    c = Criterion
    return (
        ScoreRule(when=c(field=schema.SOURCE_KIND, op="eq", value="form"), points=50, label="form submission"),
        ScoreRule(when=c(field=schema.SOURCE_KIND, op="eq", value="trade_show"), points=30, label="met at event"),
        ScoreRule(when=c(field=schema.SOURCE_KIND, op="eq", value="bulk"), points=5, label="purchased list"),
        ScoreRule(when=c(field=schema.FORM_NAME, op="contains", value="demo"), points=40, label="demo request"),
        ScoreRule(when=c(field=schema.PHONE, op="not_null"), points=10, label="phone given"),
        ScoreRule(when=c(field=schema.IS_FREEMAIL, op="eq", value=True), points=-10, label="free-mail address"),
    )


def _default_grade_rules() -> tuple[GradeRule, ...]:
    c = Criterion
    senior = ["ceo", "cto", "cfo", "coo", "cmo", "chief", "vp", "vice president", "head", "director", "founder", "owner", "geschäftsführer", "leiter"]
    return tuple(
        [GradeRule(when=c(field=schema.TITLE, op="contains", value=w), steps=3, label=f"senior title ({w})") for w in senior]
        + [
            GradeRule(when=c(field=schema.TITLE, op="contains", value="manager"), steps=2, label="manager title"),
            GradeRule(when=c(field=schema.COUNTRY, op="in", value=["US", "CA", "GB", "DE", "FR", "NL", "AT", "CH"]), steps=2, label="target country"),
            GradeRule(when=c(field=schema.COMPANY_DOMAIN, op="not_null"), steps=1, label="company domain known"),
            GradeRule(when=c(field=schema.TITLE, op="contains", value="student"), steps=-3, label="student"),
        ]
    )


class QualifySettings(StrictModel):
    """Scoring (engagement) and grading (fit) rules, and the MQL thresholds."""

    score_rules: tuple[ScoreRule, ...] = Field(
        default_factory=_default_score_rules, description="Points per signal."
    )
    grade_rules: tuple[GradeRule, ...] = Field(
        default_factory=_default_grade_rules,
        description="Fit criteria; a lead starts at D and each match moves it by thirds of a letter.",
    )
    mql_min_score: int = Field(50, description="Score at or above which a lead can be an MQL.")
    mql_min_grade: str = Field("C", description="Grade at or above which a lead can be an MQL.")

    @field_validator("mql_min_grade")
    @classmethod
    def _grade(cls, value: str) -> str:
        if value not in GRADES:
            raise ValueError(f"must be one of {', '.join(GRADES)}")
        return value


class Rep(BaseModel):
    """A sales rep who can own leads."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, description="Owner id written to leads.owner_id.")
    name: str | None = Field(None, description="Display name.")
    active: bool = Field(True, description="Inactive reps receive no new leads.")


def _default_reps() -> tuple[Rep, ...]:
    return (
        Rep(id="rep_alice", name="Alice Martin"),
        Rep(id="rep_bruno", name="Bruno Keller"),
        Rep(id="rep_chen", name="Chen Wei"),
    )


class RoutingSettings(StrictModel):
    """Who gets new leads: round-robin over the active reps."""

    reps: tuple[Rep, ...] = Field(default_factory=_default_reps, description="Reps in rotation order.")
    queue: str = Field("default", description="Name of the rotation whose state is persisted.")

    @model_validator(mode="after")
    def _reps(self) -> RoutingSettings:
        ids = [r.id for r in self.reps]
        if len(ids) != len(set(ids)):
            raise ValueError("rep ids must be unique")
        if not any(r.active for r in self.reps):
            raise ValueError("at least one rep must be active")
        return self


class ConvertSettings(StrictModel):
    """Which leads convert, and what conversion creates."""

    statuses: tuple[str, ...] = Field(("MQL",), description="Lead statuses that convert.")
    require_owner: bool = Field(True, description="Convert only leads that have an owner.")
    create_opportunity: bool = Field(True, description="Create an opportunity per conversion.")
    opportunity_close_days: int = Field(
        30, ge=0, le=3650, description="Opportunity close date = conversion date + N days."
    )
    opportunity_stage: str = Field("Prospecting", description="Stage of new opportunities.")

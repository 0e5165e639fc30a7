"""Declarative criteria from config turned into polars expressions (no eval, no code in config).

A criterion is ``field operator value`` on one lead *cluster* (the golden record plus a few
aggregates over its leads), or, for score rules, on one submission. Which fields exist is named
once here, so that a rule naming an unknown field fails when the configuration is loaded.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from typing import Final, Literal

import polars as pl
from pydantic import Field, model_validator

from transforms import schema as s
from transforms.models import StrictModel

Operator = Literal[
    "eq", "ne", "in", "not_in", "contains", "not_contains", "starts_with", "ends_with",
    "gt", "gte", "lt", "lte", "is_null", "not_null",
]
NULLARY_OPERATORS = frozenset({"is_null", "not_null"})
LIST_OPERATORS = frozenset({"in", "not_in"})
NUMERIC_OPERATORS = frozenset({"gt", "gte", "lt", "lte"})

# --- the fields a rule may read -------------------------------------------------------------
#: Golden-record fields (table lead_golden): one value per cluster.
GOLDEN_FIELDS: Final[tuple[str, ...]] = (
    s.SALUTATION, s.FIRST_NAME, s.LAST_NAME, s.TITLE, s.COMPANY, s.COMPANY_KEY, s.EMAIL,
    s.EMAIL_DOMAIN, s.IS_FREEMAIL, s.PHONE, s.MOBILE_PHONE, s.WEBSITE, s.WEBSITE_DOMAIN,
    s.COMPANY_DOMAIN, s.STREET, s.CITY, s.STATE, s.POSTAL_CODE, s.COUNTRY, s.INDUSTRY,
    s.ANNUAL_REVENUE, s.NUMBER_OF_EMPLOYEES, s.LEAD_SOURCE,
)

SUBMISSIONS: Final = "submissions"  # leads in the cluster (each one a submission / list row)
FORM_SUBMISSIONS: Final = "form_submissions"  # leads of the cluster that came from a web form
DEMO_REQUESTED: Final = "demo_requested"  # this submission has a "request a demo" field or form
DAYS_SINCE_LAST_SEEN: Final = "days_since_last_seen"
DAYS_SINCE_FIRST_SEEN: Final = "days_since_first_seen"
SEEN_AT: Final = "seen_at"  # per lead: submitted_at, else load time

#: Aggregates over the leads of a cluster, computed by the qualification step.
CLUSTER_AGGREGATES: Final[tuple[str, ...]] = (
    SUBMISSIONS, FORM_SUBMISSIONS, DAYS_SINCE_LAST_SEEN, DAYS_SINCE_FIRST_SEEN,
)

#: Per-submission fields: a score rule on one of them scores every matching submission of the
#: cluster (decayed by its age), so three demo requests count three times.
ACTIVITY_FIELDS: Final[tuple[str, ...]] = (s.SOURCE_KIND, s.FORM_NAME, s.CAMPAIGN, DEMO_REQUESTED)

#: Results of qualification, readable by routing and conversion rules.
QUALIFICATION_FIELDS: Final[tuple[str, ...]] = (s.SCORE, s.GRADE, s.STATUS)

#: Fields of a grade (fit) rule: the profile only.
FIT_FIELDS: Final[frozenset[str]] = frozenset(GOLDEN_FIELDS) | frozenset(CLUSTER_AGGREGATES)
#: Fields of a score rule.
SCORE_FIELDS: Final[frozenset[str]] = FIT_FIELDS | frozenset(ACTIVITY_FIELDS)
#: Fields of an assignment, conversion or amount rule.
CLUSTER_FIELDS: Final[frozenset[str]] = FIT_FIELDS | frozenset(QUALIFICATION_FIELDS)
ALL_FIELDS: Final[frozenset[str]] = SCORE_FIELDS | CLUSTER_FIELDS

_NUMERIC_FIELDS = frozenset({SUBMISSIONS, FORM_SUBMISSIONS, DAYS_SINCE_LAST_SEEN, DAYS_SINCE_FIRST_SEEN, s.SCORE})


class Criterion(StrictModel):
    """One declarative condition: ``field operator value``. No code, no eval.

    Example (TOML): ``{ field = "title", op = "contains", value = "director" }``.
    """

    field: str = Field(description="Field the condition reads, e.g. 'title', 'country', 'submissions'.")
    op: Operator = Field("eq", description="Comparison operator.")
    value: bool | int | float | str | list[str] | list[float] | None = Field(
        None, description="Value to compare with; a list for 'in'/'not_in'; none for null tests."
    )
    case_sensitive: bool = Field(False, description="Compare text case-sensitively.")

    @model_validator(mode="after")
    def _check(self) -> Criterion:
        if self.field not in ALL_FIELDS:
            raise ValueError(f"unknown lead field {self.field!r}; allowed: {', '.join(sorted(ALL_FIELDS))}")
        if self.op in NULLARY_OPERATORS:
            if self.value is not None:
                raise ValueError(f"operator {self.op!r} takes no value")
        elif self.value is None:
            raise ValueError(f"operator {self.op!r} needs a value")
        if self.op in LIST_OPERATORS and not isinstance(self.value, list):
            raise ValueError(f"operator {self.op!r} needs a list value")
        if self.op not in LIST_OPERATORS and isinstance(self.value, list):
            raise ValueError(f"operator {self.op!r} takes a single value, not a list")
        if self.op in NUMERIC_OPERATORS and (isinstance(self.value, bool) or not isinstance(self.value, (int, float))):
            raise ValueError(f"operator {self.op!r} needs a number")
        return self

    def describe(self) -> str:
        """A short readable form, used as the default label of a rule."""
        if self.op in NULLARY_OPERATORS:
            return f"{self.field} {self.op.replace('_', ' ')}"
        return f"{self.field} {self.op.replace('_', ' ')} {self.value}"


def check_fields(criteria: Iterable[Criterion], allowed: frozenset[str], what: str) -> None:
    """Raise ValueError when a criterion reads a field that ``what`` rules cannot see."""
    for c in criteria:
        if c.field not in allowed:
            raise ValueError(
                f"{what} cannot read {c.field!r}; allowed: {', '.join(sorted(allowed))}"
            )


def fields_of(criteria: Iterable[Criterion]) -> set[str]:
    """The fields a set of criteria reads."""
    return {c.field for c in criteria}


def _number(col: pl.Expr, field: str) -> pl.Expr:
    if field in _NUMERIC_FIELDS:
        return col.cast(pl.Float64, strict=False)
    # Text such as "1,200", "51-200" or "5000+": the first number in it (the lower bound).
    first = col.cast(pl.String).str.extract(r"(-?\d[\d,]*(?:\.\d+)?)", 1).str.replace_all(",", "")
    return first.cast(pl.Float64, strict=False)


def with_criteria_columns(
    frame: pl.DataFrame,
    columns: Sequence[tuple[str, pl.Expr, Sequence[Criterion]]],
    distinct_fields: Collection[str] = GOLDEN_FIELDS,
) -> pl.DataFrame:
    """Add named columns computed by criteria expressions, each text rule run once per distinct value.

    Profile fields such as title, industry, country or company size have a few hundred distinct
    values among a million clusters; a dozen ``contains`` rules or a number-extracting regex run
    on those values and joined back is many times cheaper than running them on every row. A
    column whose criteria read only ``distinct_fields`` (and not only null tests, which are
    cheaper than a join) is evaluated on the distinct combinations of the fields it reads; all
    columns reading the same fields share one lookup. Any other column is evaluated directly.

    Args:
        frame: the rows, with every field the criteria read.
        columns: (name, expression, the criteria the expression reads).
        distinct_fields: fields worth evaluating per distinct value.

    Returns:
        ``frame`` with the named columns added, rows in the same order.

    Example:
        >>> c = Criterion(field="title", op="contains", value="vp")
        >>> with_criteria_columns(golden, [("_vp", criterion_expr(c), [c])])
    """
    allowed = set(distinct_fields)
    by_fields: dict[tuple[str, ...], list[tuple[str, pl.Expr]]] = {}
    direct: list[pl.Expr] = []
    for name, expr, criteria in columns:
        fields = tuple(sorted(fields_of(criteria)))
        worth = any(c.op not in NULLARY_OPERATORS for c in criteria)
        if fields and worth and set(fields) <= allowed and all(frame.schema.get(f, pl.Null) != pl.Null for f in fields):
            by_fields.setdefault(fields, []).append((name, expr))
        else:
            direct.append(expr.alias(name))
    out = frame.with_columns(direct) if direct else frame
    for fields, exprs in by_fields.items():
        out = out.with_columns(per_distinct_value(frame, list(fields), exprs))
    return out


def per_distinct_value(frame: pl.DataFrame, keys: list[str], exprs: Sequence[tuple[str, pl.Expr]]) -> list[pl.Series]:
    """Evaluate expressions that read only ``keys`` once per distinct combination; one Series per
    expression, aligned with the rows of ``frame``.

    One text key is encoded as an Enum of its distinct values (a Boolean key as 0/1/2) and the
    results gathered by code, several times faster than a join; several keys are joined back on.
    """
    names = [n for n, _ in exprs]
    if len(keys) == 1 and frame.schema[keys[0]] == pl.Boolean:
        key = keys[0]
        lookup = pl.DataFrame({key: [False, True, None]}, schema={key: pl.Boolean}).select(e.alias(n) for n, e in exprs)
        codes = frame.select(pl.col(key).cast(pl.Int64).fill_null(2)).to_series()
        return [lookup.get_column(n).gather(codes) for n in names]
    if len(keys) == 1 and frame.schema[keys[0]] == pl.String:
        key = keys[0]
        values = frame.get_column(key).drop_nulls().unique(maintain_order=True)
        lookup = pl.DataFrame({key: pl.concat([values, pl.Series([None], dtype=pl.String)])}).select(e.alias(n) for n, e in exprs)
        codes = frame.select(pl.col(key).cast(pl.Enum(values)).to_physical().cast(pl.Int64).fill_null(values.len()))
        return [lookup.get_column(n).gather(codes.to_series()) for n in names]
    lookup = frame.select(keys).unique().with_columns(e.alias(n) for n, e in exprs)
    joined = frame.select(keys).join(lookup, on=keys, how="left", nulls_equal=True, maintain_order="left")
    return [joined.get_column(n) for n in names]


def criterion_expr(criterion: Criterion) -> pl.Expr:
    """A Boolean expression that is true where the criterion holds (null counts as false).

    Text comparisons are case-insensitive unless ``case_sensitive`` is set; numeric operators
    read the first number of a text ("1,200" -> 1200, "51-200" -> 51; non-numbers never match).

    Example:
        >>> criterion_expr(Criterion(field="title", op="contains", value="director"))
    """
    col = pl.col(criterion.field)
    value = criterion.value
    op = criterion.op
    if op == "is_null":
        return col.is_null()
    if op == "not_null":
        return col.is_not_null()
    if op in NUMERIC_OPERATORS or (op in ("eq", "ne") and isinstance(value, (int, float)) and not isinstance(value, bool)):
        number = _number(col, criterion.field)
        result = {
            "gt": lambda: number > value, "gte": lambda: number >= value, "lt": lambda: number < value,
            "lte": lambda: number <= value, "eq": lambda: number == value, "ne": lambda: number != value,
        }[op]()
        return result.fill_null(op == "ne")
    subject = col.cast(pl.String) if criterion.case_sensitive else col.cast(pl.String).str.to_lowercase()

    def as_text(v: object) -> str:
        t = str(v).lower() if isinstance(v, bool) else str(v)
        return t if criterion.case_sensitive else t.lower()

    if op in LIST_OPERATORS:
        values = [as_text(v) for v in value]  # type: ignore[union-attr]
        result = subject.is_in(values)
        return (result if op == "in" else ~result).fill_null(op == "not_in")
    needle = as_text(value)
    result = {
        "eq": lambda: subject == needle,
        "ne": lambda: subject != needle,
        "contains": lambda: subject.str.contains(needle, literal=True),
        "not_contains": lambda: ~subject.str.contains(needle, literal=True),
        "starts_with": lambda: subject.str.starts_with(needle),
        "ends_with": lambda: subject.str.ends_with(needle),
    }[op]()
    return result.fill_null(op in ("ne", "not_contains"))


#: Fields with few distinct values per million rows, worth evaluating per distinct value
#: (see :func:`with_criteria_columns`): the profile and the qualification letters.
PER_VALUE_FIELDS: Final[frozenset[str]] = frozenset(GOLDEN_FIELDS) | {s.GRADE, s.STATUS}


def with_all_of_columns(
    frame: pl.DataFrame, rules: Sequence[tuple[str, Sequence[Criterion]]], distinct_fields: Collection[str] = PER_VALUE_FIELDS
) -> pl.DataFrame:
    """Add one Boolean column per named rule: true where all its criteria hold (:func:`all_of`).

    Each distinct criterion is evaluated once, per distinct value where that pays (see
    :func:`with_criteria_columns`), then combined per rule.
    """
    names: dict[str, str] = {}  # criterion (as JSON: a list value is not hashable) -> its column
    units = []
    for _, criteria in rules:
        for c in criteria:
            key = c.model_dump_json()
            if key not in names:
                names[key] = f"__crit{len(names)}"
                units.append((names[key], criterion_expr(c), [c]))
    out = with_criteria_columns(frame, units, distinct_fields)
    return out.with_columns(
        (pl.all_horizontal([names[c.model_dump_json()] for c in criteria]) if criteria else pl.lit(True)).alias(name)
        for name, criteria in rules
    ).drop(list(names.values()))


def all_of(criteria: Iterable[Criterion]) -> pl.Expr:
    """True where every criterion holds (true for no criteria)."""
    exprs = [criterion_expr(c) for c in criteria]
    return pl.all_horizontal(exprs) if exprs else pl.lit(True)

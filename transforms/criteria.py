"""Declarative criteria from config turned into polars expressions (no eval, no code in config)."""

from __future__ import annotations

import polars as pl

from transforms.configuration import Criterion


def criterion_expr(criterion: Criterion) -> pl.Expr:
    """A Boolean expression that is true where the criterion holds (null counts as false).

    Text comparisons are case-insensitive unless ``case_sensitive`` is set; numeric operators
    cast the field to a number first (non-numbers never match).

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
    if op in ("gt", "gte", "lt", "lte"):
        number = col.cast(pl.String).str.replace_all(r"[^0-9.\-]", "").cast(pl.Float64, strict=False)
        result = {"gt": number > value, "gte": number >= value, "lt": number < value, "lte": number <= value}[op]
        return result.fill_null(False)
    if isinstance(value, bool):
        base = col == value if op == "eq" else col != value
        return base.fill_null(False)
    text = col.cast(pl.String)
    fold = (lambda e: e) if criterion.case_sensitive else (lambda e: e.str.to_lowercase())
    subject = fold(text)
    as_text = lambda v: str(v) if criterion.case_sensitive else str(v).lower()  # noqa: E731
    if op in ("in", "not_in"):
        values = [as_text(v) for v in value]  # type: ignore[union-attr]
        result = subject.is_in(values)
        return (result if op == "in" else ~result).fill_null(op == "not_in")
    needle = as_text(value)
    result = {
        "eq": subject == needle,
        "ne": subject != needle,
        "contains": subject.str.contains(needle, literal=True),
        "not_contains": ~subject.str.contains(needle, literal=True),
        "starts_with": subject.str.starts_with(needle),
        "ends_with": subject.str.ends_with(needle),
    }[op]
    return result.fill_null(op in ("ne", "not_contains"))

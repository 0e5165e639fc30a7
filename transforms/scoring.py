"""Qualification: score (engagement points) and grade (fit, thirds of a letter from D)."""

from __future__ import annotations

import polars as pl

from transforms import schema as s
from transforms.configuration import GRADES, QualifySettings
from transforms.criteria import criterion_expr

STATUS_OPEN = "Open - Not Contacted"
STATUS_WORKING = "Working - Contacted"
STATUS_MQL = "MQL"
STATUS_CONVERTED = "Closed - Converted"
STATUS_NOT_CONVERTED = "Closed - Not Converted"

_START_GRADE = GRADES.index("D")


def score_expr(settings: QualifySettings) -> pl.Expr:
    """Sum of the points of every score rule that holds."""
    terms = [pl.when(criterion_expr(r.when)).then(r.points).otherwise(0) for r in settings.score_rules]
    return pl.sum_horizontal(terms).cast(pl.Int32) if terms else pl.lit(0, pl.Int32)


def grade_expr(settings: QualifySettings) -> pl.Expr:
    """Grade letter: start at D, move by each matching rule's steps, clamp to F..A+."""
    steps = [pl.when(criterion_expr(r.when)).then(r.steps).otherwise(0) for r in settings.grade_rules]
    total = pl.sum_horizontal(steps) if steps else pl.lit(0)
    index = (total + _START_GRADE).clip(0, len(GRADES) - 1)
    return index.replace_strict(list(range(len(GRADES))), list(GRADES), return_dtype=pl.String)


def qualify(leads: pl.DataFrame, settings: QualifySettings) -> pl.DataFrame:
    """Score, grade and set MQL status.

    Args:
        leads: lead rows with the columns the rules read, ``lead_id`` and ``status``.
        settings: the rules and thresholds.

    Returns:
        ``lead_id``, ``score``, ``grade``, ``status`` (MQL when both thresholds pass; a lead that
        was MQL and no longer passes goes back to Open).
    """
    min_grade = GRADES.index(settings.mql_min_grade)
    graded = leads.with_columns(score_expr(settings).alias(s.SCORE), grade_expr(settings).alias(s.GRADE))
    is_mql = (pl.col(s.SCORE) >= settings.mql_min_score) & (
        pl.col(s.GRADE).replace_strict(list(GRADES), list(range(len(GRADES))), return_dtype=pl.Int32) >= min_grade
    )
    return graded.select(
        s.LEAD_ID,
        s.SCORE,
        s.GRADE,
        pl.when(is_mql & pl.col(s.STATUS).is_in([STATUS_OPEN, STATUS_MQL]))
        .then(pl.lit(STATUS_MQL))
        .when(~is_mql & (pl.col(s.STATUS) == STATUS_MQL))
        .then(pl.lit(STATUS_OPEN))
        .otherwise(pl.col(s.STATUS))
        .alias(s.STATUS),
    )

"""Qualification per cluster: score (engagement, decayed), grade (fit), top factors, status.

A cluster (a person's golden record and all the leads that are duplicates of it) is qualified
once; the results go onto every lead of the cluster. Everything is whole-column polars, no
loop over leads: text rules run once per distinct value (a few hundred titles, industries or
company sizes among a million clusters) and are joined back, per-row work happens before the one
group-by over the submissions, and the top factors are picked across the columns of each row.

- **Score**: each rule on a per-submission field (source kind, form name, campaign, demo
  request) scores every matching submission, multiplied by ``0.5 ** (age_days / half_life)``;
  each rule on a cluster field (golden values, number of submissions, days since last seen)
  scores once. The score is the rounded sum.
- **Grade**: start at D; each matching rule moves the grade by its steps (thirds of a letter);
  within a ``group`` only the first matching rule counts; clamped to F .. A+.
- **Status** (Salesforce picklist plus MQL): the cluster's furthest status among its leads
  (Open < MQL < Working < Closed - Not Converted); an Open or MQL cluster becomes MQL when score
  and grade pass the thresholds and Open otherwise; Working and Closed are left to the reps.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import polars as pl

from transforms import schema as s
from transforms.criteria import (
    DAYS_SINCE_FIRST_SEEN,
    DAYS_SINCE_LAST_SEEN,
    DEMO_REQUESTED,
    FORM_SUBMISSIONS,
    SEEN_AT,
    SUBMISSIONS,
    Criterion,
    criterion_expr,
    fields_of,
    per_distinct_value,
    with_criteria_columns,
)
from transforms.normalise import is_yes
from transforms.qualify_config import GRADES, START_GRADE, QualifySettings, ScoreRule

STATUS_OPEN = "Open - Not Contacted"
STATUS_WORKING = "Working - Contacted"
STATUS_MQL = "MQL"
STATUS_CONVERTED = "Closed - Converted"
STATUS_NOT_CONVERTED = "Closed - Not Converted"
#: How far along each status is; a cluster takes the furthest status of its leads.
STATUS_RANK: dict[str, int] = {STATUS_OPEN: 0, STATUS_MQL: 1, STATUS_WORKING: 2, STATUS_NOT_CONVERTED: 3}
_UNKNOWN_STATUS_RANK = 2  # a custom picklist value is treated like "being worked": left alone

#: Raw value of a "request a demo" column read from leads.extra (one per submission).
DEMO_RAW = "demo_raw"

FACTOR_KIND = "kind"
KINDS = ["grade", "score"]  # values of FACTOR_KIND
FACTOR_RANK = "rank"
FACTOR = "factor"
POINTS = "points"
MQL_AT = "mql_at"


@dataclass(frozen=True)
class Qualification:
    """Per-cluster results and the top factors behind them."""

    clusters: pl.DataFrame  # cluster_id, score, grade, status, mql_at
    factors: pl.DataFrame  # cluster_id, kind ('score'/'grade'), rank, factor, points


def _demo_column_expr() -> pl.Expr:
    return is_yes(pl.col(DEMO_RAW))


def _demo_form_expr(settings: QualifySettings) -> pl.Expr:
    if not settings.demo_form_pattern:
        return pl.lit(False)
    return pl.col(s.FORM_NAME).str.to_lowercase().str.contains(settings.demo_form_pattern.lower(), literal=True).fill_null(False)


def _aggregate_exprs(as_of: datetime, statuses: list[str]) -> tuple[list[pl.Expr], list[pl.Expr], list[pl.Expr]]:
    """Per-row inputs, aggregations and the final columns of the per-cluster aggregates.

    ``statuses`` are the status values present, furthest last. Everything row-wise is computed
    before the group-by and the aggregations are plain sums, minima and maxima: an expression
    such as ``when/then`` or a sort inside a group-by over a million small groups runs per group
    and costs several times more.
    """
    now = pl.lit(as_of)
    codes = list(range(len(statuses)))
    before = [
        pl.col(s.STATUS).replace_strict(statuses, codes, default=None, return_dtype=pl.Int32).alias("_status"),
        (pl.col(s.SOURCE_KIND) == s.KIND_FORM).alias("_form"),
    ]
    aggs = [
        pl.len().cast(pl.Int32).alias(SUBMISSIONS),
        pl.col("_form").sum().cast(pl.Int32).alias(FORM_SUBMISSIONS),
        pl.col(SEEN_AT).max().alias("_last"),
        pl.col(SEEN_AT).min().alias("_first"),
        pl.col("_status").max(),  # the furthest status: the largest position in `statuses`
        pl.col(MQL_AT).min().alias(MQL_AT),
    ]
    after = [
        ((now - pl.col("_last")).dt.total_seconds() / 86400).alias(DAYS_SINCE_LAST_SEEN),
        ((now - pl.col("_first")).dt.total_seconds() / 86400).alias(DAYS_SINCE_FIRST_SEEN),
    ]
    return before, aggs, after


def _status_from_code(statuses: list[str]) -> pl.Expr:
    return pl.col("_status").replace_strict(list(range(len(statuses))), statuses, default=None, return_dtype=pl.String).alias(s.STATUS)


def _aggregate(frame: pl.DataFrame, as_of: datetime, statuses: list[str], extra: list[pl.Expr]) -> pl.DataFrame:
    """The aggregates per cluster, numeric only: the furthest status as its code ``_status``."""
    before, aggs, after = _aggregate_exprs(as_of, statuses)
    names = [SUBMISSIONS, FORM_SUBMISSIONS, DAYS_SINCE_LAST_SEEN, DAYS_SINCE_FIRST_SEEN, "_status", MQL_AT]
    out = frame.lazy().with_columns(before).group_by(s.CLUSTER_ID).agg(*aggs, *extra).with_columns(after)
    return out.select(s.CLUSTER_ID, *names, *[e.meta.output_name() for e in extra]).collect()


def _statuses_by_rank(submissions: pl.DataFrame) -> list[str]:
    """The status values present, in the order of how far along they are (then by name)."""
    present = submissions.get_column(s.STATUS).drop_nulls().unique().to_list()
    return sorted(present, key=lambda v: (STATUS_RANK.get(v, _UNKNOWN_STATUS_RANK), v))


def _grade_letter(steps: pl.Expr) -> pl.Expr:
    index = (steps + GRADES.index(START_GRADE)).clip(0, len(GRADES) - 1)
    return index.replace_strict(list(range(len(GRADES))), list(GRADES), return_dtype=pl.String)


def grade_index(grade: pl.Expr) -> pl.Expr:
    """Position of a grade letter on the F .. A+ scale (null for an unknown letter)."""
    return grade.replace_strict(list(GRADES), list(range(len(GRADES))), default=None, return_dtype=pl.Int32)


def _activity(
    submissions: pl.DataFrame, per_sub: list[tuple[int, ScoreRule]], settings: QualifySettings, as_of: datetime, statuses: list[str]
) -> pl.DataFrame:
    """Per cluster: the aggregates of :func:`_aggregate` and the decayed points ``_s<i>`` of each per-submission rule.

    The rules read low-cardinality columns (source kind, form name, campaign, the raw demo
    value), so their text tests run once per distinct value; the decayed points are computed
    per row, and one group-by sums every rule and computes the aggregates.
    """
    frame = submissions
    if per_sub:
        if any(r.field == DEMO_REQUESTED for _, r in per_sub):
            raw = per_distinct_value(submissions, [DEMO_RAW], [("_demo_raw", _demo_column_expr())])[0]
            form = per_distinct_value(submissions, [s.FORM_NAME], [("_demo_form", _demo_form_expr(settings))])[0]
            frame = frame.with_columns((raw | form).alias(DEMO_REQUESTED))
        per_value = {s.SOURCE_KIND, s.FORM_NAME, s.CAMPAIGN, DEMO_REQUESTED}
        frame = with_criteria_columns(frame, [(f"_m{i}", criterion_expr(r), [r]) for i, r in per_sub], per_value)
        age = ((pl.lit(as_of) - pl.col(SEEN_AT)).dt.total_seconds() / 86400).clip(lower_bound=0).fill_null(0)
        decay = 0.5 ** (age / settings.half_life_days) if settings.half_life_days else pl.lit(1.0)
        frame = frame.with_columns(decay.alias("_decay")).with_columns(
            (pl.when(pl.col(f"_m{i}")).then(pl.col("_decay")).otherwise(0.0) * r.points).alias(f"_s{i}") for i, r in per_sub
        )
    return _aggregate(frame, as_of, statuses, [pl.col(f"_s{i}").sum() for i, _ in per_sub])


def _grade_groups(settings: QualifySettings) -> dict[str, list[int]]:
    """Grade rule indices per group, in order (a rule without a group is a group of its own)."""
    groups: dict[str, list[int]] = {}
    for i, rule in enumerate(settings.grade_rules):
        groups.setdefault(rule.group or f"_rule{i}", []).append(i)
    return groups


def _rule_columns(
    clusters: pl.DataFrame, activity: pl.DataFrame, settings: QualifySettings
) -> tuple[pl.DataFrame, list[tuple[int, str]], list[str]]:
    """One row per cluster with activity, sorted by cluster id: the aggregates, the points of each
    score rule (``_s<i>``) and, per grade group, the index of the rule that counted (``_r<k>``)
    and its steps (``_g<k>``).

    Rules that read only golden fields are evaluated on ``clusters`` before the join, so that
    the join and the sort move numbers, not the text columns (gathering a million strings in a
    new order is the slowest step of all).

    Returns:
        The frame, (rule index, column) of every score rule, and the grade step columns.
    """
    units: list[tuple[str, pl.Expr, list[Criterion]]] = []
    for i, rule in enumerate(settings.score_rules):
        if not rule.per_submission:
            units.append((f"_s{i}", pl.when(criterion_expr(rule)).then(pl.lit(float(rule.points))).otherwise(0.0), [rule]))
    groups = _grade_groups(settings)
    rules = settings.grade_rules
    for k, members in enumerate(groups.values()):
        chain: pl.Expr | pl.Then | pl.ChainedThen = pl
        for i in members:  # the first matching rule of the group counts
            chain = chain.when(criterion_expr(rules[i])).then(pl.lit(i, pl.Int32))  # type: ignore[union-attr]
        units.append((f"_r{k}", chain.otherwise(None), [rules[i] for i in members]))  # type: ignore[union-attr]
    profile = set(clusters.columns) - {s.CLUSTER_ID}
    before = [u for u in units if fields_of(u[2]) <= profile]
    after = [u for u in units if not fields_of(u[2]) <= profile]
    kept = sorted({f for _, _, criteria in after for f in fields_of(criteria)} & profile)
    profile_points = with_criteria_columns(clusters, before).select(s.CLUSTER_ID, *[name for name, _, _ in before], *kept)
    # Both sides sorted first: a join of sorted keys that keeps the left order is several times
    # cheaper than a hash join followed by a sort (and the result stays sorted by cluster).
    frame = activity.sort(s.CLUSTER_ID).join(
        profile_points.sort(s.CLUSTER_ID), on=s.CLUSTER_ID, how="inner", maintain_order="left"
    ).sort(s.CLUSTER_ID)  # a no-op on sorted data; kept as the guarantee
    frame = with_criteria_columns(frame, after)
    steps = {i: r.steps for i, r in enumerate(rules)}
    grade_cols = [f"_g{k}" for k in range(len(groups))]
    frame = frame.with_columns(
        pl.col(f"_r{k}").replace_strict(steps, default=0, return_dtype=pl.Int32).fill_null(0).alias(f"_g{k}") for k in range(len(groups))
    )
    score_cols = [(i, f"_s{i}") for i in range(len(settings.score_rules))]
    return frame, score_cols, grade_cols


def qualify(clusters: pl.DataFrame, submissions: pl.DataFrame, settings: QualifySettings, as_of: datetime) -> Qualification:
    """Score, grade and set the status of each cluster.

    Args:
        clusters: one row per cluster: ``cluster_id`` and the golden fields the rules read.
        submissions: one row per unconverted lead of those clusters: ``cluster_id``,
            ``source_kind``, ``form_name``, ``campaign``, ``seen_at``, ``demo_raw``, ``status``
            and ``mql_at``.
        settings: the rules, decay and thresholds.
        as_of: the time ages and recency are measured from (the run's time).

    Returns:
        Per cluster ``score``, ``grade``, ``status`` and ``mql_at`` (first time it was MQL), and
        the top ``settings.top_factors`` score and grade factors of each cluster.

    Example:
        >>> q = qualify(golden, leads, QualifySettings(), datetime(2026, 11, 23))
        >>> q.clusters.columns
        ['cluster_id', 'score', 'grade', 'status', 'mql_at']
    """
    per_sub = [(i, r) for i, r in enumerate(settings.score_rules) if r.per_submission]
    statuses = _statuses_by_rank(submissions)
    activity = _activity(submissions, per_sub, settings, as_of, statuses)
    frame, score_cols, grade_cols = _rule_columns(clusters, activity, settings)
    # Summed in the order per-cluster rules, then per-submission rules, as before (float sums).
    columns = [c for i, c in score_cols if not settings.score_rules[i].per_submission] + [f"_s{i}" for i, _ in per_sub]
    total_score = pl.sum_horizontal(columns).round(0).cast(pl.Int32) if columns else pl.lit(0, pl.Int32)
    total_steps = pl.sum_horizontal(grade_cols) if grade_cols else pl.lit(0)
    frame = frame.with_columns(total_score.alias(s.SCORE), _grade_letter(total_steps).alias(s.GRADE), _status_from_code(statuses))
    is_mql = (pl.col(s.SCORE) >= settings.mql_min_score) & (
        grade_index(pl.col(s.GRADE)) >= GRADES.index(settings.mql_min_grade)
    )
    open_like = pl.col(s.STATUS).is_in([STATUS_OPEN, STATUS_MQL])
    status = pl.when(open_like & is_mql).then(pl.lit(STATUS_MQL)).when(open_like).then(pl.lit(STATUS_OPEN)).otherwise(pl.col(s.STATUS))
    result = frame.select(s.CLUSTER_ID, s.SCORE, s.GRADE, status.alias(s.STATUS), MQL_AT).with_columns(
        pl.when((pl.col(s.STATUS) == STATUS_MQL) & pl.col(MQL_AT).is_null()).then(pl.lit(as_of)).otherwise(pl.col(MQL_AT)).alias(MQL_AT)
    )
    factors = _factors(frame, score_cols, grade_cols, settings)
    return Qualification(
        clusters=result.select(s.CLUSTER_ID, s.SCORE, s.GRADE, s.STATUS, pl.col(MQL_AT).cast(pl.Datetime("us"))),  # sorted by cluster
        factors=factors,
    )


def _top_keys(keys: np.ndarray, top: int) -> np.ndarray:
    """The ``top`` largest values of each row, largest first (-1 where a row has fewer)."""
    if keys.shape[1] > top:
        keys = np.partition(keys, keys.shape[1] - top, axis=1)[:, keys.shape[1] - top:]
    return -np.sort(-keys, axis=1)[:, :top]


def _factors(frame: pl.DataFrame, score_cols: list[tuple[int, str]], grade_cols: list[str], settings: QualifySettings) -> pl.DataFrame:
    """The ``top_factors`` largest non-zero contributions per cluster and kind (score rules, grade groups).

    The order is that of ranking every contribution of a cluster by absolute points (rounded to
    0.1), ties by rule index. It is computed across the columns of each row, because sorting the
    long form (one row per cluster and rule: ten million rows at 1M clusters) costs seconds:
    each candidate gets an integer key that orders the same way and is unique within its row
    (``tenths * radix + radix - 1 - rule``, -1 when it does not count), and a partial sort of
    each row of the (clusters x candidates) key matrix picks the top ones.

    ``kind`` and ``factor`` are Enums (few distinct labels; they reach DuckDB as dictionaries).
    """
    schema = {s.CLUSTER_ID: pl.Int64, FACTOR_KIND: pl.String, FACTOR_RANK: pl.Int32, FACTOR: pl.String, POINTS: pl.Float64}
    top = settings.top_factors
    kind_type = pl.Enum(KINDS)
    label_type = pl.Enum(list(dict.fromkeys([r.name for r in settings.grade_rules] + [r.name for r in settings.score_rules])))
    ids = frame.get_column(s.CLUSTER_ID).cast(pl.Int64).to_numpy()
    parts = []
    # The candidate (column) that each rule's points are in: a score rule has its own column,
    # a grade rule the column of its group.
    score_column = {i: j for j, (i, _) in enumerate(score_cols)}
    grade_column = {i: k for k, members in enumerate(_grade_groups(settings).values()) for i in members}
    kinds = (  # (kind, labels by rule index, column of each rule, points, rule index, counts) per candidate
        ("grade", [r.name for r in settings.grade_rules], grade_column, [pl.col(c).cast(pl.Float64) for c in grade_cols],
         [pl.col(f"_r{k}").fill_null(-1).cast(pl.Int64) for k in range(len(grade_cols))], [pl.col(c) != 0 for c in grade_cols]),
        ("score", [r.name for r in settings.score_rules], score_column, [pl.col(c).round(1) for _, c in score_cols],
         [pl.lit(i, pl.Int64) for i, _ in score_cols], [pl.col(c) != 0 for _, c in score_cols]),
    )
    for kind, labels, columns, points_exprs, rule_exprs, valid_exprs in kinds:
        if not points_exprs or top == 0 or frame.height == 0:
            continue
        m = len(points_exprs)
        radix = 1 << len(labels).bit_length()  # larger than every rule index
        points = frame.select(e.alias(f"_p{j}") for j, e in enumerate(points_exprs)).to_numpy().reshape(-1, m)
        rules = frame.select(e.alias(f"_r{j}") for j, e in enumerate(rule_exprs)).to_numpy().reshape(-1, m)
        valid = frame.select(e.alias(f"_v{j}") for j, e in enumerate(valid_exprs)).to_numpy().reshape(-1, m)
        keys = np.abs(points)  # in place from here: ten million cells at 1M clusters
        keys *= 10
        np.rint(keys, out=keys)
        keys = keys.astype(np.int64)
        keys *= radix
        keys += radix - 1 - rules
        keys[~valid] = -1
        best = _top_keys(keys, top)
        column_of = np.zeros(radix, dtype=np.int64)
        for rule, column in columns.items():
            column_of[rule] = column
        for r in range(best.shape[1]):
            key = best[:, r]
            keep = key >= 0
            n = int(keep.sum())
            rule = (radix - 1) - key[keep] % radix
            parts.append(
                pl.DataFrame({
                    s.CLUSTER_ID: ids[keep],
                    FACTOR_KIND: pl.Series(np.full(n, KINDS.index(kind))).replace_strict(list(range(len(KINDS))), KINDS, return_dtype=kind_type),
                    FACTOR_RANK: np.full(n, r + 1, dtype=np.int32),
                    FACTOR: pl.Series(rule).replace_strict(list(range(len(labels))), labels, return_dtype=label_type),
                    POINTS: points[np.flatnonzero(keep), column_of[rule]],
                })
            )
    return pl.concat(parts) if parts else pl.DataFrame(schema=schema)

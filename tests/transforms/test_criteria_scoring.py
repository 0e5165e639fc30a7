from __future__ import annotations

from datetime import datetime

import polars as pl
import pytest
from pydantic import ValidationError

from transforms.criteria import Criterion, criterion_expr
from transforms.qualify_config import GradeRule, QualifySettings, ScoreRule
from transforms.scoring import STATUS_MQL, STATUS_OPEN, STATUS_WORKING, qualify
from polars.testing import assert_frame_equal

NOW = datetime(2026, 11, 23)
FRAME = pl.DataFrame(
    {
        "title": ["VP Sales", "student", None, "Director"],
        "number_of_employees": ["500", "10-50", None, "1,200"],
        "country": ["DE", "BR", None, "de"],
        "is_freemail": [True, False, None, False],
    }
)


@pytest.mark.parametrize(
    ("criterion", "expected"),
    [
        (Criterion(field="title", op="contains", value="vp"), [True, False, False, False]),
        (Criterion(field="title", op="eq", value="DIRECTOR"), [False, False, False, True]),
        (Criterion(field="title", op="eq", value="DIRECTOR", case_sensitive=True), [False, False, False, False]),
        (Criterion(field="title", op="ne", value="student"), [True, False, True, True]),
        (Criterion(field="title", op="is_null"), [False, False, True, False]),
        (Criterion(field="number_of_employees", op="gte", value=500), [True, False, False, True]),
        (Criterion(field="number_of_employees", op="lt", value=20), [False, True, False, False]),  # "10-50" reads 10
        (Criterion(field="country", op="in", value=["DE", "AT"]), [True, False, False, True]),
        (Criterion(field="country", op="not_in", value=["DE"]), [False, True, True, False]),
        (Criterion(field="title", op="starts_with", value="dir"), [False, False, False, True]),
        (Criterion(field="is_freemail", op="eq", value=True), [True, False, False, False]),
    ],
)
def test_criteria(criterion: Criterion, expected: list[bool]) -> None:
    assert FRAME.select(criterion_expr(criterion))[:, 0].to_list() == expected


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"field": "shoe_size", "op": "gt", "value": 40}, "unknown lead field 'shoe_size'"),
        ({"field": "country", "op": "in", "value": "DE"}, "needs a list"),
        ({"field": "title", "op": "eq", "value": ["a"]}, "single value"),
        ({"field": "title", "op": "gt", "value": "big"}, "needs a number"),
        ({"field": "title", "op": "is_null", "value": "x"}, "takes no value"),
    ],
)
def test_bad_criteria_say_why(rule: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ScoreRule(points=1, **rule)


def test_grade_rules_cannot_read_activity() -> None:
    with pytest.raises(ValidationError, match="cannot read 'form_name'"):
        GradeRule(field="form_name", op="eq", value="x", steps=1)


def _subs(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={"cluster_id": pl.Int64, "source_kind": pl.String, "form_name": pl.String, "campaign": pl.String,
                "seen_at": pl.Datetime("us"), "demo_raw": pl.String, "status": pl.String, "mql_at": pl.Datetime("us")},
        orient="row",
    )


SETTINGS = QualifySettings(
    score_rules=(
        ScoreRule(field="source_kind", op="eq", value="form", points=20, label="form"),
        ScoreRule(field="demo_requested", op="eq", value=True, points=40, label="demo"),
        ScoreRule(field="submissions", op="gte", value=2, points=10, label="repeat"),
        ScoreRule(field="is_freemail", op="eq", value=True, points=-15, label="free-mail"),
    ),
    grade_rules=(
        GradeRule(field="title", op="contains", value="ceo", steps=4, group="seniority", label="c-level"),
        GradeRule(field="title", op="contains", value="head", steps=3, group="seniority", label="senior"),
        GradeRule(field="country", op="eq", value="DE", steps=2, label="target country"),
        GradeRule(field="title", op="contains", value="student", steps=-9, label="student"),
    ),
    half_life_days=30.0,
    mql_min_score=50,
    mql_min_grade="C",
    top_factors=2,
)


def test_scoring_is_per_cluster_with_decay_groups_factors_and_status() -> None:
    golden = pl.DataFrame(
        {"cluster_id": [1, 5, 7], "title": ["CEO and Head of Sales", "student", None], "country": ["DE", "DE", None],
         "is_freemail": [False, True, False]}
    )
    subs = _subs([
        (1, "form", "Request a demo", None, datetime(2026, 11, 23), None, STATUS_OPEN, None),  # today: full points
        (1, "form", "contact", None, datetime(2026, 10, 24), None, STATUS_OPEN, None),  # 30 days: half
        (5, "bulk", None, None, datetime(2026, 11, 23), "yes", STATUS_WORKING, None),  # demo via an extra column
        (7, "form", None, None, datetime(2026, 11, 23), "no", STATUS_MQL, datetime(2026, 11, 1)),
    ])
    out = qualify(golden, subs, SETTINGS, NOW)
    rows = {r["cluster_id"]: r for r in out.clusters.to_dicts()}
    # 1: form 20 + form 10 (decayed) + demo 40 + repeat 10 = 80; CEO and Head count once in their group (+4), DE +2: D + 6 thirds = B
    assert (rows[1]["score"], rows[1]["grade"], rows[1]["status"]) == (80, "B", STATUS_MQL)
    assert rows[1]["mql_at"] == NOW
    # 5: demo 40 - free-mail 15 = 25; student -9 clamps at F; being worked: status left alone.
    assert (rows[5]["score"], rows[5]["grade"], rows[5]["status"]) == (25, "F", STATUS_WORKING)
    # 7: was MQL, no longer passes: back to Open; mql_at (first time MQL) is kept.
    assert (rows[7]["score"], rows[7]["grade"], rows[7]["status"]) == (20, "D", STATUS_OPEN)
    assert rows[7]["mql_at"] == datetime(2026, 11, 1)
    factors = out.factors.filter(pl.col("cluster_id") == 1).sort("kind", "rank")
    assert factors.select("kind", "rank", "factor", "points").rows() == [
        ("grade", 1, "c-level", 4.0), ("grade", 2, "target country", 2.0),
        ("score", 1, "demo", 40.0), ("score", 2, "form", 30.0),
    ]


def test_furthest_status_of_the_cluster_wins_and_no_decay_when_unset() -> None:
    golden = pl.DataFrame({"cluster_id": [1], "title": ["CEO"], "country": ["DE"], "is_freemail": [False]})
    subs = _subs([
        (1, "form", "demo", None, datetime(2020, 1, 1), None, STATUS_WORKING, None),
        (1, "form", None, None, datetime(2020, 1, 1), None, STATUS_OPEN, None),  # a new duplicate
    ])
    out = qualify(golden, subs, SETTINGS.model_copy(update={"half_life_days": None}), NOW)
    assert out.clusters.row(0, named=True)["status"] == STATUS_WORKING
    assert out.clusters.row(0, named=True)["score"] == 20 + 20 + 40 + 10  # years old, but no decay


def test_default_rules_qualify_a_demo_request_from_a_senior_lead() -> None:
    golden = pl.DataFrame(
        {"cluster_id": [1], "title": ["Head of IT"], "country": ["DE"], "industry": ["Software"], "number_of_employees": ["250"],
         "company_domain": ["acme.de"], "phone": [None], "is_freemail": [False]}
    )
    subs = _subs([(1, "form", "Request a Demo", None, datetime(2026, 11, 22), None, STATUS_OPEN, None)])
    out = qualify(golden, subs, QualifySettings(), NOW).clusters.row(0, named=True)
    assert out["status"] == STATUS_MQL and out["score"] >= 50 and out["grade"] in ("B+", "A-", "A", "A+")


# --- the fast paths must agree with the plain definitions ----------------------------------------
from hypothesis import given  # noqa: E402
from hypothesis import settings as hsettings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from transforms.criteria import with_all_of_columns, with_criteria_columns  # noqa: E402
from transforms.scoring import _factors  # noqa: E402

PER_VALUE_CRITERIA = [
    Criterion(field="title", op="contains", value="vp"),
    Criterion(field="title", op="eq", value="Director", case_sensitive=True),
    Criterion(field="title", op="not_contains", value="student"),
    Criterion(field="number_of_employees", op="gte", value=500),
    Criterion(field="number_of_employees", op="lt", value=20),
    Criterion(field="country", op="not_in", value=["DE"]),
    Criterion(field="is_freemail", op="eq", value=True),
    Criterion(field="is_freemail", op="ne", value=False),
]


def test_per_distinct_value_evaluation_equals_direct_evaluation() -> None:
    frame = pl.concat([FRAME] * 3).with_columns(pl.Series("grade", ["A", None, "B", "A"] * 3))
    columns = [(f"_c{i}", criterion_expr(c), [c]) for i, c in enumerate(PER_VALUE_CRITERIA)]
    fast = with_criteria_columns(frame, columns)
    direct = frame.with_columns(e.alias(n) for n, e, _ in columns)
    assert_frame_equal(fast, direct)
    # several fields in one column (joined back), and a rule combining criteria
    both = [("_both", criterion_expr(PER_VALUE_CRITERIA[0]) & criterion_expr(PER_VALUE_CRITERIA[5]), PER_VALUE_CRITERIA[0:6:5])]
    assert_frame_equal(with_criteria_columns(frame, both), frame.with_columns(both[0][1].alias("_both")))
    rules = [("_r0", PER_VALUE_CRITERIA[:2]), ("_r1", []), ("_r2", [PER_VALUE_CRITERIA[3], Criterion(field="grade", op="in", value=["A"])])]
    got = with_all_of_columns(frame, rules)
    assert got.columns == [*frame.columns, "_r0", "_r1", "_r2"]
    assert got["_r1"].all()
    assert_frame_equal(got.select("_r2"), frame.select((criterion_expr(rules[2][1][0]) & criterion_expr(rules[2][1][1])).alias("_r2")))


def _factors_by_sorting(frame: pl.DataFrame, score_cols: list[tuple[int, str]], grade_cols: list[str], settings: QualifySettings) -> list[tuple]:
    """The definition: every non-zero contribution, sorted by |points| (0.1) then rule index."""
    rows = []
    for row in frame.iter_rows(named=True):
        for kind, cands in (
            ("score", [(i, pl.Series([row[c]]).round(1)[0]) for i, c in score_cols if row[c] != 0]),  # polars rounding
            ("grade", [(row[f"_r{k}"], float(row[c])) for k, c in enumerate(grade_cols) if row[c] != 0]),
        ):
            names = [r.name for r in (settings.score_rules if kind == "score" else settings.grade_rules)]
            ranked = sorted(cands, key=lambda c: (-abs(c[1]), c[0]))[: settings.top_factors]
            rows += [(row["cluster_id"], kind, rank, names[rule], pts) for rank, (rule, pts) in enumerate(ranked, 1)]
    return sorted(rows)


@given(
    points=st.lists(st.lists(st.sampled_from([0.0, 0.04, 0.05, -0.05, 1.0, -1.0, 2.449, 2.45, 10.0, -10.0]), min_size=4, max_size=4), min_size=1, max_size=30),
    steps=st.lists(st.tuples(st.sampled_from([None, 0, 1]), st.sampled_from([None, 2, 3])), min_size=30, max_size=30),
    top=st.integers(0, 5),
)
@hsettings(max_examples=60, deadline=None)
def test_top_factors_row_wise_equal_sorting_every_contribution(points: list[list[float]], steps: list[tuple], top: int) -> None:
    """Ties (same rounded |points|, opposite signs), tiny values that round to 0.0, fewer candidates than ``top``."""
    settings = QualifySettings(
        score_rules=tuple(ScoreRule(field="phone", op="not_null", points=1, label=f"s{i}") for i in range(4)),
        grade_rules=(
            GradeRule(field="title", op="is_null", steps=2, group="g", label="g0"),
            GradeRule(field="title", op="not_null", steps=-2, group="g", label="g1"),
            GradeRule(field="country", op="is_null", steps=-2, group="h", label="g2"),
            GradeRule(field="country", op="not_null", steps=3, group="h", label="g3"),
        ),
        top_factors=top,
    )
    n = len(points)
    r0 = [s[0] for s in steps[:n]]
    r1 = [None if s[1] is None else s[1] for s in steps[:n]]
    frame = pl.DataFrame(
        {"cluster_id": list(range(1, n + 1)), **{f"_s{i}": [p[i] for p in points] for i in range(4)}, "_r0": r0, "_r1": r1},
        schema_overrides={"_r0": pl.Int32, "_r1": pl.Int32},
    ).with_columns(
        pl.col("_r0").replace_strict({0: 2, 1: -2}, default=0, return_dtype=pl.Int32).fill_null(0).alias("_g0"),
        pl.col("_r1").replace_strict({2: -2, 3: 3}, default=0, return_dtype=pl.Int32).fill_null(0).alias("_g1"),
    )
    score_cols = [(i, f"_s{i}") for i in range(4)]
    got = _factors(frame, score_cols, ["_g0", "_g1"], settings)
    assert sorted(got.with_columns(pl.col("kind", "factor").cast(pl.String)).rows()) == _factors_by_sorting(frame, score_cols, ["_g0", "_g1"], settings)

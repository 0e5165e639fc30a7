"""Typed settings of qualification: score rules (engagement), grade rules (fit), MQL thresholds.

A rule is a criterion plus its effect, written flat in TOML::

    [[qualify.score_rules]]
    field = "demo_requested"
    op = "eq"
    value = true
    points = 40
    label = "demo request"
"""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from transforms import schema as s
from transforms.criteria import (
    ACTIVITY_FIELDS,
    DAYS_SINCE_LAST_SEEN,
    DEMO_REQUESTED,
    FIT_FIELDS,
    SCORE_FIELDS,
    SUBMISSIONS,
    Criterion,
    check_fields,
)
from transforms.models import StrictModel

GRADES: tuple[str, ...] = ("F", "D-", "D", "D+", "C-", "C", "C+", "B-", "B", "B+", "A-", "A", "A+")
START_GRADE = "D"


class ScoreRule(Criterion):
    """Points added to the score when the criterion holds.

    On a per-submission field (source_kind, form_name, campaign, demo_requested) the points count
    for every matching submission of the cluster, each decayed by its age; on any other field
    they count once per cluster.
    """

    points: int = Field(ge=-1000, le=1000, description="Points added (negative to subtract).")
    label: str | None = Field(None, description="Name shown as a scoring factor (default: the criterion).")

    @model_validator(mode="after")
    def _fields(self) -> ScoreRule:
        check_fields([self], SCORE_FIELDS, "a score rule")
        return self

    @property
    def per_submission(self) -> bool:
        return self.field in ACTIVITY_FIELDS

    @property
    def name(self) -> str:
        return self.label or self.describe()


class GradeRule(Criterion):
    """A fit criterion that moves the grade by thirds of a letter (3 steps = one letter)."""

    steps: int = Field(ge=-12, le=12, description="Thirds of a letter: +1 = D to D+, +3 = D to C.")
    group: str | None = Field(
        None, description="Rules of one group (e.g. 'seniority') count once: the first that matches."
    )
    label: str | None = Field(None, description="Name shown as a grading factor (default: the criterion).")

    @model_validator(mode="after")
    def _fields(self) -> GradeRule:
        check_fields([self], FIT_FIELDS, "a grade rule (fit reads the golden record, not activity)")
        return self

    @property
    def name(self) -> str:
        return self.label or self.describe()


def _default_score_rules() -> tuple[ScoreRule, ...]:
    return (
        ScoreRule(field=s.SOURCE_KIND, op="eq", value="form", points=25, label="form submission"),
        ScoreRule(field=s.SOURCE_KIND, op="eq", value="trade_show", points=20, label="met at an event"),
        ScoreRule(field=s.SOURCE_KIND, op="eq", value="bulk", points=2, label="purchased list"),
        ScoreRule(field=DEMO_REQUESTED, op="eq", value=True, points=40, label="demo request"),
        ScoreRule(field=s.FORM_NAME, op="contains", value="pricing", points=20, label="pricing form"),
        ScoreRule(field=s.FORM_NAME, op="contains", value="webinar", points=10, label="webinar registration"),
        ScoreRule(field=s.FORM_NAME, op="contains", value="newsletter", points=-10, label="newsletter only"),
        ScoreRule(field=SUBMISSIONS, op="gte", value=3, points=15, label="repeat visitor (3+ submissions)"),
        ScoreRule(field=DAYS_SINCE_LAST_SEEN, op="lte", value=7, points=10, label="active this week"),
        ScoreRule(field=s.PHONE, op="not_null", points=5, label="phone given"),
        ScoreRule(field=s.IS_FREEMAIL, op="eq", value=True, points=-10, label="free-mail address"),
    )


def _default_grade_rules() -> tuple[GradeRule, ...]:
    c_level = ["chief", "ceo", "cto", "cfo", "coo", "cmo", "cio", "founder", "owner", "president", "geschäftsführer", "managing director"]
    senior = ["vp", "vice president", "head", "director", "leiter", "directeur"]
    seniority = (
        [GradeRule(field=s.TITLE, op="contains", value=w, steps=4, group="seniority", label="c-level title") for w in c_level]
        + [GradeRule(field=s.TITLE, op="contains", value=w, steps=3, group="seniority", label="senior title") for w in senior]
        + [
            GradeRule(field=s.TITLE, op="contains", value="manager", steps=2, group="seniority", label="manager title"),
            GradeRule(field=s.TITLE, op="contains", value="student", steps=-3, group="seniority", label="student"),
            GradeRule(field=s.TITLE, op="contains", value="intern", steps=-3, group="seniority", label="intern"),
        ]
    )
    size = [
        GradeRule(field=s.NUMBER_OF_EMPLOYEES, op="gte", value=1000, steps=3, group="size", label="1000+ employees"),
        GradeRule(field=s.NUMBER_OF_EMPLOYEES, op="gte", value=200, steps=2, group="size", label="200+ employees"),
        GradeRule(field=s.NUMBER_OF_EMPLOYEES, op="gte", value=50, steps=1, group="size", label="50+ employees"),
        GradeRule(field=s.NUMBER_OF_EMPLOYEES, op="lt", value=10, steps=-1, group="size", label="under 10 employees"),
    ]
    industry = [
        GradeRule(
            field=s.INDUSTRY, op="in", group="industry", steps=2, label="target industry",
            value=["software", "technology", "information technology", "financial services", "banking",
                   "insurance", "manufacturing", "telecommunications", "healthcare"],
        ),
    ]
    country = [
        GradeRule(
            field=s.COUNTRY, op="in", group="country", steps=2, label="target country",
            value=["US", "CA", "GB", "DE", "FR", "NL", "AT", "CH", "SE", "DK", "IE"],
        ),
    ]
    contact = [
        GradeRule(field=s.COMPANY_DOMAIN, op="is_null", steps=-1, group="domain", label="no company domain"),
    ]
    return tuple(seniority + size + industry + country + contact)


class QualifySettings(StrictModel):
    """Scoring (engagement) and grading (fit) rules, decay, and the MQL thresholds."""

    score_rules: tuple[ScoreRule, ...] = Field(
        default_factory=_default_score_rules, description="Points per signal (field, op, value, points)."
    )
    grade_rules: tuple[GradeRule, ...] = Field(
        default_factory=_default_grade_rules,
        description="Fit criteria; a cluster starts at D and each match moves it by thirds of a letter.",
    )
    half_life_days: float | None = Field(
        60.0, gt=0, description="Points of a submission halve every N days (recency decay); unset = no decay."
    )
    demo_request_fields: tuple[str, ...] = Field(
        ("request_demo", "Request a demo", "Request demo", "demo_request", "Demo request", "demo"),
        description="Source columns (kept in leads.extra) whose yes/true/1/x value means 'request a demo'.",
    )
    demo_form_pattern: str | None = Field(
        "demo", description="A form whose name contains this text (case-insensitive) is a demo request."
    )
    mql_min_score: int = Field(50, description="Score at or above which a lead can be an MQL.")
    mql_min_grade: str = Field("C", description="Grade at or above which a lead can be an MQL.")
    top_factors: int = Field(3, ge=0, le=20, description="Scoring and grading factors kept per cluster.")

    @field_validator("mql_min_grade")
    @classmethod
    def _grade(cls, value: str) -> str:
        if value not in GRADES:
            raise ValueError(f"must be one of {', '.join(GRADES)}")
        return value

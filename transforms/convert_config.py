"""Typed settings of conversion (Salesforce convertLead): which clusters convert, what it creates.

The field mapping says which golden-record field fills which column of the new account, contact
and opportunity; the default is Salesforce's standard lead mapping. Target columns come from
the allow-lists below (the warehouse uses only these names), so a mapping can never name an
arbitrary column.
"""

from __future__ import annotations

from typing import Final, Literal

from pydantic import Field, field_validator, model_validator

from transforms import schema as s
from transforms.criteria import CLUSTER_FIELDS, GOLDEN_FIELDS, Criterion, check_fields
from transforms.models import StrictModel

#: Contact-only values aggregated over the cluster's leads (any lead opted out = opted out).
CONSENT_FIELDS: Final[tuple[str, ...]] = (s.HAS_OPTED_OUT_OF_EMAIL, s.DO_NOT_CALL)
#: Fields a mapping may read.
MAPPABLE_FIELDS: Final[frozenset[str]] = frozenset(GOLDEN_FIELDS) | frozenset(CONSENT_FIELDS)

#: Account columns a mapping may fill (ids, owner, match keys and times are set by conversion).
ACCOUNT_COLUMNS: Final[tuple[str, ...]] = (
    "name", "website", "phone", "industry", "annual_revenue", "number_of_employees", "billing_street",
    "billing_city", "billing_state", "billing_postal_code", "billing_country",
)
CONTACT_COLUMNS: Final[tuple[str, ...]] = (
    "salutation", "first_name", "last_name", "title", "email", "phone", "mobile_phone", "mailing_street",
    "mailing_city", "mailing_state", "mailing_postal_code", "mailing_country", "lead_source",
    "has_opted_out_of_email", "do_not_call",
)
OPPORTUNITY_COLUMNS: Final[tuple[str, ...]] = ("lead_source",)

SALESFORCE_ACCOUNT_MAPPING: Final[dict[str, str]] = {
    "name": s.COMPANY, "website": s.WEBSITE, "phone": s.PHONE, "industry": s.INDUSTRY,
    "annual_revenue": s.ANNUAL_REVENUE, "number_of_employees": s.NUMBER_OF_EMPLOYEES,
    "billing_street": s.STREET, "billing_city": s.CITY, "billing_state": s.STATE,
    "billing_postal_code": s.POSTAL_CODE, "billing_country": s.COUNTRY,
}
SALESFORCE_CONTACT_MAPPING: Final[dict[str, str]] = {
    "salutation": s.SALUTATION, "first_name": s.FIRST_NAME, "last_name": s.LAST_NAME, "title": s.TITLE,
    "email": s.EMAIL, "phone": s.PHONE, "mobile_phone": s.MOBILE_PHONE, "mailing_street": s.STREET,
    "mailing_city": s.CITY, "mailing_state": s.STATE, "mailing_postal_code": s.POSTAL_CODE,
    "mailing_country": s.COUNTRY, "lead_source": s.LEAD_SOURCE,
    "has_opted_out_of_email": s.HAS_OPTED_OUT_OF_EMAIL, "do_not_call": s.DO_NOT_CALL,
}
SALESFORCE_OPPORTUNITY_MAPPING: Final[dict[str, str]] = {"lead_source": s.LEAD_SOURCE}


class AmountRule(Criterion):
    """Opportunity amount when the criterion holds (the first matching rule wins)."""

    amount: float = Field(ge=0, description="Amount of the new opportunity.")

    @model_validator(mode="after")
    def _fields(self) -> AmountRule:
        check_fields([self], CLUSTER_FIELDS, "an amount rule")
        return self


class FieldMapping(StrictModel):
    """Target column -> golden-record field, per object created by conversion."""

    account: dict[str, str] = Field(
        default_factory=lambda: dict(SALESFORCE_ACCOUNT_MAPPING), description="accounts column -> lead field."
    )
    contact: dict[str, str] = Field(
        default_factory=lambda: dict(SALESFORCE_CONTACT_MAPPING), description="contacts column -> lead field."
    )
    opportunity: dict[str, str] = Field(
        default_factory=lambda: dict(SALESFORCE_OPPORTUNITY_MAPPING), description="opportunities column -> lead field."
    )

    @model_validator(mode="after")
    def _check(self) -> FieldMapping:
        for what, mapping, columns, required in (
            ("account", self.account, ACCOUNT_COLUMNS, "name"),
            ("contact", self.contact, CONTACT_COLUMNS, "last_name"),
            ("opportunity", self.opportunity, OPPORTUNITY_COLUMNS, None),
        ):
            for target, source in mapping.items():
                if target not in columns:
                    raise ValueError(f"{what}: unknown target column {target!r}; allowed: {', '.join(columns)}")
                if source not in MAPPABLE_FIELDS:
                    raise ValueError(
                        f"{what}.{target}: unknown lead field {source!r}; allowed: {', '.join(sorted(MAPPABLE_FIELDS))}"
                    )
            if required and required not in mapping:
                raise ValueError(f"{what}: {required!r} must be mapped (the column is required)")
        return self


def _default_criteria() -> tuple[Criterion, ...]:
    return (Criterion(field=s.STATUS, op="eq", value="MQL"),)


class ConvertSettings(StrictModel):
    """Which clusters convert, and what conversion creates (Salesforce convertLead semantics)."""

    criteria: tuple[Criterion, ...] = Field(
        default_factory=_default_criteria,
        description="Conditions (all must hold) for a cluster to convert; it must also be owned by a user.",
    )
    create_opportunity: Literal["always", "never", "unless_open"] = Field(
        "unless_open",
        description="Create an opportunity: always, never, or unless the account already has an open one.",
    )
    opportunity_close_days: int = Field(30, ge=0, le=3650, description="Close date = conversion date + N days.")
    opportunity_stage: str = Field("Prospecting", description="Stage of new opportunities.")
    closed_stages: tuple[str, ...] = Field(
        ("Closed Won", "Closed Lost"), description="Stages of opportunities that are no longer open."
    )
    amount_rules: tuple[AmountRule, ...] = Field((), description="Opportunity amount, first matching rule wins.")
    default_amount: float | None = Field(None, ge=0, description="Amount when no amount rule matches; unset = none.")
    overwrite_lead_source: bool = Field(
        False, description="When attaching to an existing contact, overwrite its lead source (else fill if empty)."
    )
    fuzzy_account_threshold: int | None = Field(
        92, ge=50, le=100,
        description="Attach to an account whose company key is this similar (0-100); unset = exact keys only.",
    )
    field_mapping: FieldMapping = Field(default_factory=FieldMapping, description="Lead -> account/contact/opportunity fields.")

    @field_validator("criteria")
    @classmethod
    def _criteria(cls, value: tuple[Criterion, ...]) -> tuple[Criterion, ...]:
        check_fields(value, CLUSTER_FIELDS, "a conversion criterion")
        return value

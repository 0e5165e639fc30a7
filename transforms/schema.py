"""The canonical lead columns, named once.

Every other module imports these constants instead of repeating column names as strings.
Input columns are what header mapping produces (all strings); derived columns are added by the
normalisers; pipeline columns are filled by later stages in the warehouse.
"""

from __future__ import annotations

from typing import Final

# --- input columns: what a source file's headers map onto (all read as strings) -------------
FIRST_NAME: Final = "first_name"
LAST_NAME: Final = "last_name"
FULL_NAME: Final = "full_name"  # input only: split into first/last, never stored on leads
SALUTATION: Final = "salutation"
TITLE: Final = "title"
COMPANY: Final = "company"
EMAIL: Final = "email"
PHONE: Final = "phone"
MOBILE_PHONE: Final = "mobile_phone"
WEBSITE: Final = "website"
STREET: Final = "street"
CITY: Final = "city"
STATE: Final = "state"
POSTAL_CODE: Final = "postal_code"
COUNTRY: Final = "country"
INDUSTRY: Final = "industry"
ANNUAL_REVENUE: Final = "annual_revenue"
NUMBER_OF_EMPLOYEES: Final = "number_of_employees"
LEAD_SOURCE: Final = "lead_source"
DESCRIPTION: Final = "description"
EXTERNAL_ID: Final = "external_id"
SUBMITTED_AT: Final = "submitted_at"
FORM_NAME: Final = "form_name"
CAMPAIGN: Final = "campaign"
HAS_OPTED_OUT_OF_EMAIL: Final = "has_opted_out_of_email"
DO_NOT_CALL: Final = "do_not_call"

#: Every field a header may map onto, in the order leads are stored.
INPUT_FIELDS: Final[tuple[str, ...]] = (
    SALUTATION,
    FIRST_NAME,
    LAST_NAME,
    FULL_NAME,
    TITLE,
    COMPANY,
    EMAIL,
    PHONE,
    MOBILE_PHONE,
    WEBSITE,
    STREET,
    CITY,
    STATE,
    POSTAL_CODE,
    COUNTRY,
    INDUSTRY,
    ANNUAL_REVENUE,
    NUMBER_OF_EMPLOYEES,
    LEAD_SOURCE,
    DESCRIPTION,
    EXTERNAL_ID,
    SUBMITTED_AT,
    FORM_NAME,
    CAMPAIGN,
    HAS_OPTED_OUT_OF_EMAIL,
    DO_NOT_CALL,
)

# --- derived columns: added by normalisation -------------------------------------------------
PHONE_RAW: Final = "phone_raw"  # the phone exactly as it arrived
MOBILE_PHONE_RAW: Final = "mobile_phone_raw"
EMAIL_DOMAIN: Final = "email_domain"
IS_FREEMAIL: Final = "is_freemail"  # email domain is a free-mail provider: never a company domain
COMPANY_KEY: Final = "company_key"  # lower-case, no legal suffix or punctuation: for matching
WEBSITE_DOMAIN: Final = "website_domain"  # registrable domain of the website
COMPANY_DOMAIN: Final = "company_domain"  # website domain, else non-free-mail email domain
COUNTRY_RAW: Final = "country_raw"  # the country as it arrived ("Deutschland"); country holds ISO alpha-2
EXTRA: Final = "extra"  # JSON object of the source columns that map to no lead field

# --- bookkeeping columns added by the reader --------------------------------------------------
SOURCE_ROW: Final = "source_row"  # 1-based data row in its file (header rows not counted)
ROW_ERROR: Final = "_row_error"  # reader-level problem with the row (e.g. too many fields)
RAW_LINE: Final = "_raw_line"  # complete original text of a malformed record (only when one is malformed)
RAW_RECORD: Final = "raw_record"  # the row as read, as a JSON object of original header -> value

# --- pipeline columns (warehouse) -------------------------------------------------------------
LEAD_ID: Final = "lead_id"
BATCH_ID: Final = "batch_id"
SOURCE_FILE: Final = "source_file"
SOURCE_KIND: Final = "source_kind"
STATUS: Final = "status"
SCORE: Final = "score"
GRADE: Final = "grade"
OWNER_ID: Final = "owner_id"
CLUSTER_ID: Final = "cluster_id"
IS_CONVERTED: Final = "is_converted"
CONVERTED_ACCOUNT_ID: Final = "converted_account_id"
CONVERTED_CONTACT_ID: Final = "converted_contact_id"
CONVERTED_OPPORTUNITY_ID: Final = "converted_opportunity_id"
CONVERTED_AT: Final = "converted_at"
CREATED_AT: Final = "created_at"
UPDATED_AT: Final = "updated_at"
REASONS: Final = "reasons"

#: Lead columns that ingestion stores lower-case and trimmed already (match keys).
LOWER_CASE_COLUMNS: Final = frozenset({COMPANY_KEY})

#: Lead columns as loaded by ingestion, in table order (after lead_id/batch_id/source_*).
LEAD_DATA_COLUMNS: Final[tuple[str, ...]] = (
    LEAD_SOURCE,
    SALUTATION,
    FIRST_NAME,
    LAST_NAME,
    TITLE,
    COMPANY,
    COMPANY_KEY,
    EMAIL,
    EMAIL_DOMAIN,
    IS_FREEMAIL,
    PHONE,
    PHONE_RAW,
    MOBILE_PHONE,
    MOBILE_PHONE_RAW,
    WEBSITE,
    WEBSITE_DOMAIN,
    COMPANY_DOMAIN,
    STREET,
    CITY,
    STATE,
    POSTAL_CODE,
    COUNTRY,
    COUNTRY_RAW,
    INDUSTRY,
    ANNUAL_REVENUE,
    NUMBER_OF_EMPLOYEES,
    DESCRIPTION,
    EXTERNAL_ID,
    SUBMITTED_AT,
    FORM_NAME,
    CAMPAIGN,
    HAS_OPTED_OUT_OF_EMAIL,
    DO_NOT_CALL,
    EXTRA,
)

# --- source kinds -----------------------------------------------------------------------------
KIND_FORM: Final = "form"
KIND_TRADE_SHOW: Final = "trade_show"
KIND_BULK: Final = "bulk"
SOURCE_KINDS: Final[tuple[str, ...]] = (KIND_FORM, KIND_TRADE_SHOW, KIND_BULK)

#: Default Salesforce LeadSource picklist value per source kind.
DEFAULT_LEAD_SOURCE: Final[dict[str, str]] = {
    KIND_FORM: "Web",
    KIND_TRADE_SHOW: "Trade Show",
    KIND_BULK: "Purchased List",
}

# --- reject reason codes ----------------------------------------------------------------------
R_MALFORMED_ROW: Final = "malformed_row"  # the reader could not split the row into the header's fields
R_MISSING_LAST_NAME: Final = "missing_last_name"
R_MISSING_COMPANY: Final = "missing_company"
R_NO_CONTACT_CHANNEL: Final = "no_contact_channel"
R_INVALID_EMAIL: Final = "invalid_email"
R_INVALID_PHONE: Final = "invalid_phone"
R_FIELD_TOO_LONG: Final = "field_too_long"

NOT_PROVIDED_COMPANY: Final = "[not provided]"

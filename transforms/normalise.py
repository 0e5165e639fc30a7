"""Normalise a header-mapped frame into canonical lead values, vectorised in polars.

Input: the frame from :func:`transforms.headers.apply_mapping` (one string column per
``schema.INPUT_FIELDS`` entry). Output: the same rows with every ``schema.LEAD_DATA_COLUMNS``
column, typed, plus the bookkeeping columns. Originals are kept where a value is rewritten
(``phone_raw``, ``mobile_phone_raw``, ``country_raw``); unmapped columns stay in ``extra``.
"""

from __future__ import annotations

from typing import Final

import polars as pl

from transforms import schema as s
from transforms.companies import clean_company, company_key
from transforms.countries import country_to_iso2
from transforms.distinct import map_distinct
from transforms.domains import email_domain, is_freemail, registrable_domain
from transforms.emails import clean_email
from transforms.names import case_name, clean_text, split_full_name
from transforms.phones import phone_to_e164

#: Yes-like answers of a checkbox or yes/no column (lower-case, after trimming).
YES_WORDS: Final[tuple[str, ...]] = ("true", "yes", "y", "1", "x", "ja", "oui", "si", "sí", "on", "checked")
_TRUE = (*YES_WORDS, "opted out")  # opt-out columns also say it in words
_FALSE = ("false", "no", "n", "0", "nein", "non", "off", "unchecked", "")

#: Timestamp formats tried in order for ``submitted_at`` (ISO first; day-first before US style
#: only for dotted dates, which are never month-first).
_DATETIME_FORMATS = (
    "%Y-%m-%dT%H:%M:%S%.f%:z",
    "%Y-%m-%dT%H:%M:%S%.fZ",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
)
_DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%m/%d/%Y", "%Y/%m/%d")


def _flag_text(raw: pl.Expr) -> pl.Expr:
    return raw.str.strip_chars().str.to_lowercase()


def parse_flag(raw: pl.Expr) -> pl.Expr:
    """Yes/no text ("Yes", "x", "1", "ja", "false", "opted out") to a boolean; anything else null."""
    text = _flag_text(raw)
    return pl.when(text.is_in(_TRUE)).then(True).when(text.is_in(_FALSE)).then(False).otherwise(None)


def is_yes(raw: pl.Expr) -> pl.Expr:
    """True for a yes-like answer (:data:`YES_WORDS`), false for anything else (null included)."""
    return _flag_text(raw.cast(pl.String)).is_in(YES_WORDS).fill_null(False)


def parse_timestamp(raw: pl.Expr) -> pl.Expr:
    """Parse a timestamp in any of the common export formats; unparseable becomes null."""
    text = raw.str.strip_chars()
    candidates = [
        text.str.to_datetime(fmt, strict=False, time_unit="us", time_zone="UTC" if "z" in fmt.lower() else None)
        .dt.replace_time_zone(None)
        for fmt in _DATETIME_FORMATS
    ] + [text.str.to_date(fmt, strict=False).cast(pl.Datetime("us")) for fmt in _DATE_FORMATS]
    return pl.coalesce(candidates)


def _names(frame: pl.LazyFrame) -> pl.LazyFrame:
    """Fill first/last/salutation from a combined name where the split fields are empty."""
    split = split_full_name(pl.col(s.FULL_NAME))
    no_split_names = pl.col(s.FIRST_NAME).is_null() & pl.col(s.LAST_NAME).is_null()
    return frame.with_columns(
        pl.when(no_split_names).then(split.struct.field("first_name")).otherwise(pl.col(s.FIRST_NAME)).alias(s.FIRST_NAME),
        pl.when(no_split_names).then(split.struct.field("last_name")).otherwise(pl.col(s.LAST_NAME)).alias(s.LAST_NAME),
        pl.coalesce(pl.col(s.SALUTATION), pl.when(no_split_names).then(split.struct.field("salutation"))).alias(s.SALUTATION),
    ).with_columns(
        map_distinct(pl.col(s.FIRST_NAME), case_name, pl.String).alias(s.FIRST_NAME),
        map_distinct(pl.col(s.LAST_NAME), lambda e: case_name(e, surname=True), pl.String).alias(s.LAST_NAME),
        clean_text(pl.col(s.SALUTATION)).alias(s.SALUTATION),
    )


def normalise_leads(
    mapped: pl.LazyFrame,
    *,
    lead_source: str,
    default_region: str,
) -> pl.LazyFrame:
    """Normalise every canonical field of a header-mapped frame.

    Args:
        mapped: one string column per ``schema.INPUT_FIELDS`` entry plus bookkeeping columns.
        lead_source: LeadSource for rows whose file gives none (e.g. "Web", "Trade Show").
        default_region: ISO alpha-2 region for phone numbers of rows without a country.

    Returns:
        A lazy frame with the ``schema.LEAD_DATA_COLUMNS`` columns (plus ``source_row`` and the
        reader's columns), not yet validated.
    """
    text_fields = (
        s.TITLE, s.STREET, s.CITY, s.STATE, s.POSTAL_CODE, s.INDUSTRY, s.ANNUAL_REVENUE,
        s.NUMBER_OF_EMPLOYEES, s.LEAD_SOURCE, s.EXTERNAL_ID, s.FORM_NAME, s.CAMPAIGN,
    )
    frame = _names(mapped).with_columns(
        *[clean_text(pl.col(c)).alias(c) for c in text_fields],
        pl.col(s.DESCRIPTION).str.strip_chars().alias(s.DESCRIPTION),
        map_distinct(pl.col(s.COMPANY), clean_company, pl.String).alias(s.COMPANY),
        map_distinct(pl.col(s.COMPANY), company_key, pl.String).alias(s.COMPANY_KEY),
        clean_email(pl.col(s.EMAIL)).alias(s.EMAIL),
        clean_text(pl.col(s.PHONE)).alias(s.PHONE_RAW),
        clean_text(pl.col(s.MOBILE_PHONE)).alias(s.MOBILE_PHONE_RAW),
        clean_text(pl.col(s.WEBSITE)).alias(s.WEBSITE),
        clean_text(pl.col(s.COUNTRY)).alias(s.COUNTRY_RAW),
        country_to_iso2(pl.col(s.COUNTRY)).alias(s.COUNTRY),
        parse_timestamp(pl.col(s.SUBMITTED_AT)).alias(s.SUBMITTED_AT),
        parse_flag(pl.col(s.HAS_OPTED_OUT_OF_EMAIL)).alias(s.HAS_OPTED_OUT_OF_EMAIL),
        parse_flag(pl.col(s.DO_NOT_CALL)).alias(s.DO_NOT_CALL),
    )
    region = pl.coalesce(pl.col(s.COUNTRY), pl.lit(default_region))
    frame = frame.with_columns(
        email_domain(pl.col(s.EMAIL)).alias(s.EMAIL_DOMAIN),
        map_distinct(pl.col(s.WEBSITE), registrable_domain, pl.String).alias(s.WEBSITE_DOMAIN),
        phone_to_e164(pl.col(s.PHONE_RAW), region, default_region).alias(s.PHONE),
        phone_to_e164(pl.col(s.MOBILE_PHONE_RAW), region, default_region).alias(s.MOBILE_PHONE),
        pl.coalesce(pl.col(s.LEAD_SOURCE), pl.lit(lead_source)).alias(s.LEAD_SOURCE),
    ).with_columns(
        map_distinct(pl.col(s.EMAIL_DOMAIN), is_freemail, pl.Boolean).alias(s.IS_FREEMAIL),
    ).with_columns(
        pl.coalesce(
            pl.col(s.WEBSITE_DOMAIN),
            pl.when(~pl.col(s.IS_FREEMAIL)).then(
                map_distinct(pl.col(s.EMAIL_DOMAIN), registrable_domain, pl.String)
            ),
        ).alias(s.COMPANY_DOMAIN),
    )
    return frame

"""Email normalisation: trimmed, lower-cased, syntax-checked, all as polars expressions."""

from __future__ import annotations

import polars as pl

from transforms.blanks import blank_to_null

# A pragmatic version of the RFC 5322 "dot-atom" local part and an LDH domain with a TLD of two
# or more letters. Stricter than most web forms, looser than full RFC (no quoted local parts,
# no IP-literal domains): the addresses leads actually have.
_LOCAL = r"[\p{L}a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[\p{L}a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
_LABEL = r"[a-z0-9\p{L}](?:[a-z0-9\p{L}-]{0,61}[a-z0-9\p{L}])?"
EMAIL_PATTERN = rf"^{_LOCAL}@(?:{_LABEL}\.)+[a-z\p{{L}}]{{2,63}}$"
# The same grammar restricted to ASCII: several times faster, and nearly every address is ASCII.
ASCII_EMAIL_PATTERN = EMAIL_PATTERN.replace(r"\p{L}", "")


def clean_email(raw: pl.Expr) -> pl.Expr:
    """Trim, strip a ``mailto:`` prefix and angle brackets, lower-case; empty becomes null.

    Args:
        raw: the email as it arrived.

    Returns:
        The cleaned address (not yet checked); use :func:`is_valid_email` on the result.

    Example:
        >>> pl.select(clean_email(pl.lit("  <Anna.Schmidt@Example.COM> ")))  # anna.schmidt@example.com
    """
    cleaned = (
        raw.str.strip_chars()
        .str.replace(r"(?i)^mailto:", "")
        .str.strip_chars("<> \t\r\n\"'")
        .str.to_lowercase()
    )
    return blank_to_null(cleaned)


def _valid_batch(emails: pl.Series) -> pl.Series:
    """ASCII pattern on every row; the Unicode pattern only on the few rows that fail it."""
    valid = emails.str.contains(ASCII_EMAIL_PATTERN)
    retry = valid.not_() & emails.str.contains(r"[^\x00-\x7f]")
    if retry.any():
        rows = retry.arg_true()
        valid = valid.scatter(rows, emails.gather(rows).str.contains(EMAIL_PATTERN))
    return (valid & (emails.str.len_chars() <= 254)).alias(emails.name)


def is_valid_email(email: pl.Expr) -> pl.Expr:
    """True when the cleaned address has valid syntax (internationalised addresses too); null stays null."""
    return email.map_batches(_valid_batch, return_dtype=pl.Boolean)

"""Company names: a display name as typed, and a match key without legal form or punctuation.

The legal-form terms come from the ``cleanco`` package's term data (≈200 forms across
countries: Inc., LLC, GmbH, Ltd, S.A., AG, B.V., ...), applied vectorised as one regular
expression instead of cleanco's per-row function.
"""

from __future__ import annotations

import re
from functools import lru_cache

import polars as pl
from cleanco.termdata import terms_by_type

from transforms.blanks import blank_to_null
from transforms.names import clean_text

#: Extra forms cleanco lacks or that appear in lead data spelled out.
_EXTRA_TERMS = (
    "the", "limited", "gesellschaft mit beschrankter haftung", "holding", "holdings", "group",
    # short and spelled-out forms seen in German and French lead data
    "mbh", "gesellschaft mbh", "co kg", "cokg", "societe anonyme",
)


def _key_text(expr: pl.Expr) -> pl.Expr:
    """Lower-case, strip accents, turn punctuation into nothing and '&'/'+' into 'and'."""
    return (
        # lower-cased after NFKD too: compatibility capitals (𝐀, ℂ, 🄰) have no lower case of their own
        expr.str.normalize("NFKD")
        .str.to_lowercase()
        .str.replace_all(r"\p{Mn}", "")
        .str.replace_all(r"\s*[&+]\s*", " and ")
        .str.replace_all(r"[-/_]", " ")
        .str.replace_all(r"[^\p{L}\p{N}\s]", "")
        .str.replace_all(r"\s+", " ")
        .str.strip_chars()
    )


@lru_cache(maxsize=1)
def legal_form_pattern() -> str:
    """A regex matching a trailing run of legal-form terms, normalised like the key text.

    Each term must follow a space, so the first word of a name is never removed and a name
    that is only a legal form ("GmbH") keeps its text.
    """
    terms: set[str] = set()
    for group in terms_by_type.values():
        for term in group:
            norm = re.sub(r"\s+", " ", re.sub(r"[^\w\s&+]", "", term.lower().replace("&", " and ")))
            norm = norm.strip()
            if norm and norm not in {"and", "the"}:
                terms.add(norm)
    terms.update(t for t in _EXTRA_TERMS if t != "the")
    alternation = "|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True))
    # terms may be joined by "and" ("& Co. KG"), "und" or "u." ("GmbH u. Co. KG")
    return rf"(?:\s(?:(?:and|und|u)\s)?(?:{alternation}))+$"


def clean_company(raw: pl.Expr) -> pl.Expr:
    """The display name: trimmed, inner whitespace collapsed; empty becomes null."""
    return clean_text(raw)


def company_key(raw: pl.Expr) -> pl.Expr:
    """A match key: "ACME, Inc." / "Acme Inc" / "acme" -> "acme"; "Müller GmbH & Co. KG" -> "muller".

    A leading "the" is dropped too. A name that is only a legal form ("GmbH") keeps its text, so
    the key is never empty for a non-empty name.

    Args:
        raw: the company name as it arrived.

    Returns:
        The key, or null for an empty name.
    """
    key = _key_text(raw).str.replace(r"^the\s", "").str.replace(legal_form_pattern(), "")
    return blank_to_null(key)

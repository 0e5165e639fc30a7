"""Country names and codes to ISO 3166-1 alpha-2.

pycountry recognises official names, common names and alpha-2/alpha-3/numeric codes (any case);
a small alias table adds what lead forms contain and pycountry does not know: native names
("Deutschland", "España"), colloquial ones ("UK", "Holland", "England", "Russia") and dotted
abbreviations ("U.S.A."). There are few distinct values in a country column, so the lookup runs
once per distinct value (and is cached across calls); no fuzzy matching.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Mapping
from functools import lru_cache
from types import MappingProxyType
from typing import Final

import polars as pl
import pycountry

logger = logging.getLogger(__name__)

#: Folded spelling (see :func:`_fold`) -> alpha-2, for names pycountry does not resolve.
COUNTRY_ALIASES: Final[Mapping[str, str]] = MappingProxyType(
    {
        # United States, United Kingdom
        "usa": "US", "u s a": "US", "america": "US",
        "vereinigte staaten": "US", "etats-unis": "US", "estados unidos": "US", "stati uniti": "US",
        "uk": "GB", "u k": "GB", "great britain": "GB", "britain": "GB", "england": "GB",
        "scotland": "GB", "wales": "GB", "northern ireland": "GB", "grossbritannien": "GB",
        "vereinigtes konigreich": "GB", "royaume-uni": "GB", "reino unido": "GB",
        "regno unito": "GB",
        # German-speaking
        "deutschland": "DE", "allemagne": "DE", "alemania": "DE", "germania": "DE",
        "brd": "DE", "osterreich": "AT", "oesterreich": "AT", "autriche": "AT",
        "schweiz": "CH", "suisse": "CH", "svizzera": "CH", "svizra": "CH",
        # Western and southern Europe
        "frankreich": "FR", "francia": "FR", "nederland": "NL", "holland": "NL",
        "the netherlands": "NL", "niederlande": "NL", "pays-bas": "NL", "paises bajos": "NL",
        "belgique": "BE", "belgie": "BE", "belgien": "BE", "luxemburg": "LU",
        "espana": "ES", "spanien": "ES", "espagne": "ES", "spagna": "ES", "italia": "IT",
        "italien": "IT", "italie": "IT", "irland": "IE", "eire": "IE",
        "hellas": "GR", "griechenland": "GR", "ellada": "GR", "turkey": "TR", "turkei": "TR",
        "turkiye": "TR",
        # Northern, central and eastern Europe
        "danmark": "DK", "danemark": "DK", "sverige": "SE", "schweden": "SE", "norge": "NO",
        "norwegen": "NO", "suomi": "FI", "finnland": "FI", "polska": "PL",
        "polen": "PL", "cesko": "CZ", "tschechien": "CZ", "czech": "CZ", "slovensko": "SK",
        "slowakei": "SK", "magyarorszag": "HU", "ungarn": "HU", "slovenija": "SI", "hrvatska": "HR",
        "kroatien": "HR", "rumanien": "RO", "bulgarien": "BG", "srbija": "RS",
        "serbien": "RS", "russia": "RU", "russland": "RU", "rossiya": "RU", "ukraina": "UA",
        "macedonia": "MK", "kosovo": "XK", "xk": "XK",
        # Rest of the world
        "brasil": "BR", "mexiko": "MX", "kanada": "CA", "korea": "KR", "republic of korea": "KR",
        "sudkorea": "KR", "north korea": "KP",  # a bare "Korea" on a lead form is the South "nippon": "JP", "prc": "CN", "mainland china": "CN",
        "hong kong sar": "HK", "macau": "MO", "uae": "AE", "u a e": "AE", "emirates": "AE",
        "ivory coast": "CI", "cote d'ivoire": "CI", "swaziland": "SZ", "burma": "MM",
        "cape verde": "CV", "palestine": "PS", "vatican": "VA", "vatican city": "VA",
        "east timor": "TL", "the gambia": "GM", "the bahamas": "BS", "kingdom of saudi arabia": "SA",
        "ksa": "SA", "aotearoa": "NZ",
    }
)  # fmt: skip


def _fold(value: str) -> str:
    """Case-fold, drop accents and dots, collapse spaces: "  U.S.A. " -> "usa"."""
    decomposed = unicodedata.normalize("NFKD", value.casefold())
    ascii_ish = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"\s+", " ", ascii_ish.replace(".", " ").replace("ß", "ss")).strip()


@lru_cache(maxsize=4096)
def _iso2(value: str) -> str | None:
    """alpha-2 of one country value, or None."""
    stripped = value.strip()
    if not stripped:
        return None
    folded = _fold(stripped)
    if folded in COUNTRY_ALIASES:
        return COUNTRY_ALIASES[folded]
    for candidate in (stripped, folded, folded.replace(" ", "")):
        try:
            return pycountry.countries.lookup(candidate).alpha_2
        except LookupError:
            continue
    logger.debug("unknown country %r", value)
    return None


def _iso2_batch(values: pl.Series) -> pl.Series:
    mapping = {v: _iso2(v) for v in values.drop_nulls().unique()}
    if not mapping:
        return pl.Series(values.name, [None] * len(values), dtype=pl.String)
    return values.replace_strict(mapping, default=None, return_dtype=pl.String)


def country_to_iso2(country: pl.Expr) -> pl.Expr:
    """Country name or code to ISO 3166-1 alpha-2, upper-case.

    Args:
        country: countries as written: "Germany", "Deutschland", "DE", "DEU", "germany ",
            "U.S.A.", "UK", "Great Britain", "Schweiz", "Österreich", "Holland", "Italia".

    Returns:
        Utf8 expression: "DE", "US", "GB", ...; null for unknown or empty values.

    Example:
        >>> df.select(country_to_iso2(pl.col("country")))
    """
    return (
        country.cast(pl.String)
        .map_batches(_iso2_batch, return_dtype=pl.String, is_elementwise=True)
        .alias("country_iso2")
    )

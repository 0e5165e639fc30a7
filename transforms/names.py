"""Person names: trimming, sensible casing, and splitting a combined "Name" column.

Everything is a polars expression. A per-row name parser (``nameparser``) would handle more
exotic cases but costs a Python call per row; combined-name columns come mostly from trade-show
lists, and the patterns that occur there ("Last, First", "Dr. Anna Maria Schmidt",
"Jan van der Berg", "John Smith Jr.") are covered by the regular expressions below.
"""

from __future__ import annotations

import polars as pl

from transforms.blanks import blank_to_null

#: Salutations and academic titles that may precede a name.
SALUTATIONS = (
    "mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "dame", "herr", "frau", "mme", "mlle",
    "m", "sr", "sra", "srta", "dott", "ing", "dipl-ing", "mag",
)
#: Generational and degree suffixes that may follow a name.
SUFFIXES = ("jr", "sr", "ii", "iii", "iv", "phd", "md", "mba", "esq", "msc", "bsc")
#: Surname particles that stay lower-case inside a surname ("Jan van der Berg").
PARTICLES = (
    "van", "von", "der", "den", "de", "del", "della", "di", "da", "du", "la", "le", "ter", "ten",
    "zu", "zum", "zur", "dos", "das", "do", "bin", "al", "y",
)

_SALUTATION_RE = r"(?i)^((?:(?:" + "|".join(SALUTATIONS) + r")\.?\s+)+)"
_SUFFIX_RE = r"(?i)(?:,?\s+(?:" + "|".join(SUFFIXES) + r")\.?)+$"
_PARTICLE_ALT = "|".join(PARTICLES)
# Two or more words: the first word(s) are the given names, then optional particles, then the
# surname; a single word is the surname alone.
_SURNAME_RE = rf"(?i)^(?:(\S.*?)\s+)?((?:(?:{_PARTICLE_ALT})\s+)*\S+)$"


# Runs of 2+ blanks and non-space whitespace (rare): ~2x faster to match than \s+, which would
# "replace" every single space.
_MESSY_SPACE = r"[\s\u00a0]{2,}|[\t\r\n\f\v\u00a0]"
# A value that cleaning changes: messy inner whitespace, or whitespace at either end.
_NEEDS_CLEANING = rf"{_MESSY_SPACE}|^\s|\s$"


def _clean_text_batch(values: pl.Series) -> pl.Series:
    # Most values are clean already: finding the others is 4-5x cheaper than rewriting every one.
    rows = values.str.contains(_NEEDS_CLEANING).arg_true()
    cleaned = values.clone()
    if rows.len():
        cleaned.scatter(rows, values.gather(rows).str.replace_all(_MESSY_SPACE, " ").str.strip_chars())
    return cleaned.set((cleaned.str.len_bytes() == 0).fill_null(False), None)


def clean_text(raw: pl.Expr) -> pl.Expr:
    """Trim, collapse inner whitespace to one space; empty becomes null."""
    return raw.cast(pl.String).map_batches(_clean_text_batch, return_dtype=pl.String, is_elementwise=True)


def _capitalise_after(expr: pl.Expr, prefix_pattern: str) -> pl.Expr:
    """Upper-case the letter that follows the first match of ``prefix_pattern`` (e.g. Mc)."""
    parts = expr.str.extract_groups(rf"^(.*?{prefix_pattern})(\p{{Ll}})(.*)$")
    fixed = pl.concat_str(
        parts.struct.field("1"), parts.struct.field("2").str.to_uppercase(), parts.struct.field("3")
    )
    return pl.when(parts.struct.field("2").is_not_null()).then(fixed).otherwise(expr)


def case_name(raw: pl.Expr, *, surname: bool = False) -> pl.Expr:
    """Clean a name and fix its case when it arrived all upper- or all lower-case.

    Mixed-case input is kept as typed (the person knows how their name is spelled). Shouted or
    lower-case input is title-cased with the usual exceptions: McDonald, O'Brien (polars does
    this one), Jean-Luc, and, in surnames, lower-case particles: "van der Berg".

    Args:
        raw: the name as it arrived.
        surname: apply the surname-particle rule.

    Returns:
        The cleaned name, or null.
    """
    text = clean_text(raw)
    needs_case = (text == text.str.to_uppercase()) | (text == text.str.to_lowercase())
    titled = _capitalise_after(text.str.to_titlecase(), r"\bMc")
    if surname:
        # Lower-case particles followed by another word: "Van Der Berg" -> "van der Berg". The last
        # word of a surname is never a particle, so "followed by a space" is enough.
        for particle in PARTICLES:
            titled = titled.str.replace_all(rf"\b{particle.capitalize()}\s", f"{particle} ")
    return pl.when(needs_case).then(titled).otherwise(text)


def split_full_name(full: pl.Expr) -> pl.Expr:
    """Split a combined name into a struct of salutation, first_name and last_name.

    Handles "Schmidt, Anna", "Dr. Anna Maria Schmidt", "Jan van der Berg", "John Smith Jr.",
    "Prof. Dr. Hans Müller", and a single word (taken as the last name).

    Args:
        full: the combined name.

    Returns:
        A struct expression with fields ``salutation``, ``first_name``, ``last_name`` (nulls
        where absent), not yet cased (pass each through :func:`case_name`).
    """
    text = clean_text(full)
    salutation = text.str.extract(_SALUTATION_RE, 1).str.strip_chars()
    rest = text.str.replace(_SALUTATION_RE, "").str.replace(_SUFFIX_RE, "").str.strip_chars(" ,")
    has_comma = rest.str.contains(",")
    comma_last = rest.str.extract(r"^([^,]+),", 1).str.strip_chars()
    comma_first = (
        rest.str.extract(r"^[^,]+,(.*)$", 1).str.replace(_SALUTATION_RE.replace("^", "^\\s*"), "")
        .str.strip_chars(" ,")
    )
    parts = rest.str.extract_groups(_SURNAME_RE)
    plain_first = parts.struct.field("1").str.strip_chars()
    plain_last = parts.struct.field("2")
    first = pl.when(has_comma).then(comma_first).otherwise(plain_first)
    last = pl.when(has_comma).then(comma_last).otherwise(plain_last)
    return pl.struct(
        blank_to_null(salutation.str.replace_all(r"\s+", " ")).alias("salutation"),
        blank_to_null(first).alias("first_name"),
        blank_to_null(last).alias("last_name"),
    )

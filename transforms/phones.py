"""Phone numbers to E.164, vectorised, with exactly the semantics of ``phonenumbers``.

By definition, the result for a value ``raw`` and a region ``r`` is what :func:`parse_e164`
returns::

    n = phonenumbers.parse(raw, r)                       # None if this raises
    format_number(n, E164) if is_valid_number(n) else None

One phonenumbers call costs tens of microseconds, far too slow for a million leads, so
:func:`phone_to_e164` works in two steps:

* **Fast path** (pure polars; integer arithmetic and table lookups on the digits). It takes
  values made of digits, one leading ``+`` and the punctuation ``" ().-/"``, optionally followed
  by an extension ("x12", "ext. 12"): for such values ``parse`` depends only on the digits and
  on the ``+``. It re-does ``parse``'s steps for them -- the region's international prefix
  ("00", "011", "0011"), the calling code, a national number written with the region's own
  calling code but no "+", the national (trunk) prefix, the length checks -- then
  ``is_valid_number``: the region of a shared calling code (NANP, +44, +7...) and the
  metadata's own ``national_number_pattern`` and ``possible_length`` of the general description
  and of every number type, as two regexes over all covered regions. All of it comes from
  phonenumbers' metadata, compiled once per process into lookup tables (prefix patterns are
  expanded into the prefixes they match, in the order Python's ``re`` tries them). A step the
  tables cannot settle leaves the row to the slow path.
* **Slow path**: every row the fast path did not prove *valid* -- undecided rows and every row
  it would call invalid -- goes to phonenumbers, once per distinct (value, region). So a
  "valid" verdict may come from the fast path, but an "invalid" one always comes from
  phonenumbers.

tests/transforms/test_phones.py checks the result against :func:`parse_e164` row by row;
benchmarks/phones.py prints speed and coverage.
"""

from __future__ import annotations

import logging
import re._constants as _sre_c
import re._parser as _sre_p
import sys
from dataclasses import dataclass, fields
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, Final

import numpy as np
import phonenumbers
import polars as pl
from phonenumbers import PhoneMetadata, PhoneNumberDesc, PhoneNumberFormat
from phonenumbers.phonenumberutil import COUNTRY_CODE_TO_REGION_CODE

from transforms.disk_cache import cache_key, cached

logger = logging.getLogger(__name__)

#: Regions whose national formats the fast path handles. Numbers written with ``+`` or an
#: international prefix are handled for the calling codes of these regions. A region whose
#: metadata the fast path cannot model is dropped at start-up (logged at DEBUG) and left to the
#: slow path; within a region, so are the prefixes it cannot model (BR carrier codes...).
FAST_PATH_REGIONS: Final[tuple[str, ...]] = (
    # North America, Europe
    "US", "CA", "PR", "DO", "JM", "GB", "IE", "DE", "AT", "CH", "LI", "FR", "BE", "LU", "MC",
    "NL", "ES", "PT", "IT", "DK", "SE", "NO", "FI", "IS", "PL", "CZ", "SK", "HU", "SI", "HR",
    "RO", "BG", "GR", "CY", "MT", "EE", "LV", "LT", "RS", "UA", "BY", "RU", "KZ", "TR",
    # Middle East, Africa
    "IL", "AE", "SA", "QA", "KW", "BH", "OM", "JO", "LB", "EG", "MA", "ZA", "NG", "KE",
    # Asia-Pacific
    "IN", "PK", "SG", "MY", "TH", "ID", "PH", "VN", "HK", "CN", "KR", "TW", "JP", "AU", "NZ",
    # Latin America
    "MX", "BR", "CL", "CO", "PE", "UY", "EC", "CR", "PA",
)  # fmt: skip

_PUNCTUATION: Final[tuple[str, ...]] = (" ", "(", ")", ".", "-", "/")  # dropped before casting
#: An extension phonenumbers' _EXTN_PATTERN certainly strips (a strict subset of its forms):
#: "(415) 555-0132 x12", "... ext. 12", "... EXT 12". Group 1 is the number before it.
_EXTENSION_RE: Final = r"^(.*?[0-9])[ \t]*(?i:x|ext\.?)[ \t]*[0-9]{1,9}$"
_MAX_INPUT_LENGTH: Final = 250  # phonenumbers rejects longer strings outright
_MIN_FAST_DIGITS: Final = 4  # shorter values never reach a valid number; leave to phonenumbers
_MAX_FAST_DIGITS: Final = 18  # fits an Int64
_MIN_NSN: Final = 2  # phonenumbers' _MIN_LENGTH_FOR_NSN
_MAX_NSN: Final = 17  # phonenumbers' _MAX_LENGTH_FOR_NSN
_LEN_SLOTS: Final = 32  # table stride for "region x length" lookups
_HEAD: Final = 8  # the prefix logic of parse never looks past the first 8 digits
_TAG_LEN: Final = len("DE:10:")  # validity key: tag, then "+49...", i.e. the E.164 number
_PICK_MAIN, _PICK_SECOND, _PICK_UNSURE = 0, 1, 2  # region of a shared calling code
_AMBIGUOUS: Final = 100  # table value: the tables cannot decide this row
_EXPAND_LIMIT: Final = 5000  # largest finite prefix language expanded into a table
_TYPE_DESCS: Final[tuple[str, ...]] = (
    "premium_rate", "toll_free", "shared_cost", "voip", "personal_number", "pager", "uan",
    "voicemail", "fixed_line", "mobile",
)  # fmt: skip
_DIGITS: Final = frozenset("0123456789")
_POW10: Final = pl.Series("pow10", [10**i for i in range(19)], dtype=pl.Int64)
_HEAD_MUL: Final = pl.Series([10 ** max(8 - n, 0) for n in range(19)], dtype=pl.Int64)
_HEAD_DIV: Final = pl.Series([10 ** max(n - 8, 0) for n in range(19)], dtype=pl.Int64)


# --- patterns as languages over the digits -----------------------------------------------------
# The fast path never runs a phonenumbers prefix pattern per row: it expands the small finite ones
# (international and national prefixes, leading digits) into lookup tables, and asks "can the
# general pattern match a number starting with these digits?" once per table entry. Inputs are
# ASCII digits only, so every pattern is read as a language over "0".."9".
# Node forms: ("set", chars) | ("seq", parts) | ("alt", parts) | ("rep", node, lo, hi, greedy),
# with hi None for an unbounded repeat.

_Node = tuple[Any, ...]
_EPS: Final[_Node] = ("seq", ())
_NONE: Final[_Node] = ("set", frozenset())


class _Unsupported(ValueError):
    """A pattern uses syntax the fast path does not model; the region is left to phonenumbers."""


def _metadata(region: str) -> PhoneMetadata:
    md = PhoneMetadata.metadata_for_region(region, None)
    if md is None:
        raise _Unsupported(f"no metadata for {region}")
    return md


def _general(md: PhoneMetadata) -> PhoneNumberDesc:
    if md.general_desc is None or not md.general_desc.national_number_pattern:
        raise _Unsupported("no general description")
    return md.general_desc


def _general_pattern(md: PhoneMetadata) -> str:
    return str(_general(md).national_number_pattern)


def _cc(md: PhoneMetadata) -> int:
    if not md.country_code:
        raise _Unsupported("no calling code")
    return int(md.country_code)


def _language(pattern: str) -> _Node:
    return _convert(_sre_p.parse(pattern))


def _convert(items: Any) -> _Node:  # a parsed pattern: sre's untyped node lists
    parts = [_convert_item(op, av) for op, av in items]
    return parts[0] if len(parts) == 1 else ("seq", tuple(parts))


def _convert_item(op: Any, av: Any) -> _Node:
    if op is _sre_c.LITERAL:
        return ("set", frozenset({chr(av)}) & _DIGITS)
    if op is _sre_c.NOT_LITERAL:
        return ("set", _DIGITS - {chr(av)})
    if op is _sre_c.ANY:
        return ("set", _DIGITS)
    if op is _sre_c.IN:
        chars: set[str] = set()
        negate = False
        for sop, sav in av:
            if sop is _sre_c.NEGATE:
                negate = True
            elif sop is _sre_c.LITERAL:
                chars.add(chr(sav))
            elif sop is _sre_c.RANGE:
                chars.update(chr(c) for c in range(max(sav[0], 48), min(sav[1], 57) + 1))
            elif sop is _sre_c.CATEGORY and sav is _sre_c.CATEGORY_DIGIT:
                chars |= _DIGITS
            else:
                raise _Unsupported(f"class item {sop}")
        chars &= _DIGITS
        return ("set", frozenset(_DIGITS - chars if negate else chars))
    if op is _sre_c.BRANCH:
        return ("alt", tuple(_convert(branch) for branch in av[1]))
    if op is _sre_c.AT:
        return ("at",)  # "$" in a national prefix pattern: see _npp_table
    if op is _sre_c.SUBPATTERN:
        return _convert(av[3])
    if op in (_sre_c.MAX_REPEAT, _sre_c.MIN_REPEAT):
        lo, hi, sub = av
        unbounded = hi is _sre_c.MAXREPEAT
        return ("rep", _convert(sub), lo, None if unbounded else hi, op is _sre_c.MAX_REPEAT)
    raise _Unsupported(f"operator {op}")


def _count(node: _Node) -> float:
    """Number of strings in the language (inf if unbounded), counting before expanding."""
    kind = node[0]
    if kind == "at":
        return 1
    if kind == "set":
        return len(node[1])
    if kind == "alt":
        return sum(_count(p) for p in node[1])
    if kind == "seq":
        out = 1.0
        for p in node[1]:
            out *= _count(p)
        return out
    _, sub, lo, hi, _ = node
    if hi is None:
        return float("inf")
    return sum(_count(sub) ** k for k in range(lo, hi + 1))


def _ordered(node: _Node) -> tuple[str, ...]:
    """The strings of a finite language in the order Python's backtracking ``re.match`` tries
    them, so that the first one that is a prefix of the input is what ``re.match`` returns.
    Raises _Unsupported if the language is infinite or too large."""
    if _count(node) > _EXPAND_LIMIT:
        raise _Unsupported("language too large")
    kind = node[0]
    if kind == "at":
        raise _Unsupported("anchor")
    if kind == "set":
        out: list[str] = sorted(node[1])
    elif kind == "alt":
        out = [w for part in node[1] for w in _ordered(part)]
    elif kind == "seq":
        out = [""]
        for part in node[1]:
            tails = _ordered(part)
            out = [a + b for a in out for b in tails]
            if len(out) > _EXPAND_LIMIT:
                raise _Unsupported("language too large")
    else:
        _, sub, lo, hi, greedy = node
        if hi is None:
            raise _Unsupported("unbounded repeat")
        words = _ordered(sub)

        def reps(count: int) -> list[str]:
            more = [w + rest for w in words for rest in reps(count + 1)] if count < hi else []
            stop = [""] if count >= lo else []
            return more + stop if greedy else stop + more

        out = reps(0)
    if len(out) > _EXPAND_LIMIT:
        raise _Unsupported("language too large")
    return tuple(dict.fromkeys(out))


def _nullable(node: _Node) -> bool:
    kind = node[0]
    if kind == "at":
        return True
    if kind == "set":
        return False
    if kind == "seq":
        return all(_nullable(p) for p in node[1])
    if kind == "alt":
        return any(_nullable(p) for p in node[1])
    return node[2] == 0 or _nullable(node[1])


def _nonempty(node: _Node) -> bool:
    kind = node[0]
    if kind == "at":
        return True
    if kind == "set":
        return bool(node[1])
    if kind == "seq":
        return all(_nonempty(p) for p in node[1])
    if kind == "alt":
        return any(_nonempty(p) for p in node[1])
    return node[2] == 0 or _nonempty(node[1])


def _derive(node: _Node, ch: str) -> _Node:
    """Brzozowski derivative: the language of the suffixes after ``ch``."""
    kind = node[0]
    if kind == "at":
        return _NONE
    if kind == "set":
        return _EPS if ch in node[1] else _NONE
    if kind == "alt":
        parts = tuple(d for d in (_derive(p, ch) for p in node[1]) if _nonempty(d))
        return ("alt", parts) if parts else _NONE
    if kind == "seq":
        if not node[1]:
            return _NONE
        head, rest = node[1][0], ("seq", node[1][1:])
        first = ("seq", (_derive(head, ch), rest))
        return ("alt", (first, _derive(rest, ch))) if _nullable(head) else first
    _, sub, lo, hi, greedy = node
    if hi == 0:
        return _NONE
    remaining: _Node = ("rep", sub, max(lo - 1, 0), None if hi is None else hi - 1, greedy)
    return ("seq", (_derive(sub, ch), remaining))


def _can_start_with(node: _Node, prefix: str) -> bool:
    """Whether some string of the language starts with ``prefix``."""
    for ch in prefix:
        node = _derive(node, ch)
    return _nonempty(node)


@cache
def _lengths(node: _Node) -> frozenset[int]:
    """Lengths (below _LEN_SLOTS) of the strings of the language."""
    kind = node[0]
    if kind == "at":
        return frozenset({0})
    if kind == "set":
        return frozenset({1}) if node[1] else frozenset()
    if kind == "alt":
        return frozenset().union(*(_lengths(p) for p in node[1]))
    if kind == "seq":
        return _seq_lengths([_lengths(part) for part in node[1]])
    _, sub, lo, hi, _ = node
    return _repeat_lengths(_lengths(sub), lo, hi)


def _add_lengths(left: frozenset[int], right: frozenset[int]) -> frozenset[int]:
    """Lengths of a concatenation (below _LEN_SLOTS)."""
    return frozenset(a + b for a in left for b in right if a + b < _LEN_SLOTS)


def _seq_lengths(parts: list[frozenset[int]]) -> frozenset[int]:
    """Lengths of a sequence of parts with the given length sets."""
    out = frozenset({0})
    for part in parts:
        out = _add_lengths(out, part)
    return out


def _repeat_lengths(step: frozenset[int], lo: int, hi: int | None) -> frozenset[int]:
    """Lengths of ``lo`` to ``hi`` (None: unbounded) repetitions of a part of lengths ``step``."""
    out, reach = frozenset({0}) if lo == 0 else frozenset(), frozenset({0})
    for count in range(1, (_LEN_SLOTS if hi is None else hi) + 1):
        reach = _add_lengths(reach, step)
        if count >= lo:
            out |= reach
        if not reach:
            break
    return out


@cache
def _universal_lengths(node: _Node) -> frozenset[int]:
    """Lengths m (below _LEN_SLOTS) for which the language surely holds every digit string of
    length m (a sufficient test: "[0-9]{5,9}" and unions or sequences of such)."""
    kind = node[0]
    if kind == "at":
        return frozenset({0})
    if kind == "set":
        return frozenset({1}) if node[1] == _DIGITS else frozenset()
    if kind == "alt":
        return frozenset().union(*(_universal_lengths(p) for p in node[1]))
    if kind == "seq":
        return _seq_lengths([_universal_lengths(part) for part in node[1]])
    _, sub, lo, hi, _ = node
    return _repeat_lengths(_universal_lengths(sub), lo, hi)


# --- metadata tables -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Tables:
    """phonenumbers metadata as dense lookup tables, indexed by region, calling code or both."""

    parse_regions: list[str]  # covered regions, by index; validity-only regions follow them
    cc_of_region: pl.Series  # [region] its calling code
    starts_with_cc: pl.Series  # [region*1000 + first 3 digits] digits start with its calling code
    cc_strip_sure: pl.Series  # [(region*32 + length)*1000 + first 3 digits] see _cc_strip_sure
    cc_from_p3: pl.Series  # [first 3 digits] calling code parse would extract after "+"
    cc_len: pl.Series  # [cc] digits in the calling code
    main_of_cc: pl.Series  # [cc] index of regions[0] of the calling code (null: not covered)
    region_of: pl.Series  # [cc*1000 + first 3 NSN digits] region the number is validated for
    idd: pl.Series  # [region*10^4 + first 4 digits] IDD digits parse strips, or _AMBIGUOUS
    npp: pl.Series  # [region*100 + first 2 digits] national prefix digits stripped, or _AMBIGUOUS
    cc_strip: pl.Series  # [region*10^4 + 4 digits after its calling code] see _cc_strip_table
    accept_len: pl.Series  # [region*32 + length] parse keeps the prefix-stripped national number
    tag: pl.Series  # [region*32 + length] "DE:10:+49": key prefix for general_re and types_re
    general_needed: pl.Series  # [(region*32 + length)*100 + first 2 NSN digits] see _general_needed
    general_re: str  # general pattern and lengths: the first check of _number_type_helper
    types_re: str  # any number type, with its lengths


def _idd_words(md: PhoneMetadata) -> tuple[str, ...]:
    if md.international_prefix is None:
        return ()  # phonenumbers then uses a pattern that never matches digits
    words = _ordered(_language(md.international_prefix))
    if "" in words:
        raise _Unsupported("international prefix can be empty")
    return words


def _idd_table(words: tuple[str, ...]) -> np.ndarray:
    """Digits parse strips as international prefix, by the number's first four digits.

    ``re.match`` takes the first word (in its backtracking order) that is a prefix of the
    number, and parse does not strip it if the next digit is 0. A four-digit word gives 4 (the
    caller checks the fifth digit); longer words depend on digits the table does not see:
    _AMBIGUOUS.
    """
    out = np.zeros(10_000, dtype=np.int8)
    taken = np.zeros(10_000, dtype=bool)
    for w in words:
        if len(w) >= 4:
            lo, hi = int(w[:4]), int(w[:4]) + 1
            values = np.full(1, 4 if len(w) == 4 else _AMBIGUOUS, dtype=np.int8)
        else:
            span = 10 ** (4 - len(w))
            lo, hi = int(w) * span, int(w) * span + span
            values = np.full(span, len(w), dtype=np.int8)
            values[: span // 10] = 0  # the digit after the prefix is 0
        free = ~taken[lo:hi]
        out[lo:hi][free] = values[free]
        taken[lo:hi] = True
    return out


def _has_anchor_or_group(items: Any, groups: bool) -> bool:
    """Whether a parsed pattern has an anchor ("$"), or (``groups``) a capture group."""
    for op, av in items:
        if op is _sre_c.AT or (groups and op is _sre_c.SUBPATTERN and av[0] is not None):
            return True
        subs: list[Any] = []
        if op is _sre_c.BRANCH:
            subs = av[1]
        elif op is _sre_c.SUBPATTERN:
            subs = [av[3]]
        elif op in (_sre_c.MAX_REPEAT, _sre_c.MIN_REPEAT):
            subs = [av[2]]
        if any(_has_anchor_or_group(sub, groups) for sub in subs):
            return True
    return False


def _npp_table(md: PhoneMetadata, general: _Node) -> np.ndarray:
    """Digits parse strips as national prefix, by the number's first two digits.

    ``re.match`` tries the pattern's branches in order and, within one, its strings in the order
    of _ordered: the first that prefixes the number is stripped -- unless the whole number
    matches the general pattern and the rest does not, so the strip is certain only when no
    number of the general pattern starts with these digits. A branch with an anchor, or with a
    capture group when the region has a transform rule (which then rewrites the number instead),
    depends on more than the first digits: _AMBIGUOUS wherever it could match.
    """
    out = np.zeros(100, dtype=np.int8)
    pattern = md.national_prefix_for_parsing
    if not pattern:
        return out
    parsed = _sre_p.parse(pattern)
    top_branch = len(parsed) == 1 and parsed[0][0] is _sre_c.BRANCH
    branches = parsed[0][1][1] if top_branch else [parsed]
    done = np.zeros(100, dtype=bool)
    for branch in branches:
        node = _convert(branch)
        transform = bool(md.national_prefix_transform_rule)
        special = _has_anchor_or_group(branch, groups=transform) or (
            transform and not _has_anchor_or_group(parsed, groups=True)
        )
        words = () if special else _ordered(node)
        for q in range(100):
            if done[q]:
                continue
            first2 = f"{q:02d}"
            if special:
                if (
                    _nullable(node)
                    or _nullable(_derive(node, first2[0]))
                    or _can_start_with(node, first2)
                ):
                    out[q], done[q] = _AMBIGUOUS, True
                continue
            for w in words:
                if not w:
                    out[q], done[q] = 0, True
                elif len(w) > 2 and w[:2] == first2:
                    out[q], done[q] = _AMBIGUOUS, True
                elif len(w) <= 2 and first2.startswith(w):
                    certain = not _can_start_with(general, first2)
                    out[q], done[q] = (len(w) if certain else _AMBIGUOUS), True
                if done[q]:
                    break
    return out


def _cc_strip_table(npp_region: np.ndarray, npp_main: np.ndarray | None) -> np.ndarray:
    """For national numbers starting with the region's calling code, by the 4 digits after it:
    ``3*a + b``, where parse strips ``a`` national-prefix digits (region metadata) and then ``b``
    more (metadata of the calling code's main region); _AMBIGUOUS if either is."""
    q = np.arange(10_000)
    if npp_main is None:
        return np.full(10_000, _AMBIGUOUS, dtype=np.int8)
    a = npp_region[q // 100].astype(np.int64)
    a_ok = a != _AMBIGUOUS
    b = npp_main[(q // 10 ** np.where(a_ok, 2 - a, 0)) % 100].astype(np.int64)
    return np.where(a_ok & (b != _AMBIGUOUS), 3 * a + b, _AMBIGUOUS).astype(np.int8)


def _cc_strip_sure(md: PhoneMetadata, general: _Node) -> list[bool]:
    """For national numbers starting with the region's calling code, by length and first 3
    digits: does parse's ``_maybe_extract_country_code`` strip the calling code whenever the
    rest matches the general pattern? It does if the whole number is too long, or cannot match
    the general pattern (its first digits or its length rule that out)."""
    out = [False] * (_LEN_SLOTS * 1000)
    cc = str(_cc(md))
    for q in range(1000):
        first3 = f"{q:03d}"
        if not first3.startswith(cc):
            continue
        rest = general
        for ch in first3:
            rest = _derive(rest, ch)
        rest_lengths = _lengths(rest)
        for n in range(3, _LEN_SLOTS):
            out[n * 1000 + q] = _length_check(md, n) == "too_long" or (n - 3) not in rest_lengths
    return out


def _general_needed(md: PhoneMetadata) -> list[bool]:
    """By NSN length and first two digits: must the general pattern be checked? Not when it
    surely accepts every number of that length starting with those digits (for most regions
    the general pattern is a superset like "[2-9]\\d{9}" of the number types)."""
    general = _language(_general_pattern(md))
    lengths = set(_general(md).possible_length)
    out = [True] * (_LEN_SLOTS * 100)
    for q in range(100):
        rest = _universal_lengths(_derive(_derive(general, str(q // 10)), str(q % 10)))
        for n in range(2, _LEN_SLOTS):
            out[n * 100 + q] = not (n in lengths and n - 2 in rest)
    return out


def _length_check(md: PhoneMetadata, length: int) -> str:
    """phonenumbers' _test_number_length(number, metadata) for a number of this length."""
    possible = sorted(_general(md).possible_length)
    if length in _general(md).possible_length_local_only:
        return "local_only"
    if length < possible[0]:
        return "too_short"
    if length > possible[-1]:
        return "too_long"
    return "possible" if length in possible else "invalid_length"


def _lengths_re(lengths: tuple[int, ...]) -> str:
    return "[0-9]{2}" if not lengths else "|".join(f"{n:02d}" for n in lengths)


def _validity_parts(code: str, md: PhoneMetadata) -> tuple[str, list[str]]:
    general = _general(md)
    cc = rf"\+{_cc(md)}"
    g = f"{code}:(?:{_lengths_re(general.possible_length)}):{cc}(?:{general.national_number_pattern})"
    types = []
    for attr in _TYPE_DESCS:
        desc = getattr(md, attr)
        if desc is None or not desc.national_number_pattern or -1 in desc.possible_length:
            continue
        if attr == "mobile" and md.same_mobile_and_fixed_line_pattern:
            continue  # _number_type_helper never looks at mobile then
        lengths = _lengths_re(desc.possible_length)
        types.append(f"{code}:(?:{lengths}):{cc}(?:{desc.national_number_pattern})")
    return g, types


_Rules = tuple[PhoneMetadata, tuple[str, ...], np.ndarray]


def _parse_rules(code: str) -> _Rules | None:
    try:
        md = _metadata(code)
        _cc(md)
        general = _language(_general_pattern(md))
        return md, _idd_words(md), _npp_table(md, general)
    except _Unsupported as e:
        logger.debug("phone fast path skips region %s: %s", code, e)
        return None


def _prefix_table(words: tuple[str, ...] | list[str]) -> list[bool | None]:
    """By first three digits: does a word of ``words`` start the number? (None: depends)."""
    out: list[bool | None] = [False] * 1000
    for w in words:
        if not w:
            raise _Unsupported("empty leading digits")
        if len(w) > 3:
            q = int(w[:3])
            out[q] = None if out[q] is False else out[q]
            continue
        span = 10 ** (3 - len(w))
        for q in range(int(w) * span, int(w) * span + span):
            out[q] = True
    return out


def _second_region(regions: tuple[str, ...]) -> tuple[str, list[str]] | None:
    """The region phonenumbers tries after regions[0] when leading digits pick none, with the
    leading digits of the regions in between (chosen by those digits alone: the fast path
    steps aside for numbers starting with them)."""
    blocking: list[str] = []
    for other in regions[1:]:
        md = PhoneMetadata.metadata_for_region(other, None)
        if md is None:
            return None
        if md.leading_digits is None:
            return other, blocking
        blocking.extend(_ordered(_language(md.leading_digits)))
    return None


def _startable(node: _Node, depth: int, prefix: str = "") -> set[str]:
    """The ``depth``-digit prefixes some string of the language starts with."""
    if depth == 0:
        return {prefix}
    out: set[str] = set()
    for ch in "0123456789":
        d = _derive(node, ch)
        if _nonempty(d):
            out |= _startable(d, depth - 1, prefix + ch)
    return out


def _pick_table(main_md: PhoneMetadata, second: tuple[str, list[str]] | None) -> np.ndarray:
    """For a shared calling code, by the first 3 NSN digits: the region phonenumbers'
    region_code_for_number takes (main or second), or _PICK_UNSURE if it may be another one.

    The main region is taken if its leading digits match, or (without leading digits) if the
    number is valid there -- which is only possible when some main type can start with these
    digits; otherwise regions in between get their chance (by leading digits), then ``second``.
    """
    if main_md.leading_digits is not None:
        main = _prefix_table(_ordered(_language(main_md.leading_digits)))
    else:
        types = [getattr(main_md, a) for a in _TYPE_DESCS]
        patterns = [
            d.national_number_pattern for d in types if d is not None and d.national_number_pattern
        ]
        can_start = _startable(_language("|".join(f"(?:{p})" for p in patterns)), 3)
        main = [f"{q:03d}" in can_start for q in range(1000)]
    blocked = _prefix_table(second[1]) if second is not None else [None] * 1000
    out = np.full(1000, _PICK_UNSURE, dtype=np.int8)
    for q in range(1000):
        if main[q]:
            out[q] = _PICK_MAIN
        elif main[q] is False and blocked[q] is False:
            out[q] = _PICK_SECOND
    return out


def _covered_rules() -> dict[str, _Rules]:
    """Rules of FAST_PATH_REGIONS plus the main region of each calling code (parse uses it)."""
    rules = {r: x for r in FAST_PATH_REGIONS if (x := _parse_rules(r)) is not None}
    while True:
        mains = {r: COUNTRY_CODE_TO_REGION_CODE[_cc(x[0])][0] for r, x in rules.items()}
        missing = set(mains.values()) - rules.keys()
        if not missing:
            return rules
        for main in missing:
            if (x := _parse_rules(main)) is not None:
                rules[main] = x
        for r, main in mains.items():
            if main not in rules:
                del rules[r]


@lru_cache(maxsize=1)
def _tables() -> _Tables:
    """The lookup tables, from the disk cache when none of what they are derived from changed:
    this code, phonenumbers' metadata, Python's ``re`` parser (prefix order), numpy, polars."""
    try:
        source = Path(__file__).read_bytes()
    except OSError:  # installed without its source (a zip app): no key, no cache
        return _build_tables()
    key = cache_key([source, phonenumbers.__version__, sys.version, np.__version__, pl.__version__])
    return cached("phone-tables", key, _build_tables, _tables_to_frame, _tables_from_frame)


def prepare_tables() -> None:
    """Build the fast-path tables now, or read them from the disk cache (first use does it otherwise)."""
    _tables()


def _tables_to_frame(tables: _Tables) -> pl.DataFrame:
    """One row; a table is a list cell, a string a string cell."""
    columns: dict[str, pl.Series] = {}
    for f in fields(tables):
        value = getattr(tables, f.name)
        if isinstance(value, pl.Series):
            columns[f.name] = pl.Series(f.name, [value], dtype=pl.List(value.dtype))
        elif isinstance(value, list):
            columns[f.name] = pl.Series(f.name, [value], dtype=pl.List(pl.String))
        else:
            columns[f.name] = pl.Series(f.name, [value], dtype=pl.String)
    return pl.DataFrame(columns)


def _tables_from_frame(frame: pl.DataFrame) -> _Tables:
    if frame.height != 1:
        raise ValueError(f"expected one row, got {frame.height}")
    values: dict[str, Any] = {}
    for f in fields(_Tables):
        cell = frame[f.name][0]
        if f.type == "pl.Series":
            values[f.name] = cell.alias("")
        elif f.type == "list[str]":
            values[f.name] = cell.to_list()
        elif isinstance(cell, str):
            values[f.name] = cell
        else:
            raise ValueError(f"{f.name}: expected text, got {type(cell).__name__}")
    return _Tables(**values)


def _build_tables() -> _Tables:
    rules = _covered_rules()
    parse_regions = sorted(rules)
    index = {r: i for i, r in enumerate(parse_regions)}

    main_of_cc: list[int | None] = [None] * 1000
    # the region phonenumbers validates a number against, by calling code and first 3 NSN digits
    region_of = np.full(1_000_000, -1, dtype=np.int64)
    extra: list[str] = []  # validity-only regions: second candidates of a shared calling code
    for cc in sorted({_cc(md) for md, _, _ in rules.values()}):
        regions = COUNTRY_CODE_TO_REGION_CODE[cc]
        main = main_of_cc[cc] = index[regions[0]]
        block = region_of[cc * 1000 : cc * 1000 + 1000]
        if len(regions) == 1:
            block[:] = main  # phonenumbers validates against regions[0], leading digits or not
            continue
        try:
            second = _second_region(regions)
            pick = _pick_table(rules[regions[0]][0], second)
        except _Unsupported:
            continue  # every number of this calling code is left to phonenumbers
        block[pick == _PICK_MAIN] = main
        if second is not None:
            if second[0] not in index and second[0] not in extra:
                extra.append(second[0])
            in_parse = second[0] in index
            block[pick == _PICK_SECOND] = (
                index[second[0]] if in_parse else len(index) + extra.index(second[0])
            )
    all_regions = parse_regions + extra

    cc_from_p3: list[int | None] = [None] * 1000
    for p3 in range(100, 1000):  # parse's _extract_country_code on the first three digits
        s = str(p3)
        found = [int(s[:i]) for i in (1, 2, 3) if int(s[:i]) in COUNTRY_CODE_TO_REGION_CODE]
        cc_from_p3[p3] = found[0] if found else None

    idd: list[np.ndarray] = []
    npp: dict[str, np.ndarray] = {}
    accept: list[bool] = []
    starts: list[bool] = []
    strip_sure: list[bool] = []
    for r in parse_regions:
        md, idd_words, npp[r] = rules[r]
        idd.append(_idd_table(idd_words))
        general = _language(_general_pattern(md))
        checks = [_length_check(md, n) for n in range(_LEN_SLOTS)]
        accept += [c in ("possible", "too_long") for c in checks]
        starts += [f"{q:03d}".startswith(str(_cc(md))) for q in range(1000)]
        strip_sure += _cc_strip_sure(md, general)
    cc_strip = []
    for r in parse_regions:
        main_index = main_of_cc[_cc(rules[r][0])]
        main_npp = None if main_index is None else npp[parse_regions[main_index]]
        cc_strip.append(_cc_strip_table(npp[r], main_npp))

    general_parts, type_parts, tags, general_needed = [], [], [], []
    for r in all_regions:
        md = _metadata(r)
        general_needed += _general_needed(md)
        g, types = _validity_parts(r, md)
        general_parts.append(g)
        type_parts.extend(types)
        tags += [f"{r}:{n:02d}:+{_cc(md)}" for n in range(_LEN_SLOTS)]

    def regex(parts: list[str]) -> str:
        return "(?-u)^(?:" + "|".join(parts) + ")$"  # ASCII classes keep the automaton small

    tables = _Tables(
        parse_regions=parse_regions,
        cc_of_region=pl.Series([_cc(rules[r][0]) for r in parse_regions], dtype=pl.Int64),
        starts_with_cc=pl.Series(starts, dtype=pl.Boolean),
        cc_strip_sure=pl.Series(strip_sure, dtype=pl.Boolean),
        cc_from_p3=pl.Series(cc_from_p3, dtype=pl.Int64),
        cc_len=pl.Series([len(str(c)) for c in range(1000)], dtype=pl.Int64),
        main_of_cc=pl.Series(main_of_cc, dtype=pl.Int64),
        region_of=pl.Series(region_of).set(pl.Series(region_of < 0), None),
        idd=pl.Series(np.concatenate(idd) if idd else [], dtype=pl.Int8),
        npp=pl.Series(np.concatenate([npp[r] for r in parse_regions]), dtype=pl.Int8),
        cc_strip=pl.Series(np.concatenate(cc_strip), dtype=pl.Int8),
        accept_len=pl.Series(accept, dtype=pl.Boolean),
        tag=pl.Series(tags, dtype=pl.String),
        general_needed=pl.Series(general_needed, dtype=pl.Boolean),
        general_re=regex(general_parts),
        types_re=regex(type_parts),
    )
    logger.debug("phone fast path covers %d regions: %s", len(parse_regions), parse_regions)
    return tables


# --- the expression --------------------------------------------------------------------------------


def _at(table: pl.Series, index: pl.Expr) -> pl.Expr:
    """``table[index]`` per row (null index: null). Callers keep indices in range."""
    return pl.lit(table).gather(index)


def _pow10(exponent: pl.Expr) -> pl.Expr:
    return _at(_POW10, exponent.clip(0, _MAX_FAST_DIGITS))


def _window(offset: pl.Expr | int, k: int) -> pl.Expr:
    """The ``k`` digits at ``offset`` of the first _HEAD digits (field ``h``)."""
    return (pl.field("h") // _pow10(pl.lit(_HEAD - k) - offset)) % 10**k


def _npp_strip(region: str, offset: pl.Expr | int) -> pl.Expr:
    """Digits parse strips as national prefix from the number at ``offset`` (or _AMBIGUOUS)."""
    return _at(_tables().npp, pl.field(region) * 100 + _window(offset, 2)).cast(pl.Int64)


def _final_length(region: str, length: pl.Expr, strip: pl.Expr) -> pl.Expr:
    """Length of the national number after parse's last step: the national prefix comes off
    only if the rest has a possible length (else parse keeps it)."""
    stripped = (length - strip).clip(0, _LEN_SLOTS - 1)
    accepted = _at(_tables().accept_len, pl.field(region) * _LEN_SLOTS + stripped)
    return pl.when(accepted).then(stripped).otherwise(length)


def _fast_path(raw: pl.Expr, region: pl.Expr, default_region: str) -> pl.Expr:
    """Struct of the fast path's working fields; ``e164`` is set where it proved validity.

    Each ``with_fields`` step computes fields from the previous ones: polars does not share
    repeated sub-expressions, so anything used twice becomes a field first. Every number parse
    works on here is a suffix of the digits, so a length stands for a number.
    """
    t = _tables()
    f = pl.field
    amb = _AMBIGUOUS
    s = pl.struct(raw=raw.cast(pl.String), region=region.cast(pl.String).fill_null(default_region))
    s = s.struct.with_fields(
        has_x=f("raw").str.contains("(?i)x"),  # masking first halves the cost of the extract
        ridx=f("region").cast(pl.Enum(t.parse_regions), strict=False).to_physical().cast(pl.Int64),
        long=f("raw").str.len_bytes() > _MAX_INPUT_LENGTH,
    )
    s = s.struct.with_fields(
        main=pl.coalesce(pl.when(f("has_x")).then(f("raw")).str.extract(_EXTENSION_RE), f("raw"))
    )
    s = s.struct.with_fields(
        stripped=f("main").str.replace_many(list(_PUNCTUATION), [""] * len(_PUNCTUATION))
    )
    # the cast lets only ASCII digits and one leading "+" through
    s = s.struct.with_fields(
        plus=f("stripped").str.starts_with("+"),
        v=f("stripped").cast(pl.Int64, strict=False),
        ns=f("stripped").str.len_bytes().cast(pl.Int64),
    )
    s = s.struct.with_fields(nd=f("ns") - f("plus").cast(pl.Int64))
    in_play = (
        ~f("long") & f("v").is_not_null() & f("nd").is_between(_MIN_FAST_DIGITS, _MAX_FAST_DIGITS)
    )
    s = s.struct.with_fields(n=pl.when(in_play).then(f("nd")))  # null: not for the fast path
    # h: the first _HEAD digits (zero-padded when shorter): all the prefix logic reads them
    s = s.struct.with_fields(h=f("v") * _at(_HEAD_MUL, f("n")) // _at(_HEAD_DIV, f("n")))
    # the region's international prefix (only without "+"): digits to strip, 0 if none
    s = s.struct.with_fields(
        idd=pl.when(f("plus")).then(0).otherwise(_at(t.idd, f("ridx") * 10_000 + f("h") // 10_000))
    )
    s = s.struct.with_fields(  # a 4-digit prefix: not stripped before a 0 (or if nothing follows)
        idd=pl.when((f("idd") == 4) & (_window(4, 1) == 0))
        .then(pl.when(f("n") > 4).then(0).otherwise(amb))
        .otherwise(f("idd"))
    )
    s = s.struct.with_fields(intl=f("plus") | f("idd").is_between(1, 4))
    s = s.struct.with_fields(
        cc=pl.when(f("intl"))
        .then(_at(t.cc_from_p3, _window(f("idd"), 3)))  # idd is 0 after "+"
        .otherwise(_at(t.cc_of_region, f("ridx"))),
        # national form starting with the region's own calling code: parse may strip it
        starts=~f("intl") & _at(t.starts_with_cc, f("ridx") * 1000 + f("h") // 100_000),
    )
    s = s.struct.with_fields(cclen=_at(t.cc_len, f("cc")), main=_at(t.main_of_cc, f("cc")))
    s = s.struct.with_fields(
        m=pl.when(f("intl")).then(f("main")).otherwise(f("ridx")),  # metadata parse works with
        xo=pl.when(f("intl")).then(f("idd") + f("cclen")).otherwise(0),  # national number offset
    )
    s = s.struct.with_fields(
        xn=f("n") - f("xo"),
        s1=_npp_strip("m", f("xo")),
        tb=pl.when(f("starts")).then(
            _at(t.cc_strip, f("ridx") * 10_000 + _window(f("cclen"), 4)).cast(pl.Int64)
        ),
    )
    s = s.struct.with_fields(
        nn=_final_length("m", f("xn"), f("s1")),
        potsn=pl.when(f("tb") != amb).then(f("n") - f("cclen") - f("tb") // 3),
    )
    # national numbers starting with the region's calling code ("1 415...", "49 30 1234567"):
    # parse strips it if the whole number is too long or not valid before but is after. Decided
    # here when both ways give the same number ("1 415...": "1" is also the national prefix),
    # or when the whole number cannot match the general pattern (a table) and the rest is what
    # gets validated below: then valid means it matched, so parse did strip.
    s = s.struct.with_fields(
        same=(f("potsn") >= _MIN_NSN) & (_final_length("main", f("potsn"), f("tb") % 3) == f("nn")),
        sure=_at(t.cc_strip_sure, (f("ridx") * _LEN_SLOTS + f("n")) * 1000 + f("h") // 100_000),
    )
    s = s.struct.with_fields(
        via_cc=f("starts") & ~f("same") & f("sure") & (f("tb") % 3 == 0) & (f("potsn") >= _MIN_NSN)
    )
    s = s.struct.with_fields(nn=pl.when(f("via_cc")).then(f("potsn")).otherwise(f("nn")))
    decided = (
        (f("idd") != amb)
        & (f("s1") != amb)
        & f("main").is_not_null()
        & f("m").is_not_null()
        & f("nn").is_between(_MIN_NSN, _MAX_NSN)
        & pl.when(f("intl"))
        .then((f("n") - f("idd") >= 3) & (f("xn") >= _MIN_NSN) & (f("xo") <= _HEAD - 2))
        .otherwise(True)
        & pl.when(f("starts")).then(f("same") | f("via_cc")).otherwise(True)
    ).fill_null(False)
    s = s.struct.with_fields(nn=pl.when(decided).then(f("nn")))
    s = s.struct.with_fields(
        nsn3=pl.when(f("nn") >= 3).then(f("v") // _pow10(f("nn") - 3) % 1000),  # first 3 NSN digits
        nsn=f("stripped").str.slice(f("ns") - f("nn")),
    )
    # validity as phonenumbers' region_code_for_number + _number_type_helper: the region (of a
    # shared calling code: see _pick_table), then the general pattern (with its lengths) and the
    # number types, on "tag + E.164": "DE:10:+49301234567"
    s = s.struct.with_fields(region_v=_at(t.region_of, f("cc") * 1000 + f("nsn3")))
    s = s.struct.with_fields(
        key=pl.concat_str(_at(t.tag, f("region_v") * _LEN_SLOTS + f("nn")), f("nsn"))
    )
    general_needed = _at(
        t.general_needed, (f("region_v") * _LEN_SLOTS + f("nn")) * 100 + f("nsn3") // 10
    )
    s = s.struct.with_fields(general_key=pl.when(general_needed).then(f("key")))
    general_ok = f("general_key").str.contains(t.general_re) | f("general_key").is_null()
    valid = f("key").str.contains(t.types_re) & general_ok
    # via_cc: the general pattern that matched must be the one parse used (the region's)
    valid = valid & (~f("via_cc").fill_null(False) | (f("region_v") == f("ridx")))
    return s.struct.with_fields(e164=pl.when(valid).then(f("key").str.slice(_TAG_LEN)))


def parse_e164(raw: str | None, region: str | None) -> str | None:
    """The reference semantics, one value at a time: E.164 if phonenumbers finds it valid.

    Args:
        raw: the phone number as written.
        region: ISO 3166 alpha-2 region assumed for numbers without a country code.

    Returns:
        ``"+14155550132"``-style string, or None when unparseable or invalid.

    Example:
        >>> parse_e164("030 1234567", "DE")
        '+49301234567'
    """
    if raw is None:
        return None
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def _slow_path(batch: pl.Series) -> pl.Series:
    """phonenumbers once per distinct (value, region) among the rows the fast path left open."""
    frame = batch.struct.unnest()
    out = pl.repeat(None, frame.height, dtype=pl.String, eager=True)
    todo = frame.with_row_index("row").filter(pl.col("need"))
    if todo.height == 0:
        return out
    # For a value of digits, punctuation and a leading "+", parse sees only "+"-or-not and the
    # digits, so spellings of one number share a single call.
    canonical = ~pl.col("long") & pl.col("v").is_not_null() & (pl.col("nd") >= 3)
    todo = todo.with_columns(key=pl.when(canonical).then("stripped").otherwise("raw"))
    pairs = todo.select("key", "region").unique()
    results = [parse_e164(raw, region) for raw, region in pairs.iter_rows()]
    pairs = pairs.with_columns(e164=pl.Series(results, dtype=pl.String))
    todo = todo.join(pairs, on=["key", "region"], how="left", nulls_equal=True)
    logger.debug("phone slow path: %d rows, %d phonenumbers calls", todo.height, pairs.height)
    return out.scatter(todo["row"], todo["e164"])


def phone_to_e164(raw: pl.Expr, region: pl.Expr, default_region: str) -> pl.Expr:
    """Phone number to E.164, exactly as phonenumbers would (see :func:`parse_e164`).

    Args:
        raw: phone numbers as written ("+1 (415) 555-0132", "030 1234567", "07700 900123 x12").
        region: ISO 3166 alpha-2 upper-case region per row, used for numbers written without a
            country code; null falls back to ``default_region``.
        default_region: region for rows whose ``region`` is null, e.g. "US".

    Returns:
        Utf8 expression: "+14155550132", or null when empty, unparseable or invalid. Extensions
        are dropped (E.164 has none).

    Example:
        >>> df.select(phone_to_e164(pl.col("phone"), pl.col("country_iso2"), "US"))
    """
    f = pl.field
    residue = pl.struct(
        f("raw"), f("region"), f("long"), f("stripped"), f("v"), f("nd"),
        need=f("e164").is_null() & f("raw").is_not_null(),
    )  # fmt: skip
    slow = residue.map_batches(_slow_path, return_dtype=pl.String, is_elementwise=True)
    return (
        _fast_path(raw, region, default_region)
        .struct.with_fields(phone_e164=pl.coalesce(f("e164"), slow))
        .struct.field("phone_e164")
    )


def phone_fast_path_e164(raw: pl.Expr, region: pl.Expr, default_region: str) -> pl.Expr:
    """The fast path's verdict alone, for benchmarks and tests (same arguments as phone_to_e164).

    Returns:
        Utf8 expression: the E.164 number where the fast path proved the number valid, null
        where phone_to_e164 would ask phonenumbers.
    """
    return _fast_path(raw, region, default_region).struct.field("e164").alias("phone_e164_fast")

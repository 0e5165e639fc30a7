"""Comparison levels: how two leads agree on each field, as a small integer per pair.

Each comparison kind has an ordered list of levels, strongest first (``LEVELS``); a pair gets the
index of the first level whose condition holds, or null when either side is missing (missing
values are neither evidence for nor against a match). All conditions are polars expressions over
whole columns; string similarities come from rapidfuzz on distinct value pairs
(``matching.similarity``), so nothing runs in Python per pair.

Levels by kind:

- first_name: exact, nickname (Bob = Robert, from the ``nicknames`` package), transposed (first
  and last name swapped, allowing typos), close (Jaro-Winkler >= close), initial ("J." vs "John"), partial, different.
- last_name: exact, transposed, close, partial, different.
- email: exact, variant (same after lower-casing, dropping a +tag and gmail dots), same_local
  (same local part at another domain), other_domain (another address at another domain: work vs
  private, weak evidence), numbered (john.smith2@ vs john.smith@ at one domain: a namesake
  colleague), different (another address at the same domain, e.g. an alias).
- phone: mobile (a mobile number matches either number), exact (the phone matches, at different
  companies), shared_org (the phone matches but so does the company: a switchboard shared by
  colleagues, weak evidence), last7 (same last seven digits), different.
- company: exact (same company key), domain (same registrable company domain), close (token-set
  similarity >= close, or one is the acronym of the other: AMD = Advanced Micro Devices),
  partial, different.
- string: exact, close, partial, different (Jaro-Winkler).
- postal_code: exact, partial (same first three characters), different.
- date: exact, close (one typo or day and month swapped), partial (same year), different.
- identifier: exact, close (one edit), different.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from importlib import resources

import nicknames
import numpy as np
import polars as pl

from matching.blocking import LEFT, RIGHT, key_part
from matching.configuration import LEVELS, MISSING, Comparison
from matching.similarity import similarity, similarity_by_code
from transforms import schema as s
from transforms.blanks import blank_to_null

_NOT_PROVIDED = ("not provided", "[not provided]")


def gamma_column(name: str) -> str:
    """Column holding a comparison's level index."""
    return f"gamma_{name}"


def tf_column(name: str) -> str:
    """Column holding the term frequency of the agreed value on an exact match (else null)."""
    return f"tf_{name}"


@lru_cache(maxsize=1)
def nickname_pairs() -> pl.DataFrame:
    """Ordered pairs of lower-case names that are the same given name (robert/bob, bob/rob)."""
    groups: dict[str, set[str]] = {}
    for triplet in nicknames.name_triplets():
        groups.setdefault(triplet.name1, {triplet.name1}).add(triplet.name2)
    # the package lists English names; short forms common in German and French lead data
    extra = resources.files("matching").joinpath("data", "nicknames_extra.csv").read_text("utf-8")
    for line in extra.splitlines()[1:]:
        name, _, short = line.strip().partition(",")
        if name and short:
            groups.setdefault(name, {name}).add(short)
    a, b = [], []
    for members in groups.values():
        for x in members:
            for y in members:
                if x != y:
                    a.append(x)
                    b.append(y)
    return pl.DataFrame({"a": a, "b": b}).unique()


def _computed(frame: pl.DataFrame, *exprs: pl.Expr) -> pl.DataFrame:
    """``frame.select(*exprs)`` through the lazy engine: an eager select evaluates a shared
    sub-expression (``v`` in ``when(v.len() > 3).then(v)``) once per use, the lazy one once."""
    return frame.lazy().select(*exprs).collect()


def _select(levels: tuple[str, ...], conditions: dict[str, pl.Expr], missing: pl.Expr) -> pl.Expr:
    """Index of the first true condition in level order; null when missing."""
    expr = pl.lit(len(levels) - 1, pl.Int8)  # the last level ("different") is the fallback
    for index in range(len(levels) - 2, -1, -1):
        condition = conditions.get(levels[index])
        if condition is not None:
            expr = pl.when(condition).then(pl.lit(index, pl.Int8)).otherwise(expr)
    return pl.when(missing).then(pl.lit(None, pl.Int8)).otherwise(expr)


def _falses(n: int) -> pl.Series:
    """``n`` times False, built in polars (a Python list of millions of pairs is slow)."""
    return pl.repeat(False, n, dtype=pl.Boolean, eager=True)


def _where(keep: pl.Series, values: pl.Series) -> pl.Series:
    """``values`` where ``keep`` is true, else null."""
    return pl.select(pl.when(keep).then(values)).to_series().alias(values.name)


def _positions(sorted_ids: pl.Series, ids: pl.Series) -> pl.Series:
    """Position of each of ``ids`` in ``sorted_ids`` (all present): a lookup array when the ids
    are dense (lead ids are), else a binary search."""
    if sorted_ids.is_empty():
        return pl.Series([], dtype=pl.UInt32)
    low, high = int(sorted_ids[0]), int(sorted_ids[-1])
    if high - low > 4 * len(sorted_ids) + 1_000_000:
        return sorted_ids.search_sorted(ids).cast(pl.UInt32)
    lookup = np.zeros(high - low + 1, dtype=np.uint32)
    lookup[sorted_ids.to_numpy() - low] = np.arange(len(sorted_ids), dtype=np.uint32)
    return pl.Series(lookup[ids.to_numpy() - low])


class _Pairs:
    """Both sides of every pair as integer codes into per-field vocabularies.

    Values are encoded once per record; a comparison gathers the codes of both sides (integers,
    cheap), takes the distinct code combinations, turns only those back into strings and
    evaluates its levels there, then joins the levels back to the pairs. Lead data repeats a lot,
    so the string work shrinks from millions of pairs to the distinct combinations.
    """

    def __init__(self, pairs: pl.DataFrame, records: pl.DataFrame) -> None:
        # only the records that are in a pair, sorted by id: positions by binary search
        ids = pl.concat([pairs[LEFT], pairs[RIGHT]]).unique()
        self.records = records.filter(pl.col(s.LEAD_ID).is_in(ids.implode())).sort(s.LEAD_ID)
        sorted_ids = self.records[s.LEAD_ID]
        self.left, self.right = _positions(sorted_ids, pairs[LEFT]), _positions(sorted_ids, pairs[RIGHT])
        self._codes: dict[str, tuple[pl.Series, pl.Series]] = {}
        self._cache: dict[str, pl.Series] = {}
        self._lock = threading.Lock()  # comparisons run in several threads: one adds a column at a time
        self._once: dict[str, threading.Lock] = {}  # per shared result: one thread computes it, the others wait

    def once(self, key: str) -> threading.Lock:
        """The lock under which the shared result ``key`` (a vocabulary, a cached series) is
        computed: the comparisons that share it may run in different threads."""
        with self._lock:
            return self._once.setdefault(key, threading.Lock())

    def has(self, column: str) -> bool:
        return column in self.records.columns

    def derive(self, name: str, expr: pl.Expr) -> str:
        """Add a computed column to the records once; return its name."""
        with self._lock:
            if name not in self.records.columns:
                self.records = self.records.with_columns(_computed(self.records, expr.alias(name)))
        return name

    def lower(self, column: str) -> pl.Expr:
        """The column trimmed and lower-cased (empty = null), computed once for all comparisons."""
        return pl.col(self.derive(lower_column(column), _lower(column)))

    def encode(self, vocabulary: str, exprs: dict[str, pl.Expr]) -> None:
        """Encode record values of several expressions into one shared vocabulary (cached by name)."""
        with self.once(f"encode.{vocabulary}"):  # the names of one vocabulary from one encoding
            if all(f"{vocabulary}.{name}" in self._codes for name in exprs):
                return
            values = _computed(self.records, *[e.cast(pl.String).alias(n) for n, e in exprs.items()])
            vocab = pl.concat([values[n] for n in exprs]).drop_nulls().unique()
            lookup = pl.DataFrame({"_v": vocab, "_c": pl.int_range(0, vocab.len(), dtype=pl.UInt32, eager=True)})
            for name in exprs:
                codes = values.select(pl.col(name).alias("_v")).join(lookup, on="_v", how="left", maintain_order="left")["_c"]
                self._codes[f"{vocabulary}.{name}"] = (codes, vocab)

    def hashed(self, key: str, expr: pl.Expr) -> tuple[pl.Series, pl.Series]:
        """Both sides of a value as 64-bit hashes, for comparisons that only test equality.

        Cheaper than a vocabulary for columns with a million distinct values (e-mails, phones).
        Two different values could share a hash with a probability of about 1e-13 per pair
        of a million-lead run, which is far below any other source of error.
        """
        if key not in self._cache:
            value = _computed(self.records, expr.alias("v"))["v"]
            self._cache[key] = _where(value.is_not_null(), value.hash(seed=7))
        codes = self._cache[key]
        return codes.gather(self.left), codes.gather(self.right)

    def sides(self, vocabulary: str, name: str) -> tuple[pl.Series, pl.Series, pl.Series]:
        """(left codes, right codes, vocabulary) of an encoded expression."""
        codes, vocab = self._codes[f"{vocabulary}.{name}"]
        return codes.gather(self.left), codes.gather(self.right), vocab

    def column(self, column: str, expr: pl.Expr | None = None, *, key: str | None = None) -> tuple[pl.Series, pl.Series, pl.Series]:
        """Encode one expression (default: the column as is) in its own vocabulary; return both sides."""
        vocabulary = key or column
        self.encode(vocabulary, {"v": pl.col(column) if expr is None else expr})
        return self.sides(vocabulary, "v")


Inputs = dict[str, tuple[pl.Series, pl.Series]]  # name -> (per-pair codes, vocabulary)
Sim = Callable[[str, str, str], pl.Series]  # (scorer name, input a, input b) -> per-row similarity
Build = Callable[[pl.DataFrame, Sim], tuple[pl.DataFrame, pl.Expr]]


def _evaluate(inputs: Inputs, build: Build, strings: Sequence[str] | None = None) -> pl.Series:
    """Evaluate a level expression and return it per pair.

    With ``strings`` empty the level depends on code equalities only and is evaluated directly
    on the pairs' integer codes. Otherwise it runs once per distinct combination of input codes,
    with the named inputs (all when ``strings`` is None) turned back into strings, and is joined
    back to the pairs. Inputs that share their codes (the same values read through another
    vocabulary: a company key and its acronym) count once in the combination, and two code
    columns are packed into one 64-bit key: de-duplicating and joining back millions of pairs is
    most of the cost.
    """
    if strings is not None and not strings:
        codes = pl.DataFrame({name: c for name, (c, _) in inputs.items()})
        frame, level = build(codes, _no_sim)
        return _computed(frame, level.alias("_level")).to_series()
    owner: dict[int, str] = {}  # id of a codes series -> the first input name holding it
    for name, (c, _) in inputs.items():
        owner.setdefault(id(c), name)
    keys = list(owner.values())
    codes = pl.DataFrame({name: inputs[name][0] for name in keys})
    packed = len(keys) == 2 and all(codes[k].dtype == pl.UInt32 for k in keys)
    if packed:
        codes = codes.select(_pack(pl.col(keys[0]), pl.col(keys[1])).alias(_KEY))
        distinct = codes.unique().with_columns(_unpack(pl.col(_KEY), keys))
    else:
        distinct = codes.unique()
    distinct = distinct.with_columns([pl.col(owner[id(c)]).alias(name) for name, (c, _) in inputs.items() if name not in keys])
    wanted = list(inputs) if strings is None else list(strings)
    texts = distinct.with_columns([pl.Series(name, inputs[name][1].gather(distinct[name])) for name in wanted])

    def sim(scorer: str, a: str, b: str) -> pl.Series:
        return similarity_by_code(scorer, distinct[a], distinct[b], inputs[a][1])

    frame, level = build(texts, sim)
    on = [_KEY] if packed else keys
    distinct = distinct.select(*on, _computed(frame, level.alias("_level")).to_series())
    return codes.join(distinct, on=on, how="left", nulls_equal=True, maintain_order="left")["_level"]


_KEY = "_key"
_NULL_CODE = 0xFFFFFFFF  # a null code in a packed key (vocabulary codes are below it)


def _pack(a: pl.Expr, b: pl.Expr) -> pl.Expr:
    """Two UInt32 code columns (null allowed) as one UInt64."""
    return a.cast(pl.UInt64).fill_null(_NULL_CODE) * (1 << 32) + b.cast(pl.UInt64).fill_null(_NULL_CODE)


def _unpack(key: pl.Expr, names: Sequence[str]) -> list[pl.Expr]:
    """The two code columns of a packed key, nulls restored."""
    high, low = (key // (1 << 32)).cast(pl.UInt32), (key % (1 << 32)).cast(pl.UInt32)
    return [pl.when(part != _NULL_CODE).then(part).alias(name) for part, name in zip((high, low), names, strict=True)]


def _no_sim(*args: object) -> pl.Series:
    raise AssertionError("this comparison uses no similarity")


def _pair(p: _Pairs, vocabulary: str, name: str, left: str, right: str, inputs: Inputs) -> None:
    a, b, vocab = p.sides(vocabulary, name)
    inputs[left] = (a, vocab)
    inputs[right] = (b, vocab)


def _col_pair(p: _Pairs, column: str, expr: pl.Expr | None, left: str, right: str, inputs: Inputs, *, key: str | None = None) -> None:
    a, b, vocab = p.column(column, expr, key=key)
    inputs[left] = (a, vocab)
    inputs[right] = (b, vocab)


def _lower(column: str) -> pl.Expr:
    value = pl.col(column).cast(pl.String).str.strip_chars().str.to_lowercase()
    return blank_to_null(value)


def _fold(expr: pl.Expr) -> pl.Expr:
    """Lower case without accents (é -> e), for nickname lookups."""
    source, target = "áàâäãåçéèêëíìîïñóòôöõúùûüýÿ", "aaaaaaceeeeiiiinooooouuuuyy"
    return expr.str.replace_many(list(source), list(target))


def _names(p: _Pairs, first: str, last: str) -> None:
    """First and last names in one vocabulary, so they can be compared crosswise."""
    exprs = {}
    # typographic apostrophes are the same letter as the typed one (O’Brien = O'Brien)
    if p.has(first):
        exprs["first"] = p.lower(first).str.replace_all("[’‘`´]", "'")
    if p.has(last):
        exprs["last"] = p.lower(last).str.replace_all("[’‘`´]", "'")
    p.encode("names", exprs)


def _swapped(p: _Pairs, first: str, last: str) -> pl.Series:
    """Per pair: first and last name swapped between the sides, allowing typos (cached).

    Only pairs where a first name and the other side's last name start with the same letter are
    candidates (a swap with typos keeps the initials), so the crossed similarities run on few
    distinct combinations.
    """
    key = f"swapped.{first}.{last}"
    with p.once(key):  # both name comparisons need it, maybe in two threads: computed once
        if key not in p._cache:
            p._cache[key] = _swap_flags(p, first, last)
        return p._cache[key]


def _swap_flags(p: _Pairs, first: str, last: str) -> pl.Series:
    n = len(p.left)
    if not (p.has(first) and p.has(last)):
        return _falses(n)
    _names(p, first, last)
    p.encode("initials", {"first": p.lower(first).str.slice(0, 1), "last": p.lower(last).str.slice(0, 1)})
    ifa, ifb, _ = p.sides("initials", "first")
    ila, ilb, _ = p.sides("initials", "last")
    rows = ((ifa == ilb) | (ila == ifb)).fill_null(False).arg_true()
    fa, fb, vocab = p.sides("names", "first")
    la, lb, _ = p.sides("names", "last")
    codes = pl.DataFrame({"fa": fa.gather(rows), "fb": fb.gather(rows), "la": la.gather(rows), "lb": lb.gather(rows)})
    distinct = codes.unique()

    def jw(a: str, b: str) -> pl.Series:
        return similarity_by_code("jaro_winkler", distinct[a], distinct[b], vocab).fill_null(0)

    def edits(a: str, b: str) -> pl.Series:
        return similarity_by_code("edit_distance", distinct[a], distinct[b], vocab).fill_null(99)

    flags = pl.DataFrame({
        "c1": jw("fa", "lb"), "c2": jw("la", "fb"), "st": jw("fa", "fb") + jw("la", "lb"),
        "e1": edits("fa", "lb"), "e2": edits("la", "fb"),
    }).select(
        hi=pl.max_horizontal("c1", "c2"), lo=pl.min_horizontal("c1", "c2"), gain=pl.col("c1") + pl.col("c2") - pl.col("st"),
        e=pl.max_horizontal("e1", "e2"),
    ).select(
        # both crossed names close (typos, not a shared prefix: John Davies / David Johnson is no
        # swap), or one identical and the other nickname-like
        ((((pl.col("hi") >= 0.85) & (pl.col("lo") >= 0.85) & (pl.col("e") <= 2)) | ((pl.col("hi") >= 0.97) & (pl.col("lo") >= 0.8)))
         & (pl.col("gain") > 0.3)).alias("swapped")
    )
    distinct = distinct.with_columns(flags["swapped"])
    found = codes.join(distinct, on=["fa", "fb", "la", "lb"], how="left", nulls_equal=True, maintain_order="left")["swapped"]
    return _falses(n).scatter(rows, found.fill_null(False))


def _with_transposed(level: pl.Series, swapped: pl.Series, transposed: int) -> pl.Series:
    """Levels stronger than 'transposed' stay; otherwise a swapped pair is 'transposed'."""
    return pl.DataFrame({"l": level, "s": swapped}).select(
        pl.when(pl.col("s") & (pl.col("l").is_null() | (pl.col("l") > transposed))).then(pl.lit(transposed, pl.Int8))
        .otherwise(pl.col("l").cast(pl.Int8))
    ).to_series()


def _known_names(frame: pl.DataFrame, a: str, b: str, counts: pl.DataFrame | None, c: Comparison) -> tuple[pl.DataFrame, pl.Expr]:
    """Join how many leads hold each side's name; the expression is true when both are known names.

    Two different names that many leads hold (Olivia / Oliver, Hernandez / Fernandez) are two
    names, not a typo: a typo makes a value that few leads share, and far fewer than the name
    it is a typo of (Micheal / Michael). So the rarer name must be held by at least
    ``common_name_count`` leads and by at least ``common_name_ratio`` times as many leads as the
    other. Without counts, or with ``common_name_count`` 0, no name is known.
    """
    if counts is None or c.common_name_count <= 0 or "count" not in counts.columns:
        return frame, pl.lit(False)
    table = counts.select(pl.col("value"), pl.col("count").cast(pl.Int64))
    frame = frame.join(table.rename({"value": a, "count": "_ca"}), on=a, how="left", maintain_order="left").join(
        table.rename({"value": b, "count": "_cb"}), on=b, how="left", maintain_order="left"
    )
    rarer = pl.min_horizontal(pl.col("_ca").fill_null(0), pl.col("_cb").fill_null(0))
    commoner = pl.max_horizontal(pl.col("_ca").fill_null(0), pl.col("_cb").fill_null(0))
    return frame, (rarer >= c.common_name_count) & (rarer >= c.common_name_ratio * commoner)


def _typo_of_nickname(frame: pl.DataFrame, candidates: pl.Expr) -> pl.Series:
    """Per row: one folded name is one edit away from a nickname form of the other (Duve / David via
    Dave, Bll / William via Bill, Mcrgaret / Maggie via Margaret). Only ``candidates`` rows are scored.
    """
    rows = frame.select(pl.col("xa"), pl.col("xb"), candidates.fill_null(False).alias("_c")).with_row_index("_row")
    todo = rows.filter(pl.col("_c") & (pl.col("xa").str.len_chars() >= 3) & (pl.col("xb").str.len_chars() >= 3))
    if todo.is_empty():
        return _falses(frame.height)
    forms = nickname_pairs()
    # each side against the other side's other forms (William -> bill, will, ...)
    crossed = pl.concat([
        todo.join(forms, left_on="xb", right_on="a").select("_row", pl.col("xa").alias("typed"), pl.col("b").alias("form")),
        todo.join(forms, left_on="xa", right_on="a").select("_row", pl.col("xb").alias("typed"), pl.col("b").alias("form")),
    ]).filter(pl.col("typed").str.slice(0, 1) == pl.col("form").str.slice(0, 1)).unique()
    if crossed.is_empty():
        return _falses(frame.height)
    hit = crossed.filter(similarity("edit_distance", crossed["typed"], crossed["form"]) <= 1)["_row"].unique()
    return rows.select(pl.col("_row").is_in(hit.implode())).to_series()


def _first_name(p: _Pairs, c: Comparison, last: str, counts: pl.DataFrame | None = None) -> tuple[Inputs, Build]:
    _names(p, c.field, last)
    inputs: Inputs = {}
    _pair(p, "names", "first", "fa", "fb", inputs)

    def build(frame: pl.DataFrame, sim: Sim) -> tuple[pl.DataFrame, pl.Expr]:
        frame, known = _known_names(frame, "fa", "fb", counts, c)
        frame = frame.with_columns(_fold(pl.col("fa")).alias("xa"), _fold(pl.col("fb")).alias("xb")).join(
            nickname_pairs().rename({"a": "xa", "b": "xb"}).with_columns(pl.lit(True).alias("nick")),
            on=["xa", "xb"], how="left", maintain_order="left",
        ).with_columns(jw=sim("jaro_winkler", "fa", "fb"))
        short_first = pl.col("xa").str.len_chars() <= pl.col("xb").str.len_chars()
        shorter = pl.when(short_first).then(pl.col("xa")).otherwise(pl.col("xb"))
        longer = pl.when(short_first).then(pl.col("xb")).otherwise(pl.col("xa"))
        # a short form that starts the long one (Max / Maximilian, Seb / Sébastien)
        prefix = (
            shorter.str.len_chars().is_between(3, 5)
            & (longer.str.len_chars() - shorter.str.len_chars() >= 3)
            & ~longer.str.contains(r"[\s\-]")
            & longer.str.starts_with(shorter)
        )
        a_init = pl.col("fa").str.strip_chars(".")
        b_init = pl.col("fb").str.strip_chars(".")
        # a typo of a nickname form: one side a rare value (not a known name), the two far apart
        rare = pl.min_horizontal(pl.col("_ca").fill_null(0), pl.col("_cb").fill_null(0)) < c.common_name_count if "_ca" in frame.columns else pl.lit(True)
        frame = frame.with_columns(
            _typo_of_nickname(frame, rare & pl.col("nick").is_null() & (pl.col("jw") < c.partial)).alias("typo_nick")
        )
        conditions = {
            "exact": pl.col("fa") == pl.col("fb"),
            "nickname": pl.col("nick").fill_null(False) | prefix.fill_null(False),
            "close": (pl.col("jw") >= c.close) & ~known,
            "initial": ((a_init.str.len_chars() == 1) | (b_init.str.len_chars() == 1))
            & (a_init.str.slice(0, 1) == b_init.str.slice(0, 1)),
            "partial": ((pl.col("jw") >= c.partial) & ~known) | pl.col("typo_nick"),
            "other_name": (pl.col("jw") >= c.partial) & known,
        }
        return frame, _select(LEVELS["first_name"], conditions, pl.col("fa").is_null() | pl.col("fb").is_null())

    return inputs, build


def _last_name(p: _Pairs, c: Comparison, first: str, counts: pl.DataFrame | None = None) -> tuple[Inputs, Build]:
    _names(p, first, c.field)
    inputs: Inputs = {}
    _pair(p, "names", "last", "la", "lb", inputs)

    def build(frame: pl.DataFrame, sim: Sim) -> tuple[pl.DataFrame, pl.Expr]:
        frame, known = _known_names(frame, "la", "lb", counts, c)
        frame = frame.with_columns(jw=sim("jaro_winkler", "la", "lb"))
        conditions = {
            "exact": pl.col("la") == pl.col("lb"),
            "close": (pl.col("jw") >= c.close) & ~known,
            "partial": (pl.col("jw") >= c.partial) & ~known,
            "other_name": (pl.col("jw") >= c.partial) & known,
        }
        return frame, _select(LEVELS["last_name"], conditions, pl.col("la").is_null() | pl.col("lb").is_null())

    return inputs, build


_NO_TEXT = pl.Series([], dtype=pl.String)  # the vocabulary of hashed inputs: none, they are only tested for equality


def _hashed_pair(p: _Pairs, key: str, expr: pl.Expr, left: str, right: str, inputs: Inputs) -> None:
    a, b = p.hashed(key, expr)
    inputs[left] = (a, _NO_TEXT)
    inputs[right] = (b, _NO_TEXT)


def _made_of_last_name(local: pl.Expr) -> pl.Expr:
    """Whether an e-mail's local part holds the lead's last name (3+ letters; ö as o or oe)."""
    last = _lower(s.LAST_NAME).str.replace_all(r"[\s'\-]", "")
    letters = _fold(local.str.replace_all(r"[^\p{L}]", ""))
    german = last.str.replace_many(["ä", "ö", "ü", "ß"], ["ae", "oe", "ue", "ss"])
    return (last.str.len_chars() >= 3) & (letters.str.contains(_fold(last), literal=True) | letters.str.contains(_fold(german), literal=True))


def _email(p: _Pairs, c: Comparison) -> tuple[Inputs, Build]:
    # the blocking rule's key part when the engine computed it already (same expression)
    column = pl.col(p.derive(f"{c.field}:canonical_email", key_part(c.field, "canonical_email")))
    canonical = blank_to_null(column)
    # regex extracts, not split_exact: building a struct per record costs 6x more
    local = canonical.str.extract(r"^([^@]*)@", 1)
    domain = canonical.str.extract(r"^[^@]*@([^@]*)", 1)
    inputs: Inputs = {}
    _hashed_pair(p, f"{c.field}.lower", _lower(c.field), "a", "b", inputs)
    _hashed_pair(p, f"{c.field}.canonical", canonical, "ca", "cb", inputs)
    # gmail ignores dots, so local parts are compared without them; short ones do not count, nor
    # ones made of the lead's own last name: two James Roberts are likely to both be james.roberts@
    # somewhere, so that adds nothing to the names agreeing (it stays a mailbox at another domain)
    la, lb = p.hashed(f"{c.field}.local", pl.when(local.str.len_chars() >= 3).then(local.str.replace_all(".", "", literal=True)))
    if p.has(s.LAST_NAME):
        # checked only on the records of pairs that share a local part (few), not on every record
        shared = (la == lb).fill_null(False)
        involved = pl.concat([p.left.filter(shared), p.right.filter(shared)]).unique()
        named = p.records[involved].select(_made_of_last_name(local).fill_null(False).alias("_n"))["_n"]
        by_name = involved.filter(named).implode()
        la, lb = _where(~p.left.is_in(by_name), la), _where(~p.right.is_in(by_name), lb)
    inputs["la"], inputs["lb"] = (la, _NO_TEXT), (lb, _NO_TEXT)
    _hashed_pair(p, f"{c.field}.domain", domain, "da", "db", inputs)
    # the local part without digits: john.smith2@ and john.smith@ at one company are two mailboxes
    _hashed_pair(p, f"{c.field}.undigited", pl.concat_str(local.str.replace_all(r"\d", ""), pl.lit("@"), domain),
                 "na", "nb", inputs)

    def build(frame: pl.DataFrame, sim: Sim) -> tuple[pl.DataFrame, pl.Expr]:
        conditions = {
            "exact": pl.col("a") == pl.col("b"),
            "variant": pl.col("ca") == pl.col("cb"),
            "same_local": (pl.col("la") == pl.col("lb")).fill_null(False),
            # another mailbox at another domain (work vs private) says little
            "other_domain": pl.col("da") != pl.col("db"),
            # the same mailbox name but for a number, at one domain: the company numbered a namesake
            "numbered": pl.col("na") == pl.col("nb"),
        }
        return frame, _select(LEVELS["email"], conditions, pl.col("a").is_null() | pl.col("b").is_null())

    return inputs, build


def _phone(p: _Pairs, c: Comparison) -> tuple[Inputs, Build]:
    inputs: Inputs = {}
    # phone and mobile hashed alike, so a phone can match the other side's mobile
    _hashed_pair(p, f"{c.field}.number", pl.col(c.field).cast(pl.String), "a", "b", inputs)
    has_mobile = p.has(s.MOBILE_PHONE) and c.field != s.MOBILE_PHONE
    if has_mobile:
        _hashed_pair(p, f"{s.MOBILE_PHONE}.number", pl.col(s.MOBILE_PHONE).cast(pl.String), "ma", "mb", inputs)
    _hashed_pair(p, f"{c.field}.last7", pl.col(c.field).cast(pl.String).str.replace_all(r"\D", "").str.slice(-7), "sa", "sb", inputs)
    orgs = [org for org in (s.COMPANY_KEY, s.COMPANY_DOMAIN) if p.has(org)]
    for org in orgs:
        _hashed_pair(p, f"{org}.lower", p.lower(org), f"{org}_a", f"{org}_b", inputs)

    def build(frame: pl.DataFrame, sim: Sim) -> tuple[pl.DataFrame, pl.Expr]:
        missing_a, missing_b = pl.col("a").is_null(), pl.col("b").is_null()
        mobile = pl.lit(False)
        if has_mobile:
            mobile = ((pl.col("ma") == pl.col("mb")) | (pl.col("ma") == pl.col("b")) | (pl.col("a") == pl.col("mb"))).fill_null(False)
            missing_a = missing_a & pl.col("ma").is_null()
            missing_b = missing_b & pl.col("mb").is_null()
        same_org = pl.lit(False)
        for org in orgs:
            same_org = same_org | (pl.col(f"{org}_a") == pl.col(f"{org}_b")).fill_null(False)
        exact = pl.col("a") == pl.col("b")
        conditions = {"mobile": mobile, "exact": exact & ~same_org, "shared_org": exact, "last7": pl.col("sa") == pl.col("sb")}
        return frame, _select(LEVELS["phone"], conditions, missing_a | missing_b)

    return inputs, build


#: Similarity of two company keys without spaces above which they are one name with a typo.
_SQUASHED_CLOSE = 0.93


def _acronym(column: str) -> pl.Expr:
    words = pl.col(column).str.split(" ")
    return pl.when(words.list.len() >= 2).then(words.list.eval(pl.element().str.slice(0, 1)).list.join(""))


def _same_domain(p: _Pairs, level: pl.Series) -> pl.Series:
    """Company levels below 'domain' become 'domain' where both leads have one registrable domain."""
    da, db = p.hashed(f"{s.COMPANY_DOMAIN}.lower", p.lower(s.COMPANY_DOMAIN))
    domain = LEVELS["company"].index("domain")
    return pl.select(
        pl.when(level.is_not_null() & (level > domain) & (da == db).fill_null(False)).then(pl.lit(domain, pl.Int8))
        .otherwise(level.cast(pl.Int8))
    ).to_series()


def _company(p: _Pairs, c: Comparison) -> tuple[Inputs, Build]:
    key = p.lower(c.field)
    inputs: Inputs = {}
    _col_pair(p, c.field, pl.when(~key.is_in(_NOT_PROVIDED)).then(key), "a", "b", inputs, key=f"{c.field}.company")
    # each company key without spaces (a typo that joins or splits words, HunterAgritech, Johnsonm
    # Foods, is still close) and its acronym, computed once per distinct key: the same codes as
    # a / b, read through other vocabularies (the 'domain' level is set per pair by _same_domain)
    codes_a, vocab = inputs["a"]
    codes_b = inputs["b"][0]
    squashed = vocab.str.replace_all(" ", "", literal=True)
    acronyms = pl.DataFrame({"v": vocab}).select(_acronym("v"))["v"]
    inputs["sa"], inputs["sb"] = (codes_a, squashed), (codes_b, squashed)
    inputs["aa"], inputs["ab"] = (codes_a, acronyms), (codes_b, acronyms)

    def build(frame: pl.DataFrame, sim: Sim) -> tuple[pl.DataFrame, pl.Expr]:
        frame = frame.with_columns(ts=sim("token_set", "a", "b"), sq=sim("indel", "sa", "sb"))
        acronym = (pl.col("aa") == pl.col("b")) | (pl.col("ab") == pl.col("a"))
        conditions = {
            "exact": pl.col("a") == pl.col("b"),
            "close": (pl.col("ts") >= c.close) | (pl.col("sq") >= _SQUASHED_CLOSE) | acronym.fill_null(False),
            "partial": pl.col("ts") >= c.partial,
        }
        return frame, _select(LEVELS["company"], conditions, pl.col("a").is_null() | pl.col("b").is_null())

    return inputs, build


def _string(p: _Pairs, c: Comparison) -> tuple[Inputs, Build]:
    inputs: Inputs = {}
    _col_pair(p, c.field, _lower(c.field), "a", "b", inputs, key=f"{c.field}.lower")

    def build(frame: pl.DataFrame, sim: Sim) -> tuple[pl.DataFrame, pl.Expr]:
        frame = frame.with_columns(jw=sim("jaro_winkler", "a", "b"))
        conditions = {"exact": pl.col("a") == pl.col("b"), "close": pl.col("jw") >= c.close, "partial": pl.col("jw") >= c.partial}
        return frame, _select(LEVELS["string"], conditions, pl.col("a").is_null() | pl.col("b").is_null())

    return inputs, build


def _postal_code(p: _Pairs, c: Comparison) -> tuple[Inputs, Build]:
    code = _lower(c.field).str.replace_all(r"\s", "")
    inputs: Inputs = {}
    _col_pair(p, c.field, code, "a", "b", inputs, key=f"{c.field}.postal")
    _col_pair(p, c.field, code.str.slice(0, 3), "pa", "pb", inputs, key=f"{c.field}.postal3")

    def build(frame: pl.DataFrame, sim: Sim) -> tuple[pl.DataFrame, pl.Expr]:
        conditions = {"exact": pl.col("a") == pl.col("b"), "partial": pl.col("pa") == pl.col("pb")}
        return frame, _select(LEVELS["postal_code"], conditions, pl.col("a").is_null() | pl.col("b").is_null())

    return inputs, build


def _date(p: _Pairs, c: Comparison) -> tuple[Inputs, Build]:
    digits = pl.col(c.field).cast(pl.String).str.replace_all(r"\D", "")
    inputs: Inputs = {}
    _col_pair(p, c.field, pl.when(digits.str.len_chars() == 8).then(digits), "a", "b", inputs, key=f"{c.field}.date")

    def build(frame: pl.DataFrame, sim: Sim) -> tuple[pl.DataFrame, pl.Expr]:
        frame = frame.with_columns(d=sim("edit_distance", "a", "b"))
        # YYYYMMDD with day and month swapped
        swapped = pl.concat_str(pl.col("b").str.slice(0, 4), pl.col("b").str.slice(6, 2), pl.col("b").str.slice(4, 2))
        conditions = {
            "exact": pl.col("a") == pl.col("b"),
            "close": (pl.col("d") <= 1) | (pl.col("a") == swapped),
            "partial": pl.col("a").str.slice(0, 4) == pl.col("b").str.slice(0, 4),
        }
        return frame, _select(LEVELS["date"], conditions, pl.col("a").is_null() | pl.col("b").is_null())

    return inputs, build


def _identifier(p: _Pairs, c: Comparison) -> tuple[Inputs, Build]:
    inputs: Inputs = {}
    _col_pair(p, c.field, _lower(c.field).str.replace_all(r"[\s\-]", ""), "a", "b", inputs, key=f"{c.field}.id")

    def build(frame: pl.DataFrame, sim: Sim) -> tuple[pl.DataFrame, pl.Expr]:
        frame = frame.with_columns(d=sim("edit_distance", "a", "b"))
        conditions = {"exact": pl.col("a") == pl.col("b"), "close": pl.col("d") <= 1}
        return frame, _select(LEVELS["identifier"], conditions, pl.col("a").is_null() | pl.col("b").is_null())

    return inputs, build


def compare_pairs(
    pairs: pl.DataFrame,
    records: pl.DataFrame,
    comparisons: Sequence[Comparison],
    tf_tables: dict[str, pl.DataFrame] | None = None,
) -> pl.DataFrame:
    """The level of every comparison for every pair.

    Args:
        pairs: ``lead_id_l``, ``lead_id_r`` (and any other columns, kept).
        records: ``lead_id`` and the compared fields of every lead in the pairs.
        comparisons: what to compare.

    Returns:
        ``pairs`` with ``gamma_<name>`` (Int8 level index into ``LEVELS[kind]``, null when
        missing) per comparison, and ``tf_<name>`` (the share of records holding the agreed
        value, on exact matches) for comparisons with term-frequency adjustment; the shares come
        from ``tf_tables`` (``value``, ``tf``, ``count`` per comparison name) or, when absent, from ``records``;
        the counts also tell known names apart from typos (level ``other_name``).

    The comparisons run side by side in a few threads (``comparison_threads``): each spends much
    of its time in Python between polars operations, and polars runs an operation on a few
    thousand rows on one core, so one comparison at a time leaves a core idle. Each comparison
    is computed on its own, so the result does not depend on the order the threads finish in.
    """
    p = _Pairs(pairs, records)
    first = next((c.field for c in comparisons if c.kind == "first_name"), s.FIRST_NAME)
    last = next((c.field for c in comparisons if c.kind == "last_name"), s.LAST_NAME)
    # the name comparisons first: they share the dearest work (the swapped names), which one of
    # them computes while the other threads go on with the rest
    present = sorted((c for c in comparisons if p.has(c.field)), key=lambda c: c.kind not in ("first_name", "last_name"))

    def one(c: Comparison) -> list[pl.Series]:
        return _compare_one(p, c, first, last, records, tf_tables)

    threads = min(comparison_threads(pairs.height), len(present))
    if threads > 1:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            columns = list(pool.map(one, present))
    else:
        columns = [one(c) for c in present]
    out = pairs.with_columns(
        [pl.lit(None, pl.Int8).alias(gamma_column(c.name)) for c in comparisons if not p.has(c.field)]
        + [col for cols in columns for col in cols]
    )
    order = list(pairs.columns)
    for c in comparisons:
        order.append(gamma_column(c.name))
        if tf_column(c.name) in out.columns:
            order.append(tf_column(c.name))
    return out.select(order)


#: Pairs from which ``compare_pairs`` runs only two comparisons at a time (memory: see below).
MANY_PAIRS = 500_000


def comparison_threads(pairs: int) -> int:
    """How many comparisons ``compare_pairs`` runs at a time for this many pairs.

    More threads than the two cores of the reference machine: while one thread runs Python, the
    others run polars or rapidfuzz. On the 36.5k pairs of a 10k-lead incremental batch
    (``benchmarks/incremental.py``) one thread takes 205 ms, two 199, four 161, six 151. Each
    comparison holds a few columns per pair, so a large run keeps to two: at 1.86M pairs two
    threads are as fast as six (3.6 s against 4.0-4.4 s in one) while six add 300 MB to the peak
    RSS (1.9 GB against 1.6 GB).
    """
    return 6 if pairs < MANY_PAIRS else 2


def _compare_one(
    p: _Pairs, c: Comparison, first: str, last: str, records: pl.DataFrame, tf_tables: dict[str, pl.DataFrame] | None,
) -> list[pl.Series]:
    """One comparison's level column (and term-frequency column) for every pair of ``p``."""
    strings: Sequence[str] | None = ["a", "b"]
    table = None
    if uses_value_counts(c):
        table = (tf_tables or {}).get(c.name)
        if table is None:
            table = term_frequencies(records, c)
    match c.kind:
        case "first_name":
            inputs, build = _first_name(p, c, last, table)
            strings = None
        case "last_name":
            inputs, build = _last_name(p, c, first, table)
            strings = None
        case "email":
            inputs, build = _email(p, c)
            strings = []
        case "phone":
            inputs, build = _phone(p, c)
            strings = []
        case "company":
            inputs, build = _company(p, c)
            strings = ["a", "b", "aa", "ab"]
        case "postal_code":
            inputs, build = _postal_code(p, c)
            strings = []
        case "date":
            inputs, build = _date(p, c)
        case "identifier":
            inputs, build = _identifier(p, c)
        case _:
            inputs, build = _string(p, c)
    level = _evaluate(inputs, build, strings)
    if c.kind in ("first_name", "last_name"):
        level = _with_transposed(level, _swapped(p, first, last), LEVELS[c.kind].index("transposed"))
    if c.kind == "company" and p.has(s.COMPANY_DOMAIN):
        level = _same_domain(p, level)
    gamma = level.cast(pl.Int8).alias(gamma_column(c.name))
    if not (c.term_frequency and table is not None):
        return [gamma]
    # the frequency of each record's value, taken from the left record of exact pairs
    value = p.lower(c.field)  # before reading p.records: it may add the column
    per_record = p.records.select(value.alias("value")).join(table, on="value", how="left", maintain_order="left")
    tf = per_record["tf"].gather(p.left)
    return [gamma, pl.select(pl.when(gamma == 0).then(tf).otherwise(None).cast(pl.Float64)).to_series().alias(tf_column(c.name))]


def uses_value_counts(comparison: Comparison) -> bool:
    """Whether a comparison needs how many leads hold each value: term frequencies, or known names."""
    return comparison.term_frequency or (comparison.kind in ("first_name", "last_name") and comparison.common_name_count > 0)


def lower_column(column: str) -> str:
    """Name of the trimmed, lower-cased copy of a column that the comparisons share."""
    return f"{column}:lower"


def with_lower_columns(records: pl.DataFrame, comparisons: Sequence[Comparison]) -> pl.DataFrame:
    """The records with the lower-cased copy of each field whose value counts are taken, so that
    the counts (``term_frequencies``) and the comparisons lower-case it once."""
    fields = sorted({c.field for c in comparisons if uses_value_counts(c) and c.field in records.columns})
    return records.with_columns([_lower(f).alias(lower_column(f)) for f in fields if lower_column(f) not in records.columns])


def term_frequencies(records: pl.DataFrame, comparison: Comparison) -> pl.DataFrame:
    """Share (``tf``) and number (``count``) of records holding each (lower-case) value of a field."""
    lowered = lower_column(comparison.field)
    value = pl.col(lowered) if lowered in records.columns else _lower(comparison.field)
    values = records.select(value.alias("value")).drop_nulls()
    total = max(values.height, 1)
    return values.group_by("value").agg((pl.len() / total).alias("tf"), pl.len().cast(pl.Int64).alias("count"))

"""Blocking: which pairs of leads are compared at all.

A blocking rule is a key made of parts (``last_name:metaphone``, ``company_key:prefix4``): two
leads become a candidate pair when they share the whole key of at least one rule, as Salesforce
match keys do. Keys are computed once per lead (``blocking_keys``) and stored in the warehouse,
so an incremental run only looks up the keys of its new leads.

Oversized blocks (``info@``, a switchboard number shared by a whole company, "Smith" in one
postcode) would make the pair count explode: a key held by more than ``max_block_size`` leads is
skipped for that rule and reported in ``BlockingReport.oversized``; the other rules still see
those leads.

Everything is polars joins: one self-join per run on (rule, key), no Python loop over leads.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import jellyfish
import polars as pl

from matching.configuration import ANY_PHONE, NAME_SET, BlockingRule
from transforms import schema as s
from transforms.distinct import map_distinct

RULE = "rule"
KEY = "key"
LEFT = "lead_id_l"
RIGHT = "lead_id_r"
RULES_MASK = "rules_mask"
BLOCK = "block"
IS_NEW = "_lp_is_new"

_GMAIL = ("gmail.com", "googlemail.com")
_RULE_SHIFT = 1 << 56  # a block id holds its rule's index above this


def canonical_email(email: pl.Expr) -> pl.Expr:
    """Lower-case address without a ``+tag``; gmail dots removed (they are ignored by gmail)."""
    plain = email.str.to_lowercase().str.replace(r"\+[^@]*@", "@")
    gmail = plain.str.ends_with("@gmail.com") | plain.str.ends_with("@googlemail.com")
    local = plain.str.extract(r"^([^@]*)@", 1).str.replace_all(".", "", literal=True)
    return pl.when(gmail).then(pl.concat_str(local, pl.lit("@gmail.com"))).otherwise(plain)


def _metaphone(expr: pl.Expr) -> pl.Expr:
    return expr.map_elements(jellyfish.metaphone, return_dtype=pl.String)


def _soundex(expr: pl.Expr) -> pl.Expr:
    return expr.map_elements(jellyfish.soundex, return_dtype=pl.String)


def key_part(field: str, transform: str | None) -> pl.Expr:
    """The expression of one key part (no transform: the normalised value as it is)."""
    col = pl.col(field).cast(pl.String)
    match transform:
        case None:
            return col
        case "lower":
            return col.str.strip_chars().str.to_lowercase()
        case "initial":
            return col.str.strip_chars().str.to_lowercase().str.slice(0, 1)
        case "prefix3" | "prefix4" | "prefix5":
            return col.str.strip_chars().str.to_lowercase().str.replace_all(r"\s+", "").str.slice(0, int(transform[-1]))
        case "metaphone":
            return map_distinct(col.str.strip_chars().str.to_lowercase(), _metaphone, pl.String)
        case "soundex":
            return map_distinct(col.str.strip_chars(), _soundex, pl.String)
        case "digits":
            return col.str.replace_all(r"\D", "")
        case "last7":
            return col.str.replace_all(r"\D", "").str.slice(-7)
        case "local_part":
            return canonical_email(col).str.extract(r"^([^@]*)@", 1)
        case "local_letters":
            letters = canonical_email(col).str.extract(r"^([^@]*)@", 1).str.replace_all(r"[^\p{L}]", "")
            return pl.when(letters.str.len_chars() >= 4).then(letters)
        case "canonical_email":
            return canonical_email(col)
        case "year":
            return col.str.extract(r"(\d{4})", 1)
        case _:  # validated by BlockingRule; kept for safety
            raise ValueError(f"unknown key transform {transform!r}")


def _rule_keys(records: pl.LazyFrame, rule: BlockingRule, columns: Sequence[str]) -> pl.LazyFrame:
    """(lead_id, rule, key) for one rule; a lead with a missing part has no key."""
    frame = records
    exprs = []
    for part in rule.parts:
        field, _, transform = part.partition(":")
        if field == ANY_PHONE:
            # one key per number: the phone, and the mobile phone when it is another number
            rows = [frame.with_columns(pl.col(s.PHONE).alias(ANY_PHONE))] if s.PHONE in columns else []
            if s.MOBILE_PHONE in columns:
                mobile = frame.with_columns(pl.col(s.MOBILE_PHONE).alias(ANY_PHONE))
                if s.PHONE in columns:
                    mobile = mobile.filter(pl.col(s.MOBILE_PHONE).ne_missing(pl.col(s.PHONE)))
                rows.append(mobile)
            frame = pl.concat(rows)
        elif field == NAME_SET:
            if s.FIRST_NAME not in columns or s.LAST_NAME not in columns:
                return pl.LazyFrame(schema={s.LEAD_ID: pl.Int64, RULE: pl.String, KEY: pl.String})
            names = [pl.col(s.FIRST_NAME).str.to_lowercase(), pl.col(s.LAST_NAME).str.to_lowercase()]
            frame = frame.with_columns(
                pl.concat_str(pl.min_horizontal(names), pl.max_horizontal(names), separator=" ").alias(NAME_SET)
            )
        elif field not in columns:
            return pl.LazyFrame(schema={s.LEAD_ID: pl.Int64, RULE: pl.String, KEY: pl.String})
        if part in columns:  # computed once for every rule that uses it (blocking_keys)
            exprs.append(pl.col(part))
            continue
        exprs.append(key_part(field, transform or None))
    # a key needs every part, and an empty part counts as missing
    parts = [f"_p{i}" for i in range(len(exprs))]
    keys = (
        frame.select(pl.col(s.LEAD_ID), *[e.alias(n) for e, n in zip(exprs, parts, strict=True)])
        .filter(pl.all_horizontal([pl.col(n).str.len_bytes() > 0 for n in parts]))
        .select(s.LEAD_ID, pl.lit(rule.name).alias(RULE), pl.concat_str(parts, separator="|").alias(KEY))
    )
    return keys


def with_key_parts(records: pl.DataFrame, rules: Sequence[BlockingRule]) -> pl.DataFrame:
    """The records with a column per transformed key part of the rules (named as the part,
    ``last_name:metaphone``), each computed once however many rules use it; parts already there are kept.

    Comparisons reuse them (``email:canonical_email``), so computing them before blocking and
    comparing spares doing it twice.
    """
    shared = {
        part for rule in rules for part in rule.parts
        if ":" in part and part.partition(":")[0] in records.columns and part not in records.columns
    }
    return records.with_columns([key_part(p.partition(":")[0], p.partition(":")[2]).alias(p) for p in sorted(shared)])


def blocking_keys(records: pl.DataFrame, rules: Sequence[BlockingRule]) -> pl.DataFrame:
    """Every lead's key under every rule: columns ``lead_id``, ``rule`` (an enum of the rule names),
    ``key`` and ``block`` (the ``block_id`` for these rules in this order; computed per rule, it
    saves ``candidate_pairs`` hashing millions of keys again).

    Example:
        >>> blocking_keys(leads, [BlockingRule(name="email", parts=["email:canonical_email"])])
    """
    rule_type = pl.Enum([r.name for r in rules])
    if not rules:
        return pl.DataFrame(schema={s.LEAD_ID: pl.Int64, RULE: rule_type, KEY: pl.String, BLOCK: pl.UInt64})
    records = with_key_parts(records, rules)
    lazy = records.lazy()
    parts = [
        # the rule name as an enum: a string per key is 100 MB at 1M leads, an enum code a quarter of it
        _rule_keys(lazy, rule, records.columns).with_columns(pl.col(RULE).cast(rule_type), block_id(pl.col(KEY), index).alias(BLOCK))
        for index, rule in enumerate(rules)
    ]
    return pl.concat(parts).collect(engine="in-memory")


def blocks_agree(stored: pl.DataFrame, rules: Sequence[BlockingRule]) -> bool:
    """Whether stored keys (``rule``, ``key``, ``block``) carry the block ids these rules give now.

    A block id is a hash: another polars version, or the same rules in another order, may give
    other ids, and stored keys would then silently stop matching new ones. A sample that
    disagrees (or has no id) means every stored key must be computed again.
    """
    if stored.is_empty():
        return True
    if stored[BLOCK].null_count() or not stored[RULE].is_in([r.name for r in rules]).all():
        return False
    return bool(stored.select((block_id(pl.col(KEY), _rule_index(rules)) == pl.col(BLOCK)).all()).item())


def _rule_index(rules: Sequence[BlockingRule]) -> pl.Expr:
    """The position of each row's ``rule`` among the rules."""
    names = [r.name for r in rules]
    return pl.col(RULE).replace_strict(names, list(range(len(names))), return_dtype=pl.UInt64)


def block_id(key: pl.Expr, rule_index: int | pl.Expr) -> pl.Expr:
    """One integer per (rule, key): the rule's index above 56 bits of the key's hash.

    The joins of ``candidate_pairs`` run on it, not on strings. A hash collision between two keys
    of a rule could only add a candidate pair, never lose one.
    """
    return key.hash(seed=1) // 256 + (pl.lit(rule_index, pl.UInt64) if isinstance(rule_index, int) else rule_index) * _RULE_SHIFT


@dataclass(frozen=True)
class BlockingReport:
    """What blocking did: pairs per rule and the keys skipped as oversized."""

    pairs: int
    pairs_per_rule: dict[str, int]
    oversized: pl.DataFrame  # rule, key, size


def _blocks(frame: pl.DataFrame, rules: Sequence[BlockingRule], *, new: bool) -> pl.DataFrame:
    """``lead_id``, ``_block``, whether new: the block ids blocking_keys computed, else
    (keys given without them) computed here."""
    ids = pl.col(BLOCK) if BLOCK in frame.columns else block_id(pl.col(KEY), _rule_index(rules))
    return frame.select(s.LEAD_ID, ids.alias("_block"), pl.lit(new).alias(IS_NEW))


# a block worth joining: within its rule's cap, holding a new lead and another lead
_USABLE = (pl.col("size") <= pl.col("_cap")) & pl.col("has_new") & (pl.col("size") > 1)


def _block_sizes(
    new_keys: pl.DataFrame, existing_keys: pl.DataFrame | None, rules: Sequence[BlockingRule], max_block_size: int,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The keys of new and existing leads, the new ones first (a lead both stored and new counts
    once, as new), and per block its ``size``, whether it ``has_new`` lead and its rule's ``_cap``."""
    keys = _blocks(new_keys, rules, new=True)
    if existing_keys is not None and existing_keys.height:
        # the stored keys of a lead passed as new too give way to its new keys
        stored = existing_keys.filter(~pl.col(s.LEAD_ID).is_in(new_keys[s.LEAD_ID].unique().implode()))
        keys = pl.concat([keys, _blocks(stored, rules, new=False)])
        sizes = keys.group_by("_block").agg(pl.len().alias("size"), pl.col(IS_NEW).any().alias("has_new"))
    else:
        # every key is new: the run lengths of the sorted block ids. Most blocks hold one lead (an
        # e-mail, a phone), and a hash group-by of millions of singleton groups takes twice the
        # time and memory of this sort (8M keys: 0.67 s and +650 MB against 0.27 s and +370 MB)
        runs = keys["_block"].sort().rle().struct.unnest()
        sizes = runs.select(pl.col("value").alias("_block"), pl.col("len").alias("size"), pl.lit(True).alias("has_new"))
    caps = [r.max_block_size or max_block_size for r in rules]
    sizes = sizes.with_columns(
        (pl.col("_block") // _RULE_SHIFT).replace_strict(list(range(len(caps))), caps, return_dtype=pl.Int64).alias("_cap")
    )
    return keys, sizes


@dataclass(frozen=True)
class BlockPlan:
    """The keys worth joining (integers only: ``lead_id``, ``_block``, whether new, the rule's
    bit) and the oversized blocks, named. Made by ``plan_blocks``, joined by ``pairs_in_blocks``."""

    keys: pl.DataFrame
    oversized: pl.DataFrame  # _block, size, has_new, rule, key
    #: How long ``plan_blocks`` took: blocking work, which the engine's timings count as such when
    #: a caller made the plan (an incremental run plans before reading the leads it compares).
    seconds: float = 0.0

    def stored_leads(self) -> pl.Series:
        """The stored leads (keys given as existing) the plan pairs with a new lead: those sharing
        a block that is not oversized. Only these need reading from the warehouse; a lead met only
        in oversized blocks (a switchboard number, a big company's name prefix) is never compared.

        Returns:
            Their lead ids (``lead_id``), unique, ascending.
        """
        return self.keys.filter(~pl.col(IS_NEW)).get_column(s.LEAD_ID).unique().sort()


def plan_blocks(
    new_keys: pl.DataFrame, existing_keys: pl.DataFrame | None, rules: Sequence[BlockingRule], max_block_size: int,
) -> BlockPlan:
    """Which keys ``pairs_in_blocks`` joins: those of blocks within their cap holding a new lead.

    The plan keeps no key strings, so a caller can let the keys go before the join, which holds
    the run's peak memory (see ``candidate_pairs`` for the arguments).
    """
    clock = time.perf_counter()
    keys, sizes = _block_sizes(new_keys, existing_keys, rules, max_block_size)
    oversized = sizes.filter((pl.col("size") > pl.col("_cap")) & pl.col("has_new")).drop("_cap")
    # the names of the oversized keys, from the new keys (an oversized block has a new lead)
    # (filtered first: selecting the key strings of millions of keys would copy them)
    new_blocks = keys["_block"].head(new_keys.height)  # _block_sizes puts the new keys first
    big = new_blocks.is_in(oversized["_block"].implode())
    named = new_keys.filter(big).select(new_blocks.filter(big).alias("_block"), pl.col(RULE).cast(pl.String), KEY).unique("_block")
    usable = sizes.filter(_USABLE).select("_block")
    keys = keys.lazy().join(usable.lazy(), on="_block", how="semi").select(
        s.LEAD_ID, "_block", IS_NEW, pl.lit(2, pl.Int64).pow(pl.col("_block") // _RULE_SHIFT).cast(pl.Int64).alias("_bit"),
    ).collect()
    oversized = oversized.join(named, on="_block", how="left")
    return BlockPlan(keys=keys, oversized=oversized, seconds=time.perf_counter() - clock)


def pairs_in_blocks(plan: BlockPlan, rules: Sequence[BlockingRule]) -> tuple[pl.DataFrame, BlockingReport]:
    """The pairs of a plan, each once with the rules that made it (see ``candidate_pairs``)."""
    keys = plan.keys
    left = keys.select(pl.col(s.LEAD_ID).alias(LEFT), "_block", pl.col(IS_NEW).alias("_new_l"), "_bit")
    right = keys.select(pl.col(s.LEAD_ID).alias(RIGHT), "_block", pl.col(IS_NEW).alias("_new_r"))
    joined = (
        left.lazy()
        .join(right.lazy(), on="_block")
        .filter((pl.col(LEFT) < pl.col(RIGHT)) & (pl.col("_new_l") | pl.col("_new_r")))
        .select(LEFT, RIGHT, "_bit")
    )
    if keys.height and keys[s.LEAD_ID].max() < 2**31 and keys[s.LEAD_ID].min() >= 0:
        # one integer per pair groups faster than two columns
        pairs = (
            joined.group_by((pl.col(LEFT) * 2**32 + pl.col(RIGHT)).alias("_pair"))
            .agg(pl.col("_bit").bitwise_or().alias(RULES_MASK))
            .select((pl.col("_pair") // 2**32).alias(LEFT), (pl.col("_pair") % 2**32).alias(RIGHT), RULES_MASK)
            .collect()  # the default (streaming) engine joins and groups this 3x faster than in-memory
        )
    else:
        pairs = joined.group_by(LEFT, RIGHT).agg(pl.col("_bit").bitwise_or().alias(RULES_MASK)).collect()
    per_rule = {
        rule.name: int(pairs.select((pl.col(RULES_MASK) & (1 << i) > 0).sum()).item()) for i, rule in enumerate(rules)
    }
    report = BlockingReport(
        pairs=pairs.height,
        pairs_per_rule=per_rule,
        oversized=plan.oversized.select(RULE, KEY, "size").sort(["size", RULE, KEY], descending=[True, False, False]),
    )
    return pairs, report


def candidate_pairs(
    new_keys: pl.DataFrame,
    existing_keys: pl.DataFrame | None,
    rules: Sequence[BlockingRule],
    max_block_size: int,
) -> tuple[pl.DataFrame, BlockingReport]:
    """Pairs of leads sharing a key, at least one of them new, each pair once.

    Args:
        new_keys: keys of the leads being clustered now.
        existing_keys: keys of already clustered leads (the stored ``lead_blocking_keys`` that
            share a key with a new lead is enough), or None.
        rules: the rules, in order: bit i of ``rules_mask`` is rule i.
        max_block_size: keys held by more leads than this are skipped for their rule (unless the
            rule sets its own ``max_block_size``).

    Returns:
        Pairs ``lead_id_l < lead_id_r`` with ``rules_mask`` (in no particular order); and the report.
    """
    return pairs_in_blocks(plan_blocks(new_keys, existing_keys, rules, max_block_size), rules)


def shared_blocks(
    keys: pl.DataFrame, leads: int, others: pl.DataFrame | None, rules: Sequence[BlockingRule], max_block_size: int,
) -> pl.DataFrame:
    """The blocks all of a few leads hold, and whether they are within their rule's cap.

    Args:
        keys: ``blocking_keys`` of the leads (two, for "why are these two (not) duplicates?").
        leads: how many leads were asked about (one without any key shares no block).
        others: per block (``block``), how many keys of other leads it holds (``others``); blocks
            not listed have none. None: not known (``size`` and ``within_cap`` are then null).
        rules: the rules the keys were computed with, in order.
        max_block_size: the global cap (a rule may set its own).

    Returns:
        ``rule``, ``key``, ``block``, ``size`` (these leads' keys and the others'), ``cap`` and
        ``within_cap`` (``size <= cap``: a run skips an oversized block), by rule order then key.
    """
    caps = [r.max_block_size or max_block_size for r in rules]
    shared = (
        keys.group_by(BLOCK)
        .agg(pl.col(RULE).first().cast(pl.String), pl.col(KEY).first(), pl.col(s.LEAD_ID).n_unique().alias("_leads"),
             pl.len().cast(pl.Int64).alias("_held"))
        .filter(pl.col("_leads") == leads)
        .with_columns((pl.col(BLOCK) // _RULE_SHIFT).cast(pl.Int64).alias("_index"))
        .with_columns(pl.col("_index").replace_strict(list(range(len(caps))), caps, return_dtype=pl.Int64).alias("cap"))
    )
    if others is None:
        shared = shared.with_columns(pl.lit(None, pl.Int64).alias("size"))
    else:
        # counted as a run counts a block: its keys (a lead may hold one twice: a phone and a mobile with the same last 7 digits)
        shared = shared.join(others.select(BLOCK, pl.col("others").cast(pl.Int64)), on=BLOCK, how="left").with_columns(
            (pl.col("_held") + pl.col("others").fill_null(0)).alias("size")
        )
    return shared.with_columns((pl.col("size") <= pl.col("cap")).alias("within_cap")).sort("_index", KEY).select(
        RULE, KEY, BLOCK, "size", "cap", "within_cap"
    )


def rules_mask(names: Sequence[str], rules: Sequence[BlockingRule]) -> int:
    """The ``rules_mask`` of a pair the named rules produced (bit i: rule i)."""
    wanted = set(names)
    return sum(1 << i for i, rule in enumerate(rules) if rule.name in wanted)


def rule_names(mask: pl.Expr, rules: Sequence[BlockingRule]) -> pl.Expr:
    """The list of rule names encoded in a ``rules_mask`` column (decoded once per distinct mask)."""
    names = [r.name for r in rules]

    def decode(masks: pl.Series) -> pl.Series:
        distinct = masks.unique().drop_nulls()
        lists = [[n for i, n in enumerate(names) if (m >> i) & 1] for m in distinct.to_list()]
        table = pl.DataFrame({"_m": distinct, "_names": pl.Series(lists, dtype=pl.List(pl.String))})
        decoded = pl.DataFrame({"_m": masks}).join(table, on="_m", how="left", maintain_order="left")["_names"]
        return decoded.alias(masks.name)

    return mask.map_batches(decode, return_dtype=pl.List(pl.String))

"""Which existing account a lead cluster belongs to: by registrable domain, company key, or fuzzily.

Used by sticky routing (the account's owner gets the lead) and by conversion (attach instead of
creating). The order is the CRM's: a company domain is the strongest evidence, but never a
free-mail domain (gmail.com says nothing about the employer); then the normalised company key
(``ACME, Inc.`` = ``Acme``); then, optionally, a company key at least ``threshold`` similar
(rapidfuzz ratio) among accounts whose key starts with the same two characters.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import polars as pl
from rapidfuzz import fuzz, process

from transforms import schema as s
from transforms.domains import is_freemail

ACCOUNT_ID: Final = "account_id"
ACCOUNT_MATCH: Final = "account_match"  # 'domain', 'company_key', 'fuzzy' or null
MATCH_DOMAIN: Final = "domain"
MATCH_KEY: Final = "company_key"
MATCH_FUZZY: Final = "fuzzy"

_FUZZY_CHUNK = 2_000  # query keys per rapidfuzz call: bounds the score matrix


def usable_domain(domain: pl.Expr) -> pl.Expr:
    """The domain when it can identify a company (not null, not a free-mail provider), else null."""
    d = domain.str.to_lowercase().str.strip_chars()
    return pl.when(is_freemail(d) | (d == "")).then(None).otherwise(d)


def usable_key(company_key: pl.Expr, company: pl.Expr) -> pl.Expr:
    """The company key unless the company is web-to-lead's ``[not provided]`` placeholder."""
    return pl.when((company == s.NOT_PROVIDED_COMPANY) | (company_key == "")).then(None).otherwise(company_key)


def match_accounts(clusters: pl.DataFrame, accounts: pl.DataFrame, fuzzy_threshold: int | None) -> pl.DataFrame:
    """Attach ``account_id`` and ``account_match`` to each cluster (null when none matches).

    Args:
        clusters: ``cluster_id``, ``company_domain``, ``company_key``, ``company``.
        accounts: existing accounts: ``account_id``, ``domain``, ``company_key``.
        fuzzy_threshold: least rapidfuzz ratio (0-100) for a fuzzy key match; None = off.

    Returns:
        ``cluster_id``, ``account_id``, ``account_match``: the oldest (smallest id) account
        of the best kind of match.
    """
    keyed = clusters.select(
        s.CLUSTER_ID,
        usable_domain(pl.col(s.COMPANY_DOMAIN)).alias("_dom"),
        usable_key(pl.col(s.COMPANY_KEY), pl.col(s.COMPANY)).alias("_key"),
    )
    empty = keyed.select(s.CLUSTER_ID, pl.lit(None, pl.Int64).alias(ACCOUNT_ID), pl.lit(None, pl.String).alias(ACCOUNT_MATCH))
    if accounts.height == 0:
        return empty
    by_domain = (
        accounts.select(usable_domain(pl.col("domain")).alias("_dom"), pl.col(ACCOUNT_ID).cast(pl.Int64))
        .drop_nulls("_dom").group_by("_dom").agg(pl.col(ACCOUNT_ID).min().alias("_a_dom"))
    )
    by_key = (
        accounts.select(pl.col("company_key").alias("_key"), pl.col(ACCOUNT_ID).cast(pl.Int64))
        .drop_nulls("_key").group_by("_key").agg(pl.col(ACCOUNT_ID).min().alias("_a_key"))
    )
    matched = keyed.join(by_domain, on="_dom", how="left").join(by_key, on="_key", how="left")
    if fuzzy_threshold is not None:
        todo = matched.filter(pl.col("_a_dom").is_null() & pl.col("_a_key").is_null()).select("_key").drop_nulls().unique()
        fuzzy = fuzzy_key_matches(todo["_key"], by_key, fuzzy_threshold)
        matched = matched.join(fuzzy, on="_key", how="left")
    else:
        matched = matched.with_columns(pl.lit(None, pl.Int64).alias("_a_fuzzy"))
    return matched.select(
        s.CLUSTER_ID,
        pl.coalesce("_a_dom", "_a_key", "_a_fuzzy").alias(ACCOUNT_ID),
        pl.when(pl.col("_a_dom").is_not_null()).then(pl.lit(MATCH_DOMAIN))
        .when(pl.col("_a_key").is_not_null()).then(pl.lit(MATCH_KEY))
        .when(pl.col("_a_fuzzy").is_not_null()).then(pl.lit(MATCH_FUZZY))
        .alias(ACCOUNT_MATCH),
    )


def fuzzy_key_matches(keys: pl.Series, accounts_by_key: pl.DataFrame, threshold: int) -> pl.DataFrame:
    """Best account key at least ``threshold`` similar to each key, within its 2-character block.

    A loop over blocks and chunks of distinct keys (never over leads); each step is one
    rapidfuzz ``cdist`` call in C.
    """
    out_keys: list[str] = []
    out_ids: list[int] = []
    if keys.len() and accounts_by_key.height:
        acc = accounts_by_key.with_columns(pl.col("_key").str.slice(0, 2).alias("_blk"))
        qry = pl.DataFrame({"_key": keys}).with_columns(pl.col("_key").str.slice(0, 2).alias("_blk"))
        acc_blocks = {b[0]: g for b, g in acc.group_by("_blk")}
        for (blk,), group in qry.group_by("_blk", maintain_order=True):
            candidates = acc_blocks.get(blk)
            if candidates is None:
                continue
            choices = candidates["_key"].to_list()
            ids = candidates["_a_key"].to_list()
            queries = group["_key"].to_list()
            for start in range(0, len(queries), _FUZZY_CHUNK):
                chunk = queries[start:start + _FUZZY_CHUNK]
                scores = process.cdist(chunk, choices, scorer=fuzz.ratio, score_cutoff=threshold, workers=1)
                best = scores.argmax(axis=1)
                hit = scores[np.arange(len(chunk)), best] >= threshold
                out_keys.extend(np.asarray(chunk, dtype=object)[hit].tolist())
                out_ids.extend(np.asarray(ids, dtype=np.int64)[best[hit]].tolist())
    return pl.DataFrame({"_key": out_keys, "_a_fuzzy": out_ids}, schema={"_key": pl.String, "_a_fuzzy": pl.Int64})

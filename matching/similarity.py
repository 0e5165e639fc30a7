"""String similarity over pairs of coded values, computed once per distinct pair in rapidfuzz's C++.

``rapidfuzz.process.cpdist`` scores element-wise pairs of two lists in native code (and in
parallel), so there is no Python call per pair. Values repeat a lot in lead data (first names,
cities, company keys), so each distinct (left, right) code pair is scored once and joined back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import polars as pl
from rapidfuzz import fuzz, process
from rapidfuzz.distance import DamerauLevenshtein, Indel, JaroWinkler

_A = "_lp_a"
_B = "_lp_b"
_SCORE = "_lp_score"


_SCORERS: dict[str, tuple[Callable[..., Any], pl.DataType, float, float]] = {
    # name: (scorer, result type, value for identical strings, divisor)
    "jaro_winkler": (JaroWinkler.normalized_similarity, pl.Float32, 1.0, 1.0),
    "token_set": (fuzz.token_set_ratio, pl.Float32, 1.0, 100.0),
    "indel": (Indel.normalized_similarity, pl.Float32, 1.0, 1.0),
    "edit_distance": (DamerauLevenshtein.distance, pl.Int32, 0, 1.0),
}


def similarity(name: str, a: pl.Series, b: pl.Series) -> pl.Series:
    """A similarity of two string columns, element-wise (for few rows; use ``similarity_by_code`` on pairs)."""
    scorer, dtype, _, divisor = _SCORERS[name]
    scores = process.cpdist(a.to_list(), b.to_list(), scorer=scorer, workers=-1) if len(a) else []
    return (pl.Series(_SCORE, np.asarray(scores, dtype=np.float64)) / divisor).cast(dtype)


def similarity_by_code(name: str, a: pl.Series, b: pl.Series, vocabulary: pl.Series) -> pl.Series:
    """A similarity of two columns of codes into ``vocabulary``, computed once per distinct code pair.

    Working on integer codes keeps the de-duplication and the join back cheap; only the distinct
    pairs of different values are turned into strings for rapidfuzz.
    """
    scorer, dtype, identical, divisor = _SCORERS[name]
    codes = pl.DataFrame({_A: a.cast(pl.UInt32), _B: b.cast(pl.UInt32)}).with_columns(
        (pl.col(_A).cast(pl.UInt64) * (1 << 32) + pl.col(_B).cast(pl.UInt64)).alias("_k")
    )
    distinct = codes.filter(pl.col(_A) != pl.col(_B)).unique("_k")
    if distinct.height:
        scores = process.cpdist(
            vocabulary.gather(distinct[_A]).to_list(), vocabulary.gather(distinct[_B]).to_list(), scorer=scorer, workers=-1
        )
        distinct = distinct.select("_k", (pl.Series(_SCORE, np.asarray(scores)) / divisor).cast(dtype))
    else:
        distinct = pl.DataFrame(schema={"_k": pl.UInt64, _SCORE: dtype})
    back = codes.join(distinct, on="_k", how="left", maintain_order="left")
    return back.select(
        pl.when(pl.col(_A).is_null() | pl.col(_B).is_null()).then(None)
        .when(pl.col(_A) == pl.col(_B)).then(pl.lit(identical, dtype))
        .otherwise(pl.col(_SCORE))
    ).to_series()

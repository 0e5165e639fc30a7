"""Evaluate an expensive expression once per distinct value instead of once per row.

Lead columns repeat a lot (first names, companies, titles, cities: a few thousand distinct values
in a million rows), so regex-heavy normalisers run on the distinct values and the results are
joined back, all inside polars.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

_KEY = "_lp_key"
_VALUE = "_lp_value"


def map_distinct(expr: pl.Expr, fn: Callable[[pl.Expr], pl.Expr], dtype: pl.DataType | type[pl.DataType]) -> pl.Expr:
    """``fn(expr)``, computed once per distinct value of ``expr``.

    Args:
        expr: the input column expression.
        fn: builds the (pure, row-wise) expression to apply, from a column expression.
        dtype: the result type of ``fn``.

    Example:
        >>> map_distinct(pl.col("company"), company_key, pl.String)
    """

    def apply(series: pl.Series) -> pl.Series:
        keys = pl.DataFrame({_KEY: series})
        lookup = keys.unique().with_columns(fn(pl.col(_KEY)).cast(dtype).alias(_VALUE))
        return keys.join(lookup, on=_KEY, how="left", nulls_equal=True, maintain_order="left")[_VALUE].alias(series.name)

    return expr.map_batches(apply, return_dtype=dtype)

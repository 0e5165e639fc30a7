from __future__ import annotations

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from transforms.blanks import blank_to_null


def test_only_the_empty_string_becomes_null() -> None:
    values = pl.Series(["a", "", None, " ", "\u200b", "0"], dtype=pl.String)
    out = pl.select(blank_to_null(pl.lit(values))).to_series()
    assert out.to_list() == ["a", None, None, " ", "\u200b", "0"]
    assert out.dtype == pl.String


@given(st.lists(st.one_of(st.none(), st.text(max_size=4)), max_size=30))
def test_same_as_the_length_test_it_replaces(values: list[str | None]) -> None:
    frame = pl.DataFrame({"v": values}, schema={"v": pl.String})
    expected = frame.select(pl.when(pl.col("v").str.len_chars() > 0).then(pl.col("v"))).to_series()
    assert frame.select(blank_to_null(pl.col("v"))).to_series().equals(expected)

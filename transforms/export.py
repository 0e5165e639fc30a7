"""Writing rows for people to open in a spreadsheet, safely.

A cell beginning with ``=``, ``+``, ``-``, ``@`` (or a tab / carriage return) is executed as a
formula by Excel, LibreOffice and Google Sheets (CSV injection). Every such text cell is
prefixed with a single quote, as OWASP recommends, so it shows as text.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_START = r"^[=+\-@\t\r]"


def neutralise_formulas(frame: pl.DataFrame) -> pl.DataFrame:
    """Prefix every text cell that a spreadsheet would run as a formula with ``'``.

    Non-text columns are cast to text first (a list of reason codes is joined with ``;``), so
    the result is exactly what will be written.
    """
    columns = []
    for name, dtype in frame.schema.items():
        col = pl.col(name)
        if isinstance(dtype, pl.List):
            col = col.list.join(";")
        elif dtype != pl.String:
            col = col.cast(pl.String)
        columns.append(pl.when(col.str.contains(_FORMULA_START)).then(pl.lit("'") + col).otherwise(col).alias(name))
    return frame.select(columns)


def write_safe_csv(frame: pl.DataFrame, path: Path) -> Path:
    """Write ``frame`` as UTF-8 CSV (with BOM, so Excel detects the encoding), formulas neutralised."""
    path.parent.mkdir(parents=True, exist_ok=True)
    neutralise_formulas(frame).write_csv(path, include_bom=True)
    return path

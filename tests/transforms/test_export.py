from __future__ import annotations

import csv
from pathlib import Path

import polars as pl

from transforms.export import neutralise_formulas, write_safe_csv


def test_formula_cells_are_prefixed() -> None:
    frame = pl.DataFrame(
        {
            "a": [
                '=HYPERLINK("http://x")',
                "+1 415",
                "-5",
                "@SUM(A1)",
                "\tx",
                "plain",
                None,
                "a=b",
            ],
            "reasons": [["missing_company", "invalid_email"]] * 8,
            "n": [1, 2, 3, 4, 5, 6, 7, 8],
        }
    )
    out = neutralise_formulas(frame)
    assert out["a"].to_list() == [
        '\'=HYPERLINK("http://x")',
        "'+1 415",
        "'-5",
        "'@SUM(A1)",
        "'\tx",
        "plain",
        None,
        "a=b",
    ]
    assert out["reasons"][0] == "missing_company;invalid_email"
    assert out["n"].to_list() == [str(i) for i in range(1, 9)]


def test_written_csv_has_no_cell_starting_with_a_formula_char(tmp_path: Path) -> None:
    path = write_safe_csv(pl.DataFrame({"x": ["=1+1", "ok", "-2"]}), tmp_path / "r.csv")
    with path.open(encoding="utf-8-sig", newline="") as handle:
        cells = [c for row in csv.reader(handle) for c in row]
    assert cells[0] == "x"
    assert all(not c.startswith(("=", "+", "-", "@")) for c in cells)
    assert "'=1+1" in cells

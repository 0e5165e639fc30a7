"""The package layering of HOUSE_STYLE, enforced with ast.

transforms imports no project package; matching and warehouse may import transforms but not
each other, and never flows; nothing imports flows; only flows imports prefect; only warehouse
imports duckdb.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("transforms", "matching", "warehouse", "flows")
ALLOWED = {
    "transforms": {"transforms"},
    "matching": {"matching", "transforms"},
    "warehouse": {"warehouse", "transforms"},
    "flows": {"flows", "transforms", "matching", "warehouse"},
}
EXTERNAL_ONLY_IN = {"prefect": {"flows"}, "duckdb": {"warehouse"}}


def imported_roots(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def modules() -> list[tuple[str, Path]]:
    return [(pkg, f) for pkg in PACKAGES for f in sorted((REPO / pkg).rglob("*.py"))]


@pytest.mark.parametrize(("package", "path"), modules(), ids=lambda v: str(v))
def test_imports_follow_the_layering(package: str, path: Path) -> None:
    roots = imported_roots(path)
    project = roots & set(PACKAGES)
    assert project <= ALLOWED[package], f"{path.relative_to(REPO)} imports {sorted(project - ALLOWED[package])}"
    for external, allowed_in in EXTERNAL_ONLY_IN.items():
        if external in roots:
            assert package in allowed_in, f"{path.relative_to(REPO)} imports {external}"


def test_the_layering_check_sees_imports() -> None:
    # Guard against a vacuous pass: the check must find the imports of a known module.
    assert "transforms" in imported_roots(REPO / "warehouse" / "batches.py")
    assert "prefect" in imported_roots(REPO / "flows" / "tasks.py")

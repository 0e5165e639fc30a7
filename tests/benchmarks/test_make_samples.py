"""The bundled samples are exactly what ``benchmarks/make_samples.py`` writes."""

from __future__ import annotations

from pathlib import Path

from benchmarks.make_samples import OUT_DIR, write_all


def test_bundled_samples_are_what_make_samples_writes(tmp_path: Path) -> None:
    sizes = write_all(tmp_path)
    assert len(sizes) >= 6
    for name in sizes:
        assert (tmp_path / name).read_bytes() == (OUT_DIR / name).read_bytes(), name

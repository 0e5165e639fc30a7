"""transforms.disk_cache: built once, read after; a damaged file or an unwritable folder costs
a rebuild, never an error or a wrong value."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import polars as pl
import pytest

from transforms.disk_cache import ENV_CACHE_DIR, _store, cache_dir, cache_key, cached


class Builder:
    def __init__(self, value: list[int]) -> None:
        self.value, self.calls = value, 0

    def __call__(self) -> list[int]:
        self.calls += 1
        return list(self.value)


def encode(value: list[int]) -> pl.DataFrame:
    return pl.DataFrame({"v": value})


def decode(frame: pl.DataFrame) -> list[int]:
    return frame["v"].to_list()


@pytest.fixture()
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(ENV_CACHE_DIR, str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_cache_dir_follows_the_environment(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert cache_dir() == folder
    monkeypatch.delenv(ENV_CACHE_DIR)
    assert cache_dir().name == "leadpipe"


def test_cache_key_depends_on_every_part_and_its_boundaries() -> None:
    assert cache_key(["ab", "c"]) != cache_key(["a", "bc"])
    assert cache_key(["ab", b"c"]) == cache_key([b"ab", "c"])
    assert cache_key(["x"]) != cache_key(["y"])


def test_built_once_then_read(folder: Path) -> None:
    build = Builder([3, 1, 2])
    assert cached("t", "k1", build, encode, decode) == [3, 1, 2]
    assert cached("t", "k1", build, encode, decode) == [3, 1, 2]
    assert build.calls == 1
    assert [p.name for p in folder.iterdir()] == ["t-k1.v1.lpcache"]


def test_a_new_key_rebuilds_and_leaves_other_files_alone(folder: Path) -> None:
    """Another install sharing the folder may still use its key: its file stays."""
    cached("t", "k1", Builder([1]), encode, decode)
    cached("t-other", "k1", Builder([9]), encode, decode)
    build = Builder([2])
    assert cached("t", "k2", build, encode, decode) == [2]
    assert cached("t", "k1", build, encode, decode) == [1]
    assert build.calls == 1
    assert sorted(p.name for p in folder.iterdir()) == ["t-k1.v1.lpcache", "t-k2.v1.lpcache", "t-other-k1.v1.lpcache"]


def test_a_damaged_file_is_rebuilt_and_rewritten(folder: Path, caplog: pytest.LogCaptureFixture) -> None:
    cached("t", "k", Builder([1, 2]), encode, decode)
    (folder / "t-k.v1.lpcache").write_bytes(b"not arrow at all")
    build = Builder([1, 2])
    with caplog.at_level(logging.WARNING, logger="transforms.disk_cache"):
        assert cached("t", "k", build, encode, decode) == [1, 2]
    assert build.calls == 1
    assert "unreadable" in caplog.text
    assert cached("t", "k", build, encode, decode) == [1, 2]
    assert build.calls == 1  # the rewritten file is good


@pytest.mark.parametrize("at", [0.1, 0.5, 0.9, 1.0])
def test_a_flipped_byte_anywhere_is_caught_by_the_checksum(folder: Path, at: float) -> None:
    """Compressed Arrow data with a flipped bit can still decode: the checksum must catch it."""
    cached("t", "k", Builder(list(range(1000))), encode, decode)
    path = folder / "t-k.v1.lpcache"
    data = bytearray(path.read_bytes())
    data[min(int(at * len(data)), len(data) - 1)] ^= 0x01
    path.write_bytes(bytes(data))
    build = Builder(list(range(1000)))
    assert cached("t", "k", build, encode, decode) == list(range(1000))
    assert build.calls == 1


def test_a_file_that_does_not_decode_is_rebuilt(folder: Path) -> None:
    _store(folder / "t-k.v1.lpcache", pl.DataFrame({"other": [1]}))  # sound file, another layout
    assert (folder / "t-k.v1.lpcache").exists()
    build = Builder([5])
    assert cached("t", "k", build, encode, decode) == [5]
    assert build.calls == 1


def test_an_unwritable_folder_costs_a_rebuild_not_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("the cache folder cannot be created under a file")
    monkeypatch.setenv(ENV_CACHE_DIR, str(blocker / "cache"))
    build = Builder([7])
    assert cached("t", "k", build, encode, decode) == [7]
    assert cached("t", "k", build, encode, decode) == [7]
    assert build.calls == 2
    assert blocker.read_text().startswith("the cache folder")


def test_the_file_takes_the_umask_permissions_and_no_temporary_file_stays(folder: Path) -> None:
    old = os.umask(0o022)
    try:
        cached("t", "k", Builder([1]), encode, decode)
    finally:
        os.umask(old)
    assert [p.name for p in folder.iterdir()] == ["t-k.v1.lpcache"]
    assert (folder / "t-k.v1.lpcache").stat().st_mode & 0o777 == 0o644

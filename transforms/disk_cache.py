"""An on-disk cache for tables that are slow to derive and only change with the code.

The phone fast path's lookup tables take about half a second of pure Python to derive from
phonenumbers' metadata; every process that normalises leads needs them. They are stored as one
file per name (Arrow IPC, then the SHA-256 of those bytes) in the user's cache folder
(``platformdirs.user_cache_dir("leadpipe")``, e.g. ``~/.cache/leadpipe``; ``$LEADPIPE_CACHE_DIR``
overrides it), under a key that covers everything they are derived from, so a changed key simply
makes a new file (old ones are left: another install may share the folder and still use its own).

The cache is an optimisation only: a missing, unreadable or stale file is rebuilt, and a folder
that cannot be written to (read-only home, full disk) costs the rebuild on each run, never an
error. The checksum is what makes a damaged file a rebuild rather than wrong tables: a flipped bit
inside compressed Arrow data can still decode.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import os
import secrets
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Final, TypeVar

import platformdirs
import polars as pl
from polars.exceptions import PanicException  # a BaseException: the Arrow reader's last word on some damage

log = logging.getLogger(__name__)

ENV_CACHE_DIR: Final = "LEADPIPE_CACHE_DIR"
_SUFFIX: Final = ".v1.lpcache"  # the file layout's version: another layout, another file
_DIGEST: Final = hashlib.sha256().digest_size

T = TypeVar("T")


def cache_dir() -> Path:
    """``$LEADPIPE_CACHE_DIR``, else the platform's user cache folder for leadpipe."""
    return Path(os.environ.get(ENV_CACHE_DIR) or platformdirs.user_cache_dir("leadpipe", appauthor=False))


def cache_key(parts: Iterable[str | bytes]) -> str:
    """A short hex digest of everything a cached value is derived from."""
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "little") + data)
    return digest.hexdigest()[:20]


def cached(
    name: str,
    key: str,
    build: Callable[[], T],
    encode: Callable[[T], pl.DataFrame],
    decode: Callable[[pl.DataFrame], T],
) -> T:
    """``decode`` of the stored frame for ``(name, key)``, else ``build()``, stored for next time.

    Args:
        name: what is cached (a file-name prefix: letters, digits, dashes).
        key: a digest of its inputs (:func:`cache_key`); another key is another file.
        build: derives the value (the slow step).
        encode: the value as a data frame (stored as Arrow IPC; no pickle).
        decode: the inverse of ``encode``; any exception it raises means "rebuild".
    """
    path = cache_dir() / f"{name}-{key}{_SUFFIX}"
    try:
        return decode(_load(path))
    except FileNotFoundError:
        pass
    except (Exception, PanicException) as exc:  # damaged or foreign: rebuilt, whatever the reader says
        log.warning("cache file %s is unreadable (%s); rebuilding it", path, exc)
    start = time.perf_counter()
    value = build()
    log.debug("%s built in %.2f s", name, time.perf_counter() - start)
    _store(path, encode(value))
    return value


class _Damaged(ValueError):
    """The stored bytes do not match their checksum."""


def _load(path: Path) -> pl.DataFrame:
    data = path.read_bytes()
    payload, digest = data[:-_DIGEST], data[-_DIGEST:]
    if len(data) <= _DIGEST or hashlib.sha256(payload).digest() != digest:
        raise _Damaged("checksum mismatch")
    return pl.read_ipc(io.BytesIO(payload))


def _store(path: Path, frame: pl.DataFrame) -> None:
    """Write atomically: a temporary file (the umask's permissions), then a rename."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        buffer = io.BytesIO()
        frame.write_ipc(buffer, compression="zstd")
        payload = buffer.getvalue()
        tmp.write_bytes(payload + hashlib.sha256(payload).digest())
        os.replace(tmp, path)
    except OSError as exc:
        log.debug("cannot write cache file %s (%s); it is rebuilt next time", path, exc)
    finally:
        with contextlib.suppress(OSError):  # gone after the rename; never made if the folder is not
            tmp.unlink(missing_ok=True)

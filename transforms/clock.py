"""The current time as the warehouse stores it (imports nothing from leadpipe, so any module can use it)."""

from __future__ import annotations

from datetime import datetime, timezone


def utc_now() -> datetime:
    """The current UTC time without time zone (the warehouse's convention)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)

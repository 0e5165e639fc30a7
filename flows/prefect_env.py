"""Quiet, offline-friendly Prefect defaults, applied before Prefect is imported.

With no ``PREFECT_API_URL`` a flow run starts Prefect's temporary local server (SQLite, on
loopback). Telemetry is off. The user's own environment always wins (``setdefault``).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

DEFAULTS = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_LOGGING_LEVEL": "WARNING",
    "PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW": "ignore",
    "PREFECT_SERVER_UI_ENABLED": "false",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90",
}


def apply_prefect_defaults() -> None:
    """Set leadpipe's Prefect defaults where the environment has not set them."""
    for key, value in DEFAULTS.items():
        os.environ.setdefault(key, value)
    if "PREFECT_HOME" not in os.environ:
        os.environ["PREFECT_HOME"] = str(_writable_home())
    # Prefect creates only the last level of its home; the temporary server's SQLite file lives there.
    Path(os.environ["PREFECT_HOME"]).mkdir(parents=True, exist_ok=True)


def _writable_home() -> Path:
    """``~/.leadpipe/prefect``, or a folder in the temp directory when home is not writable."""
    home = Path.home() / ".leadpipe" / "prefect"
    try:
        home.mkdir(parents=True, exist_ok=True)
        return home
    except OSError:
        return Path(tempfile.gettempdir()) / "leadpipe-prefect"

"""The one TOML configuration file: loading, validation, defaults, and `config show`.

Resolution: ``--config PATH``, else ``$LEADPIPE_CONFIG``, else built-in defaults (no file is
needed). ``--db`` / ``$LEADPIPE_DB`` override ``[warehouse] path``. Every error names the key
and says what is allowed, before any data is touched.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from flows.operations_config import InboxSettings, ScheduleSettings
from matching.configuration import DedupSettings, unread_fields
from transforms.configuration import ConvertSettings, IngestSettings, QualifySettings, RoutingSettings
from transforms.errors import ConfigError
from warehouse.configuration import WarehouseSettings

ENV_CONFIG = "LEADPIPE_CONFIG"
ENV_DB = "LEADPIPE_DB"


class LeadpipeSettings(BaseModel):
    """All settings, one section per stage."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    warehouse: WarehouseSettings = Field(default_factory=WarehouseSettings, description="The DuckDB warehouse.")
    ingest: IngestSettings = Field(default_factory=IngestSettings, description="Reading, mapping, validation.")
    dedup: DedupSettings = Field(default_factory=DedupSettings, description="Duplicate detection.")
    qualify: QualifySettings = Field(default_factory=QualifySettings, description="Scoring and grading.")
    routing: RoutingSettings = Field(default_factory=RoutingSettings, description="Owner assignment.")
    convert: ConvertSettings = Field(default_factory=ConvertSettings, description="Lead conversion.")
    inbox: InboxSettings = Field(default_factory=InboxSettings, description="The drop folder (leadpipe watch).")
    schedule: ScheduleSettings = Field(default_factory=ScheduleSettings, description="Scheduled runs (leadpipe serve).")


def _loc(loc: tuple[Any, ...]) -> str:
    """``qualify.score_rules[3].field``: list positions (0-based, as in the TOML array) in brackets."""
    return "".join(f"[{p}]" if isinstance(p, int) else (f".{p}" if i else str(p)) for i, p in enumerate(loc))


def _describe(error: dict[str, Any]) -> str:
    key = _loc(error["loc"]) or "(top level)"
    positions = [p for p in error["loc"] if isinstance(p, int)]
    if positions:  # a rule in an array: say which one in words too
        key += f" (entry {positions[-1] + 1})"
    if error["type"] == "extra_forbidden":
        return f"{key}: unknown setting"
    return f"{key}: {error['msg'].removeprefix('Value error, ')}"  # pydantic's prefix for a validator's message


def parse_settings(data: dict[str, Any], *, source: str = "configuration") -> LeadpipeSettings:
    """Validate a configuration mapping (as read from TOML)."""
    try:
        settings = LeadpipeSettings.model_validate(data)
    except ValidationError as exc:
        problems = [_describe(e) for e in exc.errors()]
        first_key = _loc(exc.errors()[0]["loc"])
        raise ConfigError(
            f"invalid {source}: " + "; ".join(problems),
            key=first_key,
            hint="run `leadpipe config show` to see every setting and its default",
        ) from exc
    # the dedup engine compares whatever columns it is given; the warehouse's runs read these
    unread = unread_fields(settings.dedup) if settings.dedup.enabled else []
    if unread:
        raise ConfigError(f"invalid {source}: " + "; ".join(f"dedup.{p}" for p in unread[:-1]) + f" ({unread[-1]})",
                          key="dedup", hint="run `leadpipe config show` to see every setting and its default")
    return settings


def load_settings(config: str | Path | None = None, db: str | Path | None = None) -> LeadpipeSettings:
    """Load and validate the configuration.

    Args:
        config: a TOML file; ``None`` uses ``$LEADPIPE_CONFIG`` or the built-in defaults.
        db: a warehouse path that overrides the file (``--db``); ``None`` uses ``$LEADPIPE_DB``.
    """
    path = config or os.environ.get(ENV_CONFIG) or None
    data: dict[str, Any] = {}
    if path:
        file = Path(path)
        if not file.is_file():
            raise ConfigError(f"configuration file not found: {file}", hint=f"check --config or ${ENV_CONFIG}")
        try:
            data = tomllib.loads(file.read_text("utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{file} is not valid TOML: {exc}") from exc
        except UnicodeDecodeError as exc:
            raise ConfigError(f"{file} is not UTF-8 text") from exc
    settings = parse_settings(data, source=str(path) if path else "configuration")
    db_override = db or os.environ.get(ENV_DB)
    if db_override:
        settings = settings.model_copy(update={"warehouse": settings.warehouse.model_copy(update={"path": str(db_override)})})
    return settings


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_toml_value(v)}" for k, v in value.items() if v is not None) + " }"
    raise TypeError(type(value))


def _key(key: str) -> str:
    return key if key.replace("_", "").isalnum() else _toml_value(key)


def settings_to_toml(settings: LeadpipeSettings) -> str:
    """The effective configuration as TOML (valid input for ``--config``)."""
    lines: list[str] = []
    for section, model in settings:
        lines.append(f"[{section}]")
        tables: list[str] = []
        for key, value in model.model_dump(mode="json").items():
            if value is None:
                lines.append(f"# {key} = (not set)")
            elif isinstance(value, list) and value and isinstance(value[0], dict):
                for item in value:
                    tables.append(f"\n[[{section}.{key}]]")
                    tables.extend(f"{_key(k)} = {_toml_value(v)}" for k, v in item.items() if v is not None)
            else:
                lines.append(f"{key} = {_toml_value(value)}")
        lines.extend(tables)
        lines.append("")
    return "\n".join(lines)

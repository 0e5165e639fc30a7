"""Typed settings of operations: the drop folder (`[inbox]`) and scheduled runs (`[schedule]`)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

#: Names a drop folder never picks up: files still being written or copied, editor and OS litter.
DEFAULT_IGNORE = (".*", "~$*", "*~", "*.part", "*.partial", "*.tmp", "*.crdownload", "*.download", "*.filepart")


class InboxSettings(BaseModel):
    """The drop folder: files put into it are processed by `leadpipe watch` or the served poll."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str = Field("inbox", description="Drop folder; processing/, processed/ and failed/ are created inside it.")
    poll_seconds: float = Field(60.0, gt=0, le=86400, description="How often the folder is looked at.")
    stable_seconds: float = Field(
        5.0, ge=0, le=3600, description="A file is picked up only when its size and mtime stayed the same this long."
    )
    max_attempts: int = Field(
        2, ge=1, le=20, description="A file whose run was killed this many times goes to failed/ instead of being retried."
    )
    ignore: tuple[str, ...] = Field(
        DEFAULT_IGNORE, description="Glob patterns of file names never picked up (temporary and hidden files)."
    )


class ScheduleSettings(BaseModel):
    """What `leadpipe serve` schedules against a Prefect server."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    import_path: str | None = Field(
        None, description="Path or glob of the files of the nightly bulk import, e.g. '/data/exports/*.csv' (unset: no nightly import)."
    )
    import_cron: str = Field("0 2 * * *", description="Cron expression of the bulk import (minute hour day month weekday).")
    import_kind: str | None = Field(None, description="Source kind of the bulk import's files (default: from rules / file name).")
    timezone: str = Field("UTC", description="Time zone of the cron expression (IANA name, e.g. 'Europe/Berlin').")
    serve_inbox: bool = Field(True, description="Also serve the drop-folder poll on an interval of [inbox] poll_seconds.")
    lock_wait_seconds: float = Field(
        3600.0, ge=0, description="How long a scheduled or drop-folder run waits for another run's lock (0: fail at once)."
    )

    @field_validator("import_cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        if len(value.split()) != 5:
            raise ValueError("must be a 5-field cron expression, e.g. '0 2 * * *' (02:00 every day)")
        return value

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}; use an IANA name such as 'UTC' or 'Europe/Berlin'") from exc
        return value

    @field_validator("import_kind")
    @classmethod
    def _kind(cls, value: str | None) -> str | None:
        from transforms.schema import SOURCE_KINDS

        if value is not None and value not in SOURCE_KINDS:
            raise ValueError(f"must be one of {', '.join(SOURCE_KINDS)}")
        return value

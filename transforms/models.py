"""The base class of every configuration model (imports nothing from leadpipe, so any module can use it)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    """Base for settings: unknown keys are errors, values (defaults too) are validated, models are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

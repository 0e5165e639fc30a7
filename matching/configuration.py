"""Typed settings of the matching stage."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class DedupSettings(BaseModel):
    """Which deterministic rules link two leads (the first, thin version of matching)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = Field(True, description="Run duplicate detection at all.")
    match_email: bool = Field(True, description="Same normalised email links two leads.")
    match_name_phone: bool = Field(
        True, description="Same first name, last name (case-insensitive) and E.164 phone link two leads."
    )

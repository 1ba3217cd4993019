"""What the alerts API reads and writes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class AlertOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    rule: str
    severity: str = Field(description="info, warning or critical")
    title: str
    title_en: str
    source: str = Field(description="the entity id, or feedback:<request id>")
    source_type: str
    place_code: str | None
    agency_code: str | None
    lat: float | None
    lon: float | None
    details: dict[str, Any]
    status: str = Field(description="open, acknowledged or resolved")
    count: int = Field(description="how many times the rule triggered while it was active")
    raised_at: dt.datetime
    last_seen: dt.datetime
    acknowledged_at: dt.datetime | None
    acknowledged_by: str | None
    acknowledged_note: str | None
    resolved_at: dt.datetime | None
    resolved_by: str | None
    resolved_note: str | None


class AlertAction(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(default=None, max_length=2000)


class AlertCounts(BaseModel):
    """Active (open or acknowledged) alerts in scope, by severity."""

    info: int
    warning: int
    critical: int


class RuleOut(BaseModel):
    code: str
    name: str
    name_en: str
    follows: list[str]
    raises: str
    clears: str
    enabled: bool

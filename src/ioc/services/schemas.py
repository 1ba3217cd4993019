"""Request and response models of the public-services API."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Status = Literal[
    "received", "processing", "supplement_requested", "completed", "rejected", "withdrawn"
]


class ProcedureOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    name_en: str
    sector: str
    agency_code: str
    tier: str
    online_level: str
    legacy_level: int
    processing_days: int
    fee: int
    postal_return: bool


class DossierOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    procedure_code: str
    agency_code: str
    current_agency: str
    place_code: str
    district_code: str | None
    channel: str
    status: str
    received_at: dt.datetime
    due_at: dt.datetime
    paused_days: int
    completed_at: dt.datetime | None
    on_time: bool | None
    delivery: str | None
    rating: int | None


class StepOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    at: dt.datetime
    action: str
    from_agency: str | None
    to_agency: str | None
    status_from: str | None
    status_to: str | None
    note: str
    actor: str


class DossierDetail(DossierOut):
    steps: list[StepOut]


class DossierCreate(BaseModel):
    code: str = Field(min_length=1, max_length=40)
    procedure_code: str
    place_code: str
    channel: Literal["online", "one_stop_desk", "post"]
    received_at: dt.datetime | None = None
    agency_code: str | None = None


class Transition(BaseModel):
    status: Status
    note: str = Field(default="", max_length=2000)
    delivery: Literal["desk", "post", "online"] | None = None
    rating: int | None = Field(default=None, ge=1, le=5)


class HandOff(BaseModel):
    to_agency: str
    note: str = Field(default="", max_length=2000)


class MeasureOut(BaseModel):
    key: str | None
    name: str | None
    received: int
    resolved: int
    on_time: int
    late: int
    in_progress: int
    on_time_pct: float | None


class MeasuresReport(BaseModel):
    by: str
    start: dt.date
    end: dt.date
    groups: list[MeasureOut]


class RowErrorOut(BaseModel):
    row: int
    field: str
    message: str


class ImportReportOut(BaseModel):
    received: int
    created: int
    updated: int
    skipped: int
    rejected: int
    dry_run: bool
    errors: list[RowErrorOut]

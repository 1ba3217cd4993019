"""Pydantic shapes of the feedback API: the staff queue, tracking, imports and measures."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from ioc.feedback.service import MAX_DESCRIPTION

NOTE_LENGTH = 4000


class Contact(BaseModel):
    """Who reported it: for staff whose scope covers the request, never in public answers."""

    first_name: str | None
    last_name: str | None
    email: str | None
    phone: str | None


class Escalation(BaseModel):
    level: int = Field(description="0 = not escalated; 1 = raised once, …")
    to: str | None = Field(description="the agency asked to follow it up")
    at: dt.datetime | None


class FeedbackItem(BaseModel):
    """A request as staff see it in the queue."""

    id: int
    service_code: str
    service_name: str
    channel: str
    external_id: str | None
    status: str
    status_notes: str | None
    description: str
    lat: float | None
    lon: float | None
    address: str | None
    media_url: str | None
    attributes: dict[str, Any]
    place_code: str | None
    agency_code: str | None
    requested_at: dt.datetime
    updated_at: dt.datetime
    expected_at: dt.datetime | None = Field(description="due: end of the SLA's last working day")
    settled_at: dt.datetime | None
    overdue: bool = Field(description="still open after its due time (computed now)")
    duplicate_of: int | None
    likely_duplicate_of: int | None
    escalation: Escalation
    rating: int | None
    rating_comment: str | None
    contact: Contact
    created_by: str


class NoteOut(BaseModel):
    """One line of the timeline."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    at: dt.datetime
    actor: str
    kind: str = Field(description="status, assign, note or escalate")
    public: bool
    text: str
    status_from: str | None
    status_to: str | None
    agency_from: str | None
    agency_to: str | None


class FeedbackDetail(FeedbackItem):
    timeline: list[NoteOut]


class StatusChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: str = Field(description="assigned, in_progress, resolved, closed, rejected, duplicate")
    note: str = Field(default="", max_length=NOTE_LENGTH, description="required to reject")
    public: bool = Field(default=True, description="show the note to the citizen")
    duplicate_of: int | None = Field(default=None, description="required for duplicate")


class Assignment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    agency_code: str = Field(min_length=1, max_length=32)
    note: str = Field(default="", max_length=NOTE_LENGTH)


class NoteCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=NOTE_LENGTH)
    public: bool = Field(default=False, description="internal unless set")


class HotlineCall(BaseModel):
    """What an operator notes down from a call (or a text, a Zalo message, a letter)."""

    model_config = ConfigDict(extra="forbid")

    channel: Literal["hotline", "sms", "zalo", "email", "petition"] = "hotline"
    service_code: str = Field(min_length=1, max_length=32)
    description: str = Field(min_length=1, max_length=MAX_DESCRIPTION)
    lat: float | None = None
    lon: float | None = None
    address: str | None = Field(default=None, max_length=400)
    attributes: dict[str, Any] = Field(default_factory=dict)
    first_name: str | None = Field(default=None, max_length=100)
    last_name: str | None = Field(default=None, max_length=100)
    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=200)
    requested_at: AwareDatetime | None = Field(default=None, description="default: now")


class Created(BaseModel):
    request: FeedbackItem
    token: str = Field(description="give it to the citizen: it tracks and rates the request")
    likely_duplicate_of: int | None


class TrackedNote(BaseModel):
    at: dt.datetime
    text: str
    status_from: str | None
    status_to: str | None


class Tracked(BaseModel):
    """What the holder of a request's token may see: no contact data, no internal notes."""

    id: int
    service_code: str
    service_name: str
    status: str
    status_notes: str | None
    description: str
    address: str | None
    lat: float | None
    lon: float | None
    place_code: str | None
    agency_code: str | None
    requested_at: dt.datetime
    updated_at: dt.datetime
    expected_at: dt.datetime | None
    settled_at: dt.datetime | None
    duplicate_of: int | None
    rating: int | None
    rating_comment: str | None
    notes: list[TrackedNote]


class RatingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rating: int = Field(ge=1, le=5, description="1 very unhappy … 5 very happy")
    comment: str | None = Field(default=None, max_length=2000)


class RowErrorOut(BaseModel):
    row: int = Field(description="1 = the first row after the header (or of the JSON array)")
    field: str
    message: str


class CreatedRow(BaseModel):
    row: int
    id: int
    token: str


class SkippedRow(BaseModel):
    row: int
    id: int | None = Field(description="the request already holding this channel + external_id")


class ImportReportOut(BaseModel):
    received: int
    stored: int = Field(description="rows stored (in a dry run: that would be stored)")
    skipped: int = Field(description="rows already imported before (same channel + external_id)")
    rejected: int
    dry_run: bool
    errors: list[RowErrorOut]
    created: list[CreatedRow]
    already_imported: list[SkippedRow]


class MeasuresOut(BaseModel):
    received: int
    settled: int
    settled_pct: float | None
    on_time_pct: float | None = Field(description="settled by the due time, of those settled")
    satisfaction_pct: float | None = Field(description="rated 4 or 5, of those rated")
    rated: int
    median_hours_to_settle: float | None
    median_working_days_to_settle: float | None
    overdue_open: int = Field(description="still open and past due now")


class MeasuresGroup(MeasuresOut):
    key: str | None
    name: str


class MeasuresReport(BaseModel):
    by: str
    period: str | None
    start: dt.date | None = Field(serialization_alias="from")
    end: dt.date | None = Field(serialization_alias="to")
    generated_at: dt.datetime
    total: MeasuresOut
    groups: list[MeasuresGroup]

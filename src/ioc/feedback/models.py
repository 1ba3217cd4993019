"""Tables of citizen feedback: the service catalogue, the requests, and each request's timeline."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ioc.core.db import Base, utcnow
from ioc.core.models import ACTOR_LENGTH, BigId

CHANNELS = ("open311", "web", "app", "hotline", "sms", "zalo", "email", "petition")
STATUSES = ("received", "assigned", "in_progress", "resolved", "closed", "rejected", "duplicate")
OPEN_STATUSES = frozenset({"received", "assigned", "in_progress"})
SETTLED_STATUSES = frozenset({"resolved", "closed", "rejected", "duplicate"})
# The WHERE of the partial index on open requests; queries must spell it the same way (the
# statuses as literals, in this order) for SQLite to use the index.
OPEN_WHERE = "status IN ('assigned', 'in_progress', 'received')"
ROUTES = ("department", "district", "commune")
EXTERNAL_ID_LENGTH = 100


class FeedbackService(Base):
    """A category citizens can report under (an Open311 service), with its owner and SLA."""

    __tablename__ = "feedback_services"
    __refdata__ = "catalogue_version"  # copied into memory by ioc.feedback.rules

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    group: Mapped[str] = mapped_column(String(120))
    group_en: Mapped[str] = mapped_column(String(120))
    keywords: Mapped[str] = mapped_column(String(400), default="")
    agency_code: Mapped[str | None] = mapped_column(ForeignKey("agencies.code"))
    route_to: Mapped[str] = mapped_column(String(16), default="department")
    sla_days: Mapped[int] = mapped_column(Integer)
    attributes: Mapped[list[Any]] = mapped_column(default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class FeedbackRequest(Base):
    """One piece of feedback, from whichever channel, followed until it is settled and rated."""

    __tablename__ = "feedback_requests"
    __audit_secret__ = ("token_hash",)
    __table_args__ = (
        Index("ix_feedback_requests_requested", "requested_at"),
        Index("ix_feedback_requests_service_requested", "service_code", "requested_at"),
        Index("ix_feedback_requests_status_requested", "status", "requested_at"),
        # An imported message's id in its source system, so importing it again changes nothing.
        # A unique index rather than a constraint: adding it needs no SQLite table rebuild.
        Index("ix_feedback_requests_channel_external_id", "channel", "external_id", unique=True),
        # Likely duplicates: the open requests of one service near a point, in a window. By
        # latitude first, so a lookup reads a narrow band of the province, however many reports
        # the window holds; longitude and time are checked in the index, not in the rows.
        Index(
            "ix_feedback_requests_open_service_position",
            "service_code",
            "lat",
            "lon",
            "requested_at",
            sqlite_where=text(OPEN_WHERE),
            postgresql_where=text(OPEN_WHERE),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    service_code: Mapped[str] = mapped_column(ForeignKey("feedback_services.code"))
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str | None] = mapped_column(String(EXTERNAL_ID_LENGTH))
    description: Mapped[str] = mapped_column(Text, default="")
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    address: Mapped[str | None] = mapped_column(String(400))
    address_id: Mapped[str | None] = mapped_column(String(100))
    media_url: Mapped[str | None] = mapped_column(String(1000))
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    place_code: Mapped[str | None] = mapped_column(ForeignKey("places.code"), index=True)
    agency_code: Mapped[str | None] = mapped_column(ForeignKey("agencies.code"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="received")
    status_notes: Mapped[str | None] = mapped_column(Text)
    requested_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    expected_at: Mapped[dt.datetime | None] = mapped_column()
    settled_at: Mapped[dt.datetime | None] = mapped_column()
    duplicate_of: Mapped[int | None] = mapped_column(ForeignKey("feedback_requests.id"))
    likely_duplicate_of: Mapped[int | None] = mapped_column(BigId)
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    escalated_to: Mapped[str | None] = mapped_column(ForeignKey("agencies.code"))
    escalated_at: Mapped[dt.datetime | None] = mapped_column()
    rating: Mapped[int | None] = mapped_column(Integer)
    rating_comment: Mapped[str | None] = mapped_column(Text)
    rated_at: Mapped[dt.datetime | None] = mapped_column()
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Contact details: never in public responses, only for staff whose scope covers the request.
    first_name: Mapped[str | None] = mapped_column(String(100))
    last_name: Mapped[str | None] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    device_id: Mapped[str | None] = mapped_column(String(200))
    account_id: Mapped[str | None] = mapped_column(String(200))
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id", ondelete="SET NULL"))
    created_by: Mapped[str] = mapped_column(String(ACTOR_LENGTH), default="system")

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class FeedbackNote(Base):
    """One line of a request's timeline: status change, reassignment, public or internal note."""

    __tablename__ = "feedback_notes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("feedback_requests.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(ACTOR_LENGTH))
    kind: Mapped[str] = mapped_column(String(16))
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    text: Mapped[str] = mapped_column(Text, default="")
    status_from: Mapped[str | None] = mapped_column(String(16))
    status_to: Mapped[str | None] = mapped_column(String(16))
    agency_from: Mapped[str | None] = mapped_column(String(32))
    agency_to: Mapped[str | None] = mapped_column(String(32))

    # Lets a new request and its first note be written in one flush (the id is known only then).
    request: Mapped[FeedbackRequest] = relationship()

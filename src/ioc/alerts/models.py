"""The alerts table: one row per incident, open until resolved (by an operator or its rule)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from ioc.core.db import Base, utcnow
from ioc.core.models import ACTOR_LENGTH, BigId

SEVERITIES = ("info", "warning", "critical")
STATUSES = ("open", "acknowledged", "resolved")
ACTIVE_STATUSES = ("open", "acknowledged")
# The partial unique index's WHERE: one active alert per rule and source.
ACTIVE_WHERE = "status IN ('open', 'acknowledged')"


class Alert(Base):
    """An incident a rule raised from events; repeated triggers bump ``count`` and ``last_seen``."""

    __tablename__ = "alerts"
    __table_args__ = (
        Index(
            "ux_alerts_active_rule_source",
            "rule",
            "source",
            unique=True,
            sqlite_where=text(ACTIVE_WHERE),
            postgresql_where=text(ACTIVE_WHERE),
        ),
        Index("ix_alerts_status_raised", "status", "raised_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    rule: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(10))
    title: Mapped[str] = mapped_column(String(300))
    title_en: Mapped[str] = mapped_column(String(300))
    source: Mapped[str] = mapped_column(String(200))  # an entity id, "feedback:123"…
    source_type: Mapped[str] = mapped_column(String(32))  # entity, feedback
    place_code: Mapped[str | None] = mapped_column(ForeignKey("places.code"), index=True)
    agency_code: Mapped[str | None] = mapped_column(String(32))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(12), default="open")
    count: Mapped[int] = mapped_column(Integer, default=1)
    raised_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_seen: Mapped[dt.datetime] = mapped_column(default=utcnow)
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column()
    acknowledged_by: Mapped[str | None] = mapped_column(String(ACTOR_LENGTH))
    acknowledged_note: Mapped[str | None] = mapped_column(Text)
    resolved_at: Mapped[dt.datetime | None] = mapped_column()
    resolved_by: Mapped[str | None] = mapped_column(String(ACTOR_LENGTH))
    resolved_note: Mapped[str | None] = mapped_column(Text)

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_STATUSES

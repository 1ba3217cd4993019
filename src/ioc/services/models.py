"""Tables of public services: the procedure catalogue, the dossiers and each dossier's steps."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ioc.core.db import Base, utcnow
from ioc.core.models import ACTOR_LENGTH, BigId

CHANNELS = ("online", "one_stop_desk", "post")
DELIVERIES = ("desk", "post", "online")
STATUSES = ("received", "processing", "supplement_requested", "completed", "rejected", "withdrawn")
OPEN_STATUSES = frozenset({"received", "processing", "supplement_requested"})
FINAL_STATUSES = frozenset({"completed", "rejected", "withdrawn"})
ONLINE_LEVELS = ("partial_online", "full_online")
TIERS = ("province", "district", "commune")  # which government level handles the dossier
CODE_LENGTH = 40


class ServiceProcedure(Base):
    """An administrative procedure citizens can file (a thủ tục hành chính), with its legal SLA."""

    __tablename__ = "service_procedures"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    name_en: Mapped[str] = mapped_column(String(300))
    sector: Mapped[str] = mapped_column(String(32), index=True)
    agency_code: Mapped[str] = mapped_column(ForeignKey("agencies.code"))
    tier: Mapped[str] = mapped_column(String(16), default="province")
    online_level: Mapped[str] = mapped_column(String(16))
    legacy_level: Mapped[int] = mapped_column(SmallInteger)
    processing_days: Mapped[int] = mapped_column(Integer)
    fee: Mapped[int] = mapped_column(Integer, default=0)  # VND
    postal_return: Mapped[bool] = mapped_column(Boolean, default=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Dossier(Base):
    """One application (hồ sơ) from receipt to result; ``district_code`` speeds up rollups."""

    __tablename__ = "dossiers"
    __table_args__ = (
        Index("ix_dossiers_received", "received_at"),
        Index("ix_dossiers_completed_district", "completed_at", "district_code", "on_time"),
        Index("ix_dossiers_agency_received", "agency_code", "received_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(CODE_LENGTH), unique=True)
    procedure_code: Mapped[str] = mapped_column(ForeignKey("service_procedures.code"))
    agency_code: Mapped[str] = mapped_column(String(32))
    current_agency: Mapped[str] = mapped_column(String(32))
    place_code: Mapped[str] = mapped_column(String(10), index=True)
    district_code: Mapped[str | None] = mapped_column(String(10))
    channel: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(24))
    received_at: Mapped[dt.datetime] = mapped_column()
    due_at: Mapped[dt.datetime] = mapped_column()
    paused_at: Mapped[dt.datetime | None] = mapped_column()
    paused_days: Mapped[int] = mapped_column(Integer, default=0)
    completed_at: Mapped[dt.datetime | None] = mapped_column()
    on_time: Mapped[bool | None] = mapped_column(Boolean)
    delivery: Mapped[str | None] = mapped_column(String(8))
    rating: Mapped[int | None] = mapped_column(SmallInteger)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class DossierStep(Base):
    """One step of a dossier's path: receipt, each hand-off between agencies, each status change."""

    __tablename__ = "dossier_steps"
    __audit__ = False  # the dossier's own audit rows and events already record each change

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    dossier_id: Mapped[int] = mapped_column(
        ForeignKey("dossiers.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[dt.datetime] = mapped_column()
    action: Mapped[str] = mapped_column(String(24))
    from_agency: Mapped[str | None] = mapped_column(String(32))
    to_agency: Mapped[str | None] = mapped_column(String(32))
    status_from: Mapped[str | None] = mapped_column(String(24))
    status_to: Mapped[str | None] = mapped_column(String(24))
    note: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(ACTOR_LENGTH), default="system")


class DossierDaily(Base):
    """Resolved and on-time dossiers per local day and commune, kept up to date on every write.

    The on-time question ("by district for a quarter") reads ~90 rows per commune here
    instead of every dossier of the quarter; ``ioc.services.daily`` maintains it.
    """

    __tablename__ = "dossier_daily"
    __audit__ = False  # derived from the dossiers, which are audited

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    place_code: Mapped[str] = mapped_column(String(10), primary_key=True)
    district_code: Mapped[str | None] = mapped_column(String(10))
    resolved: Mapped[int] = mapped_column(Integer, default=0)
    on_time: Mapped[int] = mapped_column(Integer, default=0)

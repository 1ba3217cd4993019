"""Tables of the indicators capability: catalogue, targets, values, documents, deliveries."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ioc.core.db import Base, utcnow
from ioc.core.models import ACTOR_LENGTH, BigId

KINDS = ("computed", "reported")
LEVELS = ("province", "district", "commune")
PERIOD_KINDS = ("day", "month", "quarter", "year")
ROLLUPS = ("sum", "mean", "ratio")
STATUSES = ("draft", "submitted", "approved", "returned", "computed")


class Indicator(Base):
    """What is measured, how finely (level, period), and which way is better."""

    __tablename__ = "indicators"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    domain: Mapped[str] = mapped_column(String(32), index=True)
    unit: Mapped[str] = mapped_column(String(32))
    level: Mapped[str] = mapped_column(String(10))
    period: Mapped[str] = mapped_column(String(10))
    higher_is_better: Mapped[bool] = mapped_column(Boolean, default=True)
    kind: Mapped[str] = mapped_column(String(10))
    computation: Mapped[str | None] = mapped_column(String(48))
    rollup: Mapped[str] = mapped_column(String(8), default="sum")
    agency_code: Mapped[str | None] = mapped_column(ForeignKey("agencies.code"), index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class IndicatorTarget(Base):
    """A year's target; the light is green at ``green`` % attainment or more, amber at ``amber``."""

    __tablename__ = "indicator_targets"
    __table_args__ = (UniqueConstraint("indicator_code", "year"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    indicator_code: Mapped[str] = mapped_column(
        ForeignKey("indicators.code", ondelete="CASCADE"), index=True
    )
    year: Mapped[int] = mapped_column(Integer)
    target: Mapped[float] = mapped_column(Float)
    green: Mapped[float] = mapped_column(Float, default=100.0)
    amber: Mapped[float] = mapped_column(Float, default=90.0)
    source: Mapped[str] = mapped_column(String(200), default="")


class IndicatorValue(Base):
    """One indicator's value for one place and period; ratios keep their parts to roll up."""

    __tablename__ = "indicator_values"
    __table_args__ = (UniqueConstraint("indicator_code", "place_code", "period"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    indicator_code: Mapped[str] = mapped_column(
        ForeignKey("indicators.code", ondelete="CASCADE"), index=True
    )
    place_code: Mapped[str] = mapped_column(ForeignKey("places.code"), index=True)
    period: Mapped[str] = mapped_column(String(10), index=True)
    agency_code: Mapped[str | None] = mapped_column(String(32))
    value: Mapped[float | None] = mapped_column(Float)
    numerator: Mapped[float | None] = mapped_column(Float)
    denominator: Mapped[float | None] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(12))
    note: Mapped[str] = mapped_column(Text, default="")
    review_note: Mapped[str] = mapped_column(Text, default="")
    entered_by: Mapped[str | None] = mapped_column(String(ACTOR_LENGTH))
    reviewed_by: Mapped[str | None] = mapped_column(String(ACTOR_LENGTH))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class OfficialDocument(Base):
    """An outgoing official document, and whether it was e-signed and the signature verified."""

    __tablename__ = "official_documents"
    __table_args__ = (UniqueConstraint("agency_code", "number"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(64))
    issued_on: Mapped[dt.date] = mapped_column(Date, index=True)
    agency_code: Mapped[str] = mapped_column(ForeignKey("agencies.code"), index=True)
    place_code: Mapped[str | None] = mapped_column(ForeignKey("places.code"), index=True)
    title: Mapped[str] = mapped_column(String(300), default="")
    signed: Mapped[bool] = mapped_column(Boolean, default=False)
    signature_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ReportDelivery(Base):
    """One push of a period's values to the national reporting endpoint, and how it went."""

    __tablename__ = "indicator_deliveries"
    __audit__ = False

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    period: Mapped[str] = mapped_column(String(10), index=True)
    target_url: Mapped[str] = mapped_column(String(500))
    digest: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(12))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    response_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[dt.datetime | None] = mapped_column()

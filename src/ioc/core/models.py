"""Tables of the core: places, agencies, users, API keys, the audit log and the event outbox."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ioc.core.db import Base, utcnow

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
BigId = BigInteger().with_variant(Integer(), "sqlite")

PLACE_LEVELS = ("province", "district", "commune")
ACTOR_LENGTH = 120  # audit rows and events name who acted in at most this many characters
AGENCY_KEY_LENGTH = 400
ROLES = (
    "admin",
    "leader",
    "operator",
    "agency_staff",
    "district_admin",
    "citizen",
    "device",
    "connector",
)


class Meta(Base):
    """Facts about this database: which place tree it holds, the development signing key."""

    __tablename__ = "ioc_meta"
    __audit__ = False

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Place(Base):
    """An administrative unit: province, district or commune/ward (official GSO code)."""

    __tablename__ = "places"
    __audit__ = False  # reference data, loaded in bulk; the load itself is audited once
    __refdata__ = "places_version"  # copied into memory by ioc.core.place_index

    code: Mapped[str] = mapped_column(String(10), primary_key=True)
    tree: Mapped[str] = mapped_column(String(8))
    level: Mapped[str] = mapped_column(String(10))
    kind: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(128))
    short_name: Mapped[str] = mapped_column(String(96))
    search_key: Mapped[str] = mapped_column(String(256), index=True)
    parent_code: Mapped[str | None] = mapped_column(
        ForeignKey("places.code", ondelete="RESTRICT"), index=True
    )
    path: Mapped[str] = mapped_column(String(64), index=True)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    min_lon: Mapped[float | None] = mapped_column(Float)
    min_lat: Mapped[float | None] = mapped_column(Float)
    max_lon: Mapped[float | None] = mapped_column(Float)
    max_lat: Mapped[float | None] = mapped_column(Float)
    area_km2: Mapped[float | None] = mapped_column(Float)
    boundary: Mapped[dict[str, Any] | None] = mapped_column(comment="GeoJSON geometry")


class Agency(Base):
    """A department, a people's committee or a service provider that owns work."""

    __tablename__ = "agencies"
    __refdata__ = "agencies_version"  # codes copied into memory by ioc.core.agencies

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32), index=True)
    place_code: Mapped[str | None] = mapped_column(ForeignKey("places.code"), index=True)
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("agencies.code"))
    email: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    search_key: Mapped[str] = mapped_column(String(AGENCY_KEY_LENGTH), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class UserAgency(Base):
    """An agency inside a user's scope."""

    __tablename__ = "user_agencies"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    agency_code: Mapped[str] = mapped_column(ForeignKey("agencies.code"), primary_key=True)


class User(Base):
    """A person who logs in; roles say what they may do, place and agencies say where."""

    __tablename__ = "users"
    __audit_secret__ = ("password_hash",)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    password_hash: Mapped[str] = mapped_column(String(255))
    roles: Mapped[list[str]] = mapped_column(default=list)
    place_code: Mapped[str | None] = mapped_column(ForeignKey("places.code"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    token_version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column()

    agency_links: Mapped[list[UserAgency]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def agency_codes(self) -> list[str]:
        return sorted(link.agency_code for link in self.agency_links)


class ApiKey(Base):
    """A machine credential: only a SHA-256 of the secret is kept."""

    __tablename__ = "api_keys"
    __audit_secret__ = ("key_hash",)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(120))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    roles: Mapped[list[str]] = mapped_column(default=list)
    place_code: Mapped[str | None] = mapped_column(ForeignKey("places.code"), index=True)
    agency_codes: Mapped[list[str]] = mapped_column(default=list)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime | None] = mapped_column()
    revoked_at: Mapped[dt.datetime | None] = mapped_column()


class AuditEntry(Base):
    """One audited write: who did what to which row, with the row before and after."""

    __tablename__ = "audit_log"
    __audit__ = False
    __table_args__ = (Index("ix_audit_log_entity", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(ACTOR_LENGTH), index=True)
    action: Mapped[str] = mapped_column(String(16))
    entity: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str] = mapped_column(String(120))
    place_code: Mapped[str | None] = mapped_column(String(10), index=True)
    before: Mapped[dict[str, Any] | None] = mapped_column()
    after: Mapped[dict[str, Any] | None] = mapped_column()
    request_id: Mapped[str | None] = mapped_column(String(64))


class OutboxEvent(Base):
    """A domain event written in the same transaction as the change it announces."""

    __tablename__ = "events"
    __audit__ = False
    __table_args__ = (
        Index(
            "ix_events_unpublished",
            "id",
            sqlite_where=text("published_at IS NULL"),
            postgresql_where=text("published_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(36))
    type: Mapped[str] = mapped_column(String(96), index=True)
    time: Mapped[dt.datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(ACTOR_LENGTH))
    place_code: Mapped[str | None] = mapped_column(String(10), index=True)
    subject: Mapped[str | None] = mapped_column(String(200))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    published_at: Mapped[dt.datetime | None] = mapped_column()

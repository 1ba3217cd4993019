"""Tables of the device ingest: the device registry, commands sent down, dead letters."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ioc.context.models import ID_LENGTH, TENANT_LENGTH
from ioc.core.db import Base, utcnow

BigId = BigInteger().with_variant(Integer(), "sqlite")
DEVICE_ID_LENGTH = 128
APIKEY_LENGTH = 64
PROTOCOLS = ("mqtt", "http")
COMMAND_STATUSES = ("PENDING", "SENT", "OK", "ERROR", "EXPIRED")


class Device(Base):
    """A registered device: where its measurements go and which commands it takes.

    ``apikey`` is the IoT Agent "service group" key that prefixes its topics; ``attributes``
    lists ``{"object_id", "name", "type"}`` (short device name → NGSI-LD name and type).
    """

    __tablename__ = "ingest_devices"
    __refdata__ = "ingest_devices_version"  # the bridge keeps the registry in memory
    __table_args__ = (Index("ix_ingest_devices_apikey", "apikey", "device_id"),)

    device_id: Mapped[str] = mapped_column(String(DEVICE_ID_LENGTH), primary_key=True)
    apikey: Mapped[str] = mapped_column(String(APIKEY_LENGTH))
    tenant: Mapped[str] = mapped_column(String(TENANT_LENGTH), default="default")
    entity_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    entity_type: Mapped[str] = mapped_column(String(ID_LENGTH))
    attributes: Mapped[list[Any]] = mapped_column(default=list)
    commands: Mapped[list[str]] = mapped_column(default=list)
    place_code: Mapped[str | None] = mapped_column(ForeignKey("places.code"), index=True)
    protocol: Mapped[str] = mapped_column(String(16), default="mqtt")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Command(Base):
    """A command sent to a device: PENDING → SENT → OK / ERROR / EXPIRED."""

    __tablename__ = "ingest_commands"
    __table_args__ = (Index("ix_ingest_commands_device", "device_id", "status"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    device_id: Mapped[str] = mapped_column(String(DEVICE_ID_LENGTH))
    name: Mapped[str] = mapped_column(String(128))
    value: Mapped[dict[str, Any]] = mapped_column(default=dict)  # {"value": the value sent}
    status: Mapped[str] = mapped_column(String(16), default="PENDING", index=True)
    info: Mapped[str] = mapped_column(Text, default="")  # what the device answered, or why
    actor: Mapped[str] = mapped_column(String(120))
    place_code: Mapped[str | None] = mapped_column(String(10), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column()
    done_at: Mapped[dt.datetime | None] = mapped_column()
    expires_at: Mapped[dt.datetime] = mapped_column()


class DeadLetter(Base):
    """A message the bridge could not take, kept with the reason instead of stopping."""

    __tablename__ = "ingest_dead_letters"
    __audit__ = False

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    topic: Mapped[str] = mapped_column(String(512))
    payload: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    device_id: Mapped[str | None] = mapped_column(String(DEVICE_ID_LENGTH), index=True)
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)

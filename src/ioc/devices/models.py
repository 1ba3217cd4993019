"""Tables of the smart-city devices: camera analytics events, streetlight operations and faults.

Cameras, lights, groups and cabinets themselves are NGSI-LD entities in the broker; these
tables keep what happens to them, with the commune each happened in (``place_code``) so
queries are filtered by scope like every other record.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ioc.context.models import ID_LENGTH, TENANT_LENGTH
from ioc.core.db import Base, utcnow
from ioc.core.models import ACTOR_LENGTH, BigId

EVENT_KINDS = ("vehicle_count", "traffic_violation", "congestion", "crowding", "fire", "smoke")
SEVERITY = {
    "vehicle_count": "info",
    "traffic_violation": "low",
    "congestion": "medium",
    "crowding": "medium",
    "fire": "high",
    "smoke": "high",
}
FAULT_KINDS = ("no_power", "no_heartbeat", "on_in_daylight")


class CameraEvent(Base):
    """One analytics event a camera reported (a count, a violation, fire…), where it happened."""

    __tablename__ = "device_camera_events"
    __audit__ = False  # a stream of observations: the camera.* events on the bus record them
    __table_args__ = (
        Index("ix_device_camera_events_camera_time", "camera_id", "occurred_at"),
        Index("ix_device_camera_events_kind_time", "kind", "occurred_at"),
        Index("ix_device_camera_events_place_time", "place_code", "occurred_at"),
        # A camera's own event id, so a batch sent twice is stored once.
        Index("ix_device_camera_events_external", "camera_id", "external_id", unique=True),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant: Mapped[str] = mapped_column(String(TENANT_LENGTH), default="default")
    camera_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    external_id: Mapped[str | None] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(16))
    occurred_at: Mapped[dt.datetime] = mapped_column()
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    place_code: Mapped[str | None] = mapped_column(String(10))
    agency_code: Mapped[str | None] = mapped_column(String(32))
    count: Mapped[int | None] = mapped_column(Integer)
    confidence: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    snapshot_url: Mapped[str | None] = mapped_column(String(1000))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)


class StreetlightOperation(Base):
    """A switch, dim or schedule order for a light, group, cabinet or commune, and its commands."""

    __tablename__ = "device_streetlight_operations"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant: Mapped[str] = mapped_column(String(TENANT_LENGTH), default="default")
    action: Mapped[str] = mapped_column(String(16))
    target_kind: Mapped[str] = mapped_column(String(16))
    target_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    value: Mapped[dict[str, Any]] = mapped_column(default=dict)
    place_code: Mapped[str | None] = mapped_column(String(10), index=True)
    actor: Mapped[str] = mapped_column(String(ACTOR_LENGTH))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    # [{"light": id, "device": id | None, "command_id": int | None, "reason": str | None}]
    lights: Mapped[list[Any]] = mapped_column(default=list)


class StreetlightFault(Base):
    """A fault a scan found on a light; open until a later scan no longer finds it."""

    __tablename__ = "device_streetlight_faults"
    __audit__ = False  # written by the scan; streetlight.fault events record each one
    __table_args__ = (Index("ix_device_streetlight_faults_open", "light_id", "kind", "cleared_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant: Mapped[str] = mapped_column(String(TENANT_LENGTH), default="default")
    light_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    kind: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text, default="")
    place_code: Mapped[str | None] = mapped_column(String(10), index=True)
    detected_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    cleared_at: Mapped[dt.datetime | None] = mapped_column()

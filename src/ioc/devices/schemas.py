"""Pydantic shapes of the devices API: validation, cameras and their events, streetlights."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import AnyHttpUrl, AwareDatetime, BaseModel, ConfigDict, Field, model_validator

EventKind = Literal["vehicle_count", "traffic_violation", "congestion", "crowding", "fire", "smoke"]


class ViolationOut(BaseModel):
    path: str = Field(description="dotted path of the failing member, e.g. location.coordinates")
    message: str


class ValidationOut(BaseModel):
    type: str
    valid: bool
    errors: list[ViolationOut]


class SchemaInfo(BaseModel):
    type: str
    id: str = Field(description="the schema's $id in the Smart Data Models site")
    required: list[str]


class CameraCreate(BaseModel):
    id: str = Field(pattern=r"^urn:ngsi-ld:Camera:[\w\-.:]{1,120}$", max_length=160)
    name: str = Field(min_length=1, max_length=200)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    stream_url: str | None = Field(default=None, max_length=1000)
    snapshot_url: AnyHttpUrl | None = None
    agency_code: str | None = Field(default=None, max_length=32)
    camera_type: Literal["FIXED", "PTZ", "DOME", "DAY/NIGHT", "C-MOUNT", "BULLET"] | None = None
    usage: Literal["SURVEILLANCE", "RLVD", "ANPR/LPR", "TRAFFIC"] | None = None


class CameraOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str | None
    lat: float | None
    lon: float | None
    place_code: str | None = Field(description="the commune its location falls in")
    agency_code: str | None
    stream_url: str | None
    snapshot_url: str | None
    camera_type: str | None
    usage: str | None


class CameraEventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: EventKind
    occurred_at: AwareDatetime | None = Field(default=None, description="default: when received")
    count: int | None = Field(default=None, ge=0, description="vehicles, people, violations…")
    confidence: float | None = Field(default=None, ge=0, le=1)
    snapshot_url: AnyHttpUrl | None = None
    external_id: str | None = Field(
        default=None, max_length=100, description="the camera's own id: a resend is skipped"
    )
    data: dict[str, Any] = Field(default_factory=dict, description="anything else it reported")


class CameraEventBatch(BaseModel):
    events: list[CameraEventIn] = Field(min_length=1, max_length=1000)


class CameraEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    camera_id: str
    kind: str
    severity: str
    occurred_at: dt.datetime
    received_at: dt.datetime
    place_code: str | None
    agency_code: str | None
    count: int | None
    confidence: float | None
    snapshot_url: str | None
    external_id: str | None
    data: dict[str, Any]


class IngestOut(BaseModel):
    stored: int
    skipped: int = Field(description="already stored (same external_id)")
    ids: list[int]


class CountRow(BaseModel):
    period: str = Field(description="start of the period, Vietnam time")
    kind: str
    events: int
    total_count: int = Field(description="sum of the events' counts")


class Target(BaseModel):
    """Exactly one of: a light, a group, a cabinet, or a commune (or district) code."""

    model_config = ConfigDict(extra="forbid")

    light: str | None = None
    group: str | None = None
    cabinet: str | None = None
    commune: str | None = None

    @model_validator(mode="after")
    def _one(self) -> Target:
        if len(self.chosen()) != 1:
            raise ValueError("name exactly one of light, group, cabinet, commune")
        return self

    def chosen(self) -> list[tuple[str, str]]:
        fields = ("light", "group", "cabinet", "commune")
        return [(k, v) for k in fields if (v := getattr(self, k)) is not None]


class CommandIn(BaseModel):
    target: Target
    action: Literal["switch", "dim", "schedule"]
    value: Any = Field(
        description='switch: "on"/"off"; dim: 0-100 (%); schedule: {"on": "18:00", "off": "05:30"}'
    )


class LightCommandOut(BaseModel):
    light: str
    device: str | None
    command_id: int | None
    status: str = Field(description="PENDING, SENT, OK, ERROR, EXPIRED, or NOT_SENT")
    info: str


class OperationOut(BaseModel):
    id: int
    action: str
    value: Any
    target: dict[str, str]
    place_code: str | None
    actor: str
    created_at: dt.datetime
    status: dict[str, int] = Field(description="lights per command status")
    lights: list[LightCommandOut]


class FaultOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    light_id: str
    kind: str
    detail: str
    place_code: str | None
    detected_at: dt.datetime
    cleared_at: dt.datetime | None


class ScanOut(BaseModel):
    lights: int
    found: list[FaultOut]
    cleared: list[FaultOut]
    still_open: int


class EnergyPeriod(BaseModel):
    period: str
    kwh: float


class EnergyOut(BaseModel):
    period: str
    start: dt.datetime
    end: dt.datetime
    lights: int
    metered_lights: int
    total_kwh: float
    periods: list[EnergyPeriod]
    by_light: dict[str, float]

"""Request and response bodies of the devices API."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ioc.ingest.models import APIKEY_LENGTH, DEVICE_ID_LENGTH

VALUE_TYPES = (
    "Number",
    "Integer",
    "Text",
    "Boolean",
    "StructuredValue",
    "geo:point",
    "geo:json",
    "Relationship",
)
NAME_PATTERN = r"^[A-Za-z0-9_\-.:]+$"


class AttributeMap(BaseModel):
    """A device's short attribute name and the NGSI-LD attribute it becomes."""

    model_config = ConfigDict(extra="forbid")

    object_id: str = Field(min_length=1, max_length=128, pattern=NAME_PATTERN)
    name: str = Field(min_length=1, max_length=256, pattern=NAME_PATTERN)
    type: str = Field(default="Number", description="one of " + ", ".join(VALUE_TYPES))
    unit_code: str | None = Field(default=None, max_length=16, description="UN/CEFACT code")


class DeviceCreate(BaseModel):
    """A device to register; ``entity_id`` defaults to ``urn:ngsi-ld:{entity_type}:{device_id}``."""

    model_config = ConfigDict(extra="forbid")

    device_id: str = Field(min_length=1, max_length=DEVICE_ID_LENGTH, pattern=NAME_PATTERN)
    apikey: str = Field(min_length=1, max_length=APIKEY_LENGTH, pattern=NAME_PATTERN)
    entity_id: str | None = Field(default=None, max_length=512)
    entity_type: str = Field(default="Device", min_length=1, max_length=256)
    tenant: str = Field(default="default", min_length=1, max_length=64, pattern=NAME_PATTERN)
    attributes: list[AttributeMap] = Field(default_factory=list)
    commands: list[str] = Field(default_factory=list)
    place_code: str | None = None
    protocol: str = Field(default="mqtt", description="mqtt or http")


class DeviceUpdate(BaseModel):
    """What can change on a registered device; fields left out stay as they are."""

    model_config = ConfigDict(extra="forbid")

    apikey: str | None = Field(
        default=None, min_length=1, max_length=APIKEY_LENGTH, pattern=NAME_PATTERN
    )
    attributes: list[AttributeMap] | None = None
    commands: list[str] | None = None
    place_code: str | None = None
    protocol: str | None = None


class DevicePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    device_id: str
    apikey: str
    tenant: str
    entity_id: str
    entity_type: str
    attributes: list[dict[str, Any]]
    commands: list[str]
    place_code: str | None
    protocol: str
    created_at: dt.datetime
    updated_at: dt.datetime


class CommandCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=128)
    value: Any = None
    expires_in: float | None = Field(default=None, gt=0, le=86400, description="seconds")


class CommandPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    device_id: str
    name: str
    value: Any
    status: str
    info: str
    actor: str
    created_at: dt.datetime
    sent_at: dt.datetime | None
    done_at: dt.datetime | None
    expires_at: dt.datetime


class DeadLetterPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    topic: str
    payload: str
    reason: str
    device_id: str | None
    received_at: dt.datetime

"""Pydantic shapes of the core API: what goes in and what comes out."""

from __future__ import annotations

import datetime as dt
from typing import Generic, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """A slice of a longer list; ``total`` counts every match."""

    items: list[T]
    total: int
    limit: int
    offset: int


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


class PlacePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    short_name: str
    level: str
    kind: str
    parent_code: str | None
    tree: str
    lat: float | None
    lon: float | None
    bbox: list[float] | None = Field(description="[min_lon, min_lat, max_lon, max_lat]")
    area_km2: float | None


class ScopePublic(BaseModel):
    place_code: str | None
    agency_codes: list[str] | None


class MePublic(BaseModel):
    kind: str
    username: str
    full_name: str | None = None
    roles: list[str]
    scope: ScopePublic


class AgencyPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    name_en: str | None
    kind: str
    place_code: str | None
    parent_code: str | None
    email: str | None
    phone: str | None
    active: bool


class AgencyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=32)
    name: str = Field(min_length=1, max_length=200)
    name_en: str | None = Field(default=None, max_length=200)
    kind: str = "other"
    place_code: str | None = None
    parent_code: str | None = None
    email: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=40)


class AgencyUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    name_en: str | None = Field(default=None, max_length=200)
    kind: str | None = None
    place_code: str | None = None
    parent_code: str | None = None
    email: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=40)
    active: bool | None = None


class UserPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    full_name: str
    email: str | None
    phone: str | None
    roles: list[str]
    place_code: str | None
    agency_codes: list[str]
    active: bool
    created_at: dt.datetime
    last_login_at: dt.datetime | None


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=3, max_length=64)
    password: str = Field(min_length=8, max_length=256)
    full_name: str = Field(default="", max_length=200)
    email: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=40)
    roles: list[str] = Field(min_length=1)
    place_code: str | None = None
    agency_codes: list[str] = Field(default_factory=list)


class UserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    full_name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=40)
    roles: list[str] | None = Field(default=None, min_length=1)
    place_code: str | None = None
    agency_codes: list[str] | None = None
    active: bool | None = None
    password: str | None = Field(default=None, min_length=8, max_length=256)


class ApiKeyPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    prefix: str
    roles: list[str]
    place_code: str | None
    agency_codes: list[str]
    created_at: dt.datetime
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None


class ApiKeyCreated(ApiKeyPublic):
    key: str = Field(description="the secret; shown this once and never again")


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=120)
    roles: list[str] = Field(min_length=1)
    place_code: str | None = None
    agency_codes: list[str] = Field(default_factory=list)
    expires_at: AwareDatetime | None = None


class AuditPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: dt.datetime
    actor: str
    action: str
    entity: str
    entity_id: str
    place_code: str | None
    before: dict[str, object] | None
    after: dict[str, object] | None
    request_id: str | None


class EventPublic(BaseModel):
    id: str
    seq: int | None
    type: str
    time: dt.datetime
    actor: str
    place_code: str | None
    subject: str | None
    data: dict[str, object]


class Health(BaseModel):
    status: str
    version: str
    database: str
    bus: str
    place_tree: str | None
    places: int

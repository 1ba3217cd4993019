"""Pydantic shapes of the GIS API (the OGC API builds its own GeoJSON documents)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class LayerOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    title: str
    category: str
    geometry_type: str | None
    source: str
    source_crs: str | None
    feature_count: int
    updated_at: dt.datetime


class FeatureErrorOut(BaseModel):
    index: int
    id: str
    message: str


class ImportReportOut(BaseModel):
    layer: str
    format: str
    source_crs: str
    received: int
    imported: int
    rejected: int
    replaced: bool
    boundaries: int
    bbox: list[float] | None
    errors: list[FeatureErrorOut]


class HolderIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    id: str = Field(min_length=1, max_length=32, description="CCCD / tax number")
    kind: str = Field(default="individual", pattern="^(individual|household|organisation)$")
    certificate_no: str | None = Field(default=None, max_length=32)
    certificate_date: dt.date | None = None


class ParcelCreate(BaseModel):
    commune_code: str
    sheet_no: int = Field(ge=1)
    parcel_no: int = Field(ge=1)
    land_use: str
    geometry: dict[str, Any]
    holder: HolderIn | None = None


class TransferIn(BaseModel):
    holder: HolderIn
    note: str = ""


class ChangeUseIn(BaseModel):
    land_use: str
    note: str = ""


class SplitIn(BaseModel):
    parts: list[dict[str, Any]] = Field(min_length=2)
    first_parcel_no: int = Field(ge=1)
    note: str = ""


class MergeIn(BaseModel):
    keys: list[str] = Field(min_length=2)
    parcel_no: int = Field(ge=1)
    note: str = ""


class ParcelOut(BaseModel):
    key: str
    commune_code: str
    sheet_no: int
    parcel_no: int
    area_m2: float
    land_use: str
    zone_code: str | None
    status: str
    version: int
    holder_name: str | None = None
    holder_id: str | None = None
    certificate_no: str | None = None
    certificate_date: dt.date | None = None


class ChangeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    version: int
    change: str
    at: dt.datetime
    actor: str
    related: list[str]
    note: str
    state: dict[str, Any]


class StatOut(BaseModel):
    commune_code: str
    land_use: str
    parcels: int
    area_m2: float


class ConflictOut(BaseModel):
    key: str
    commune_code: str
    land_use: str
    zone_code: str
    zone_designation: str
    allowed_uses: list[str]

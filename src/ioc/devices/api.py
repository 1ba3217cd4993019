"""The devices API under ``/api/v1``: Smart Data Model schemas and validation
(``/datamodels``), cameras and their analytics events (``api_cameras``), streetlight
operations (``api_streetlights``). ``/api/v1/devices`` is the ingest device registry's."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body

from ioc.core.problems import MalformedBody, NotFound
from ioc.devices import api_cameras, api_streetlights, validation
from ioc.devices.deps import Reader
from ioc.devices.schemas import SchemaInfo, ValidationOut, ViolationOut

router = APIRouter(prefix="/api/v1/datamodels", tags=["devices: smart data models"])


def _type(name: str) -> str:
    if name not in validation.TYPES:
        raise NotFound(f"no Smart Data Model {name!r} here; known: {', '.join(validation.TYPES)}")
    return name


@router.get("")
def list_schemas(_: Reader) -> list[SchemaInfo]:
    """The Smart Data Models whose JSON Schemas ship with ioc."""
    out = []
    for name in validation.TYPES:
        doc = validation.schema(name)
        out.append(SchemaInfo(type=name, id=doc["$id"], required=doc.get("required", [])))
    return out


@router.get("/{type_name}")
def get_schema(type_name: str, _: Reader) -> dict[str, Any]:
    """One model's JSON Schema (its ``$ref``s point at the SDM common schema, shipped too)."""
    return validation.schema(_type(type_name))


@router.post("/{type_name}/validate")
def validate_entity(
    type_name: str,
    _: Reader,
    entity: Annotated[dict[str, Any], Body(description="an entity, keyValues or normalized")],
) -> ValidationOut:
    """Check an entity against its Smart Data Model; every failing path is named.

    Answers 200 either way (``valid`` says which): the request itself was fine.
    """
    name = _type(type_name)
    if entity.get("type") not in (None, name):
        raise MalformedBody(f"type: the body is a {entity.get('type')!r}, the path says {name}")
    found = validation.validate(name, {"type": name, **entity})
    return ValidationOut(
        type=name,
        valid=not found,
        errors=[ViolationOut(path=v.path, message=v.message) for v in found],
    )


# Cameras and streetlights have paths of their own (/api/v1/cameras, /api/v1/streetlights).
routers = APIRouter()
routers.include_router(router)
routers.include_router(api_cameras.router)
routers.include_router(api_streetlights.router)

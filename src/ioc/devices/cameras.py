"""Cameras (NGSI-LD ``Camera`` entities) and the analytics events they report.

A camera is an entity in the broker (SDM Camera: location, ``streamURL``, ``imageSnapshot``,
``owner`` = the agency operating it). Its events (vehicle counts, violations, congestion,
crowding, fire, smoke) are rows here carrying the camera's commune, derived from its
location, and its agency, so scope filters them; each is also a ``camera.<kind>`` event on
the bus, fire and smoke with severity ``high``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from ioc.context.entities import parse_entity
from ioc.context.errors import ResourceNotFound
from ioc.context.jsonld import CORE_TERMS
from ioc.context.service import DEFAULT_TENANT, Broker
from ioc.core.agencies import agency_codes
from ioc.core.db import utcnow
from ioc.core.events import emit
from ioc.core.places import subtree_codes_stmt
from ioc.core.problems import Invalid, NotFound
from ioc.core.scope import Scope
from ioc.devices import entities
from ioc.devices.models import SEVERITY, CameraEvent
from ioc.devices.periods import bucket
from ioc.devices.validation import validate

OWNER_PREFIX = "urn:ngsi-ld:Organization:"


@dataclass(frozen=True, slots=True)
class Camera:
    """What the IOC needs of a camera entity."""

    id: str
    name: str | None
    lat: float | None
    lon: float | None
    place_code: str | None
    agency_code: str | None
    stream_url: str | None
    snapshot_url: str | None
    camera_type: str | None
    usage: str | None


@dataclass(slots=True)
class NewEvent:
    """One analytics event as a camera sends it."""

    kind: str
    occurred_at: dt.datetime
    count: int | None = None
    confidence: float | None = None
    snapshot_url: str | None = None
    external_id: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


def _agency(owner: Any) -> str | None:
    first = entities.ref(owner)
    if first is None:
        return None
    return first.removeprefix(OWNER_PREFIX)


def camera_of(entity: dict[str, Any], where: entities.Places) -> Camera:
    at = entities.point(entity)
    return Camera(
        id=entity["id"],
        name=entity.get("name") or entity.get("cameraName"),
        lat=at[0] if at else None,
        lon=at[1] if at else None,
        place_code=where.commune(at),
        agency_code=_agency(entity.get("owner")),
        stream_url=entity.get("streamURL"),
        snapshot_url=entity.get("imageSnapshot"),
        camera_type=entity.get("cameraType"),
        usage=entity.get("cameraUsage"),
    )


def _visible(where: entities.Places, scope: Scope, camera: Camera) -> bool:
    # As Scope.where: agency staff see the cameras of their agencies (and their events) only.
    return where.in_scope(scope, camera.place_code) and scope.contains_agency(camera.agency_code)


def get_camera(
    session: Session, broker: Broker, camera_id: str, scope: Scope, tenant: str = DEFAULT_TENANT
) -> Camera:
    """The camera, if it exists and lies inside the caller's scope (NotFound otherwise)."""
    try:
        stored = broker.retrieve(session.connection(), tenant, camera_id, entities.EVERYWHERE)
    except ResourceNotFound:
        raise NotFound(f"no camera {camera_id}") from None
    if entities.local_type(stored.type) != "Camera":
        raise NotFound(f"{camera_id} is not a camera")
    where = entities.Places(session)
    camera = camera_of(entities.key_values(stored), where)
    if not _visible(where, scope, camera):
        raise NotFound(f"no camera {camera_id}")
    return camera


def list_cameras(
    session: Session, broker: Broker, scope: Scope, tenant: str = DEFAULT_TENANT
) -> list[Camera]:
    where = entities.Places(session)
    found = (
        camera_of(entities.key_values(s), where)
        for s in entities.of_type(broker, session.connection(), tenant, "Camera")
    )
    return [c for c in found if _visible(where, scope, c)]


def register_camera(
    session: Session,
    broker: Broker,
    scope: Scope,
    fields: dict[str, Any],
    tenant: str = DEFAULT_TENANT,
) -> Camera:
    """Create the Camera entity (checked against the SDM schema) inside the caller's scope."""
    doc: dict[str, Any] = {
        "id": fields["id"],
        "type": "Camera",
        "location": {"type": "Point", "coordinates": [fields["lon"], fields["lat"]]},
    }
    optional = {
        "name": fields.get("name"),
        "cameraName": fields.get("name"),
        "streamURL": fields.get("stream_url"),
        "imageSnapshot": fields.get("snapshot_url"),
        "cameraType": fields.get("camera_type"),
        "cameraUsage": fields.get("usage"),
        "owner": [OWNER_PREFIX + fields["agency_code"]] if fields.get("agency_code") else None,
    }
    doc.update({k: v for k, v in optional.items() if v is not None})
    agency = fields.get("agency_code")
    if agency is not None and agency not in agency_codes(session):
        raise Invalid("agency_code", f"unknown agency {agency!r}")
    problems = validate("Camera", doc)
    if problems:
        raise Invalid(problems[0].path, problems[0].message)
    place = entities.commune_of(session, (fields["lat"], fields["lon"]))
    if not scope.contains_place(session, place) or not scope.contains_agency(
        fields.get("agency_code")
    ):
        raise Invalid("lat", "the camera would stand outside your scope")
    normalized = {
        k: v
        if k in ("id", "type")
        else {"type": "GeoProperty", "value": v}
        if k == "location"
        else {"type": "Property", "value": v}
        for k, v in doc.items()
    }
    broker.create(session, tenant, parse_entity(normalized, CORE_TERMS), entities.EVERYWHERE)
    return camera_of(doc, entities.Places(session))


def ingest(
    session: Session,
    broker: Broker,
    camera_id: str,
    items: list[NewEvent],
    scope: Scope,
    tenant: str = DEFAULT_TENANT,
) -> tuple[list[CameraEvent], int]:
    """Store a camera's events and publish each; returns (stored, skipped as already stored)."""
    camera = get_camera(session, broker, camera_id, scope, tenant)
    ids = [i.external_id for i in items if i.external_id]
    known: set[str | None] = set()
    if ids:
        known = set(
            session.scalars(
                select(CameraEvent.external_id).where(
                    CameraEvent.camera_id == camera.id, CameraEvent.external_id.in_(ids)
                )
            )
        )
    rows: list[CameraEvent] = []
    now = utcnow()
    for item in items:
        if item.external_id and item.external_id in known:
            continue
        if item.external_id:
            known.add(item.external_id)
        rows.append(
            CameraEvent(
                tenant=tenant,
                camera_id=camera.id,
                external_id=item.external_id,
                kind=item.kind,
                severity=SEVERITY[item.kind],
                occurred_at=item.occurred_at,
                received_at=now,
                place_code=camera.place_code,
                agency_code=camera.agency_code,
                count=item.count,
                confidence=item.confidence,
                lat=camera.lat,
                lon=camera.lon,
                snapshot_url=item.snapshot_url,
                data=item.data,
            )
        )
    session.add_all(rows)
    session.flush()
    for row in rows:
        emit(
            session,
            f"camera.{row.kind}",
            event_data(row),
            subject=row.camera_id[:200],
            place_code=row.place_code,
        )
    return rows, len(items) - len(rows)


def event_data(row: CameraEvent) -> dict[str, Any]:
    return {
        "event_id": row.id,
        "camera_id": row.camera_id,
        "kind": row.kind,
        "severity": row.severity,
        "occurred_at": row.occurred_at.isoformat(),
        "count": row.count,
        "confidence": row.confidence,
        "place_code": row.place_code,
        "agency_code": row.agency_code,
        "snapshot_url": row.snapshot_url,
    }


@dataclass(frozen=True, slots=True)
class EventFilter:
    camera: str | None = None
    place: str | None = None
    kinds: tuple[str, ...] = ()
    start: dt.datetime | None = None
    end: dt.datetime | None = None


def _filtered(stmt: Select[Any], scope: Scope, f: EventFilter) -> Select[Any]:
    e = CameraEvent
    stmt = stmt.where(scope.where(place=e.place_code, agency=e.agency_code))
    if f.camera:
        stmt = stmt.where(e.camera_id == f.camera)
    if f.place:
        stmt = stmt.where(e.place_code.in_(subtree_codes_stmt(f.place)))
    if f.kinds:
        stmt = stmt.where(e.kind.in_(f.kinds))
    if f.start:
        stmt = stmt.where(e.occurred_at >= f.start)
    if f.end:
        stmt = stmt.where(e.occurred_at < f.end)
    return stmt


def list_events(
    session: Session, scope: Scope, f: EventFilter, limit: int, offset: int
) -> tuple[list[CameraEvent], int]:
    """A page of events inside the scope, newest first, and how many match in all."""
    total = session.scalar(_filtered(select(func.count()).select_from(CameraEvent), scope, f))
    stmt = _filtered(select(CameraEvent), scope, f)
    stmt = stmt.order_by(CameraEvent.occurred_at.desc(), CameraEvent.id.desc())
    return list(session.scalars(stmt.limit(limit).offset(offset))), int(total or 0)


def counts(session: Session, scope: Scope, f: EventFilter, period: str) -> list[dict[str, Any]]:
    """Events and summed counts per period (Vietnam time) and kind, oldest period first."""
    label = bucket(CameraEvent.occurred_at, period, session.get_bind().dialect.name).label("p")
    stmt = select(
        label,
        CameraEvent.kind,
        func.count().label("events"),
        func.coalesce(func.sum(CameraEvent.count), 0).label("total"),
    ).select_from(CameraEvent)
    stmt = (
        _filtered(stmt, scope, f)
        .group_by(label, CameraEvent.kind)
        .order_by(label, CameraEvent.kind)
    )
    return [
        {"period": r.p, "kind": r.kind, "events": int(r.events), "total_count": int(r.total)}
        for r in session.execute(stmt)
    ]

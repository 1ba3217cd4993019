"""Cameras and their analytics events: ``/api/v1/cameras``."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query

from ioc.core.db import utcnow
from ioc.core.deps import Limit, Offset, SessionDep
from ioc.core.problems import Invalid
from ioc.core.schemas import Page
from ioc.devices import cameras
from ioc.devices.deps import BrokerDep, Operator, Reporter, Staff
from ioc.devices.periods import Period
from ioc.devices.schemas import (
    CameraCreate,
    CameraEventBatch,
    CameraEventIn,
    CameraEventOut,
    CameraOut,
    CountRow,
    EventKind,
    IngestOut,
)

router = APIRouter(prefix="/api/v1/cameras", tags=["devices: cameras"])
DEFAULT_DAYS = 7


def _window(start: dt.datetime | None, end: dt.datetime | None) -> tuple[dt.datetime, dt.datetime]:
    end = end or utcnow()
    start = start or end - dt.timedelta(days=DEFAULT_DAYS)
    if start.tzinfo is None or end.tzinfo is None:
        raise Invalid("from", "give a time zone (e.g. 2026-11-26T00:00:00+07:00)")
    if start >= end:
        raise Invalid("from", "must be before to")
    return start, end


def _filter(
    camera: str | None,
    place: str | None,
    kind: list[EventKind] | None,
    start: dt.datetime | None,
    end: dt.datetime | None,
) -> cameras.EventFilter:
    start, end = _window(start, end)
    return cameras.EventFilter(camera, place, tuple(kind or ()), start, end)


Camera = Annotated[str | None, Query(description="a camera's entity id")]
Place = Annotated[str | None, Query(description="a commune or district code: its events")]
Kinds = Annotated[list[EventKind] | None, Query(description="repeat for several")]
From = Annotated[dt.datetime | None, Query(alias="from", description="default: 7 days ago")]
To = Annotated[dt.datetime | None, Query(alias="to", description="default: now")]


@router.post("", status_code=201)
def register_camera(
    body: CameraCreate, session: SessionDep, broker: BrokerDep, principal: Operator
) -> CameraOut:
    """Add a camera: an NGSI-LD ``Camera`` entity (SDM), placed in the commune it stands in."""
    fields = body.model_dump(mode="json")
    camera = cameras.register_camera(session, broker, principal.scope, fields)
    session.commit()
    return CameraOut.model_validate(camera)


@router.get("")
def list_cameras(session: SessionDep, broker: BrokerDep, principal: Staff) -> list[CameraOut]:
    """Every camera inside the caller's scope, with the commune it stands in."""
    return [
        CameraOut.model_validate(c) for c in cameras.list_cameras(session, broker, principal.scope)
    ]


@router.get("/events")
def list_events(
    session: SessionDep,
    principal: Staff,
    limit: Limit = 100,
    offset: Offset = 0,
    camera: Camera = None,
    place: Place = None,
    kind: Kinds = None,
    start: From = None,
    end: To = None,
) -> Page[CameraEventOut]:
    """Camera events inside the caller's scope, newest first."""
    found, total = cameras.list_events(
        session, principal.scope, _filter(camera, place, kind, start, end), limit, offset
    )
    items = [CameraEventOut.model_validate(e) for e in found]
    return Page(items=items, total=total, limit=limit, offset=offset)


@router.get("/events/counts")
def count_events(
    session: SessionDep,
    principal: Staff,
    period: Annotated[Period, Query()] = "day",
    camera: Camera = None,
    place: Place = None,
    kind: Kinds = None,
    start: From = None,
    end: To = None,
) -> list[CountRow]:
    """Events and their summed counts per period (Vietnam time) and kind, in scope."""
    rows = cameras.counts(
        session, principal.scope, _filter(camera, place, kind, start, end), period
    )
    return [CountRow(**r) for r in rows]


@router.get("/{camera_id}")
def get_camera(
    camera_id: str, session: SessionDep, broker: BrokerDep, principal: Staff
) -> CameraOut:
    return CameraOut.model_validate(cameras.get_camera(session, broker, camera_id, principal.scope))


@router.post("/{camera_id}/events", status_code=201)
def post_events(
    camera_id: str,
    body: CameraEventIn | CameraEventBatch | list[CameraEventIn],
    session: SessionDep,
    broker: BrokerDep,
    principal: Reporter,
) -> IngestOut:
    """One event, ``{"events": [...]}`` or a bare array (at most 1,000), stored whole or not."""
    if isinstance(body, CameraEventIn):
        items = [body]
    elif isinstance(body, CameraEventBatch):
        items = body.events
    else:
        if not 1 <= len(body) <= 1000:
            raise Invalid("events", "send 1 to 1,000 events")
        items = body
    now = utcnow()
    new = [
        cameras.NewEvent(
            kind=i.kind,
            occurred_at=i.occurred_at or now,
            count=i.count,
            confidence=i.confidence,
            snapshot_url=str(i.snapshot_url) if i.snapshot_url else None,
            external_id=i.external_id,
            data=i.data,
        )
        for i in items
    ]
    stored, skipped = cameras.ingest(session, broker, camera_id, new, principal.scope)
    session.commit()
    return IngestOut(stored=len(stored), skipped=skipped, ids=[r.id for r in stored])

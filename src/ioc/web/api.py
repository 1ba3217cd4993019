"""JSON the screen needs that no capability serves in this shape: ``/api/v1/web``.

Each route calls the owning capability's public functions with the caller's principal, so the
scope rules are theirs; nothing here decides who sees what on its own.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from ioc.core.auth import Principal
from ioc.core.config import Settings
from ioc.core.deps import CurrentPrincipal, SessionDep, SettingsDep, require
from ioc.core.problems import NotFound
from ioc.core.ratelimit import SlidingWindowLimiter
from ioc.devices import streetlights
from ioc.devices.deps import BrokerDep
from ioc.feedback import measures, public, service
from ioc.web import geo

router = APIRouter(prefix="/api/v1/web", tags=["web screen"])
Staff = Annotated[Principal, require("operator", "leader", "agency_staff", "district_admin")]
PlaceQuery = Annotated[str | None, Query(description="a place code: it and all below it")]
CITIZEN_POSTS_PER_MINUTE = 10


@router.get("/units")
def units(session: SessionDep, principal: CurrentPrincipal, parent: PlaceQuery = None) -> Any:
    """The caller's top place (or ``parent``) and its children as GeoJSON, with breadcrumbs."""
    return geo.units(session, principal, parent)


@router.get("/feedback/points")
def feedback_points(session: SessionDep, principal: Staff, place: PlaceQuery = None) -> Any:
    """Open feedback reports with a location as GeoJSON points (up to 5,000, newest first)."""
    if place:
        geo.check_place(session, principal, place)
    return geo.feedback_points(session, principal, place)


class MeasuresOut(BaseModel):
    key: str | None
    name: str
    received: int
    settled: int
    settled_pct: float | None
    on_time_pct: float | None
    satisfaction_pct: float | None
    overdue_open: int


class PlaceMeasures(BaseModel):
    place: str | None
    start: dt.date | None
    end: dt.date | None
    total: MeasuresOut
    groups: list[MeasuresOut]


def _m(key: str | None, name: str, m: measures.Measures) -> MeasuresOut:
    return MeasuresOut(
        key=key,
        name=name,
        received=m.received,
        settled=m.settled,
        settled_pct=m.settled_pct,
        on_time_pct=m.on_time_pct,
        satisfaction_pct=m.satisfaction_pct,
        overdue_open=m.overdue_open,
    )


@router.get("/feedback/measures")
def feedback_measures(
    session: SessionDep,
    principal: Staff,
    place: PlaceQuery = None,
    by: Literal["period", "district", "commune"] = "period",
    period: Literal["day", "week", "month"] = "day",
    start: Annotated[dt.date | None, Query(alias="from")] = None,
    end: Annotated[dt.date | None, Query(alias="to")] = None,
) -> PlaceMeasures:
    """Feedback measures as ``/api/v1/feedback/measures`` gives them, narrowed to ``place``."""
    if place:
        geo.check_place(session, principal, place)
    report = public.measures_in(
        session, principal, place, by=by, period=period, start=start, end=end
    )
    return PlaceMeasures(
        place=place,
        start=report.start,
        end=report.end,
        total=_m(None, "", report.total),
        groups=[_m(g.key, g.name, g.measures) for g in report.groups],
    )


@router.get("/lights")
def lights(
    session: SessionDep, broker: BrokerDep, principal: Staff, place: PlaceQuery = None
) -> Any:
    """Streetlights in scope with their power state, dimming level and last command answers."""
    return geo.lights(session, broker, principal, place)


@router.get("/lights/{light_id}")
def light(session: SessionDep, broker: BrokerDep, principal: Staff, light_id: str) -> Any:
    """One streetlight's state (404 when unknown or outside the caller's scope)."""
    found = streetlights.inventory(session, broker).lights.get(light_id)
    if found is None or not principal.scope.contains_place(session, found.place_code):
        raise NotFound(f"no streetlight {light_id}")
    return geo.light_props(found)


class CitizenReport(BaseModel):
    service_code: str = Field(max_length=64)
    description: str = Field(default="", max_length=4000)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    address: str | None = Field(default=None, max_length=500)
    first_name: str | None = Field(default=None, max_length=100)
    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=200)
    media_url: str | None = Field(default=None, max_length=1000, description="from /photos")


class CitizenReceipt(BaseModel):
    id: int
    token: str
    status: str
    place_code: str | None
    expected_at: dt.datetime | None


def citizen_limiter(request: Request, settings: Settings) -> SlidingWindowLimiter:
    """One count per address for the citizen page's reports and photos."""
    state = request.app.state
    if not hasattr(state, "web_citizen_limiter"):
        state.web_citizen_limiter = SlidingWindowLimiter(
            min(CITIZEN_POSTS_PER_MINUTE, settings.open311_posts_per_minute_ip)
        )
    limiter: SlidingWindowLimiter = state.web_citizen_limiter
    return limiter


@router.post("/citizen/feedback", status_code=201, tags=["feedback: citizens"])
def citizen_feedback(
    body: CitizenReport, request: Request, session: SessionDep, settings: SettingsDep
) -> CitizenReceipt:
    """The citizen page's report (channel ``web``): the same reception as Open311, no API key,
    a rate limit per address instead."""
    citizen_limiter(request, settings).check(
        request.client.host if request.client else "?", "address"
    )
    session.info["actor"] = "web:citizen"
    sub = service.Submission(
        service_code=body.service_code,
        description=body.description,
        channel="web",
        lat=body.lat,
        lon=body.lon,
        address=body.address,
        first_name=body.first_name,
        phone=body.phone,
        email=body.email,
        media_url=body.media_url,
    )
    rule = service.DuplicateRule(
        settings.feedback_duplicate_radius_m, settings.feedback_duplicate_days
    )
    done = service.submit(session, sub, rule)
    session.commit()
    req = done.request
    return CitizenReceipt(
        id=req.id,
        token=done.token,
        status=req.status,
        place_code=req.place_code,
        expected_at=req.expected_at,
    )

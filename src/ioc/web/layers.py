"""The operations map's device layers: cameras and environment sensors with their latest values,
and the active alerts.

Cameras come from ``ioc.devices.cameras`` (its scope rule: place, and agency for agency staff);
sensors (air quality, river gauges, traffic counters) are NGSI-LD entities read through the
broker's query service by ``ioc.devices.entities``, located in a commune by the place index and
cut to the caller's scope here with the same index, as the streetlights are.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy.orm import Session

from ioc.alerts import service as alerts
from ioc.alerts.models import ACTIVE_STATUSES
from ioc.context.service import DEFAULT_TENANT, Broker
from ioc.core.auth import Principal
from ioc.core.deps import SessionDep, require
from ioc.devices import cameras, entities
from ioc.devices.deps import BrokerDep
from ioc.web import geo

router = APIRouter(prefix="/api/v1/web", tags=["web screen"])
Staff = Annotated[Principal, require("operator", "leader", "agency_staff", "district_admin")]
PlaceQuery = Annotated[str | None, Query(description="a place code: it and all below it")]

# Entity type → the map's kind and the attributes its popup shows (Smart Data Models names).
SENSORS: dict[str, tuple[str, tuple[str, ...]]] = {
    "AirQualityObserved": (
        "air",
        ("airQualityIndex", "airQualityLevel", "pm25", "pm10", "no2", "o3", "temperature"),
    ),
    "WaterObserved": ("water", ("height", "flow")),
    "TrafficFlowObserved": (
        "traffic",
        ("intensity", "occupancy", "averageVehicleSpeed", "congested"),
    ),
}


def _root(session: Session, principal: Principal, place: str | None) -> str | None:
    return geo.check_place(session, principal, place).path if place else None


def _feature(fid: str, lat: float, lon: float, props: dict[str, Any]) -> geo.Feature:
    return {
        "type": "Feature",
        "id": fid,
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": props,
    }


def camera_points(
    session: Session, broker: Broker, principal: Principal, place: str | None
) -> dict[str, Any]:
    """Cameras in the caller's scope (and ``place``) that have a location."""
    root = _root(session, principal, place)
    where = entities.Places(session)
    features = [
        _feature(
            c.id,
            c.lat,
            c.lon,
            {
                "id": c.id,
                "name": c.name or c.id.rsplit(":", 1)[-1],
                "place_code": c.place_code,
                "agency_code": c.agency_code,
                "usage": c.usage,
                "camera_type": c.camera_type,
                "snapshot_url": c.snapshot_url,
            },
        )
        for c in cameras.list_cameras(session, broker, principal.scope)
        if c.lat is not None
        and c.lon is not None
        and (root is None or where.within(c.place_code, root))
    ]
    return geo.collection(features)


def sensor_points(
    session: Session, broker: Broker, principal: Principal, place: str | None
) -> dict[str, Any]:
    """Air, water and traffic sensors in scope (and ``place``) with their latest values."""
    root = _root(session, principal, place)
    where = entities.Places(session)
    conn = session.connection()
    features = []
    for type_name, (kind, shown) in SENSORS.items():
        for stored in entities.of_type(broker, conn, DEFAULT_TENANT, type_name):
            values = entities.key_values(stored)
            at = entities.point(values)
            if at is None:
                continue
            code = where.commune(at)
            if not where.in_scope(principal.scope, code):
                continue
            if root is not None and not where.within(code, root):
                continue
            props: dict[str, Any] = {
                "id": stored.id,
                "kind": kind,
                "name": values.get("name") or stored.id.rsplit(":", 1)[-1],
                "place_code": code,
                "observed": values.get("dateObserved"),
            }
            props.update({name: values[name] for name in shown if name in values})
            features.append(_feature(stored.id, at[0], at[1], props))
    return geo.collection(features)


def alert_points(session: Session, principal: Principal, place: str | None) -> dict[str, Any]:
    """Active alerts in scope (and ``place``) at their source, or their place's centre."""
    if place:
        geo.check_place(session, principal, place)
    wanted = alerts.Filter(status=ACTIVE_STATUSES, place=place)
    rows, _ = alerts.list_alerts(session, principal, wanted, limit=geo.MAX_POINTS)
    features = [
        _feature(
            str(a.id),
            a.lat,
            a.lon,
            {
                "id": a.id,
                "rule": a.rule,
                "severity": a.severity,
                "status": a.status,
                "title": a.title,
                "title_en": a.title_en,
                "source": a.source,
                "place_code": a.place_code,
                "count": a.count,
                "raised_at": a.raised_at.isoformat(),
                "last_seen": a.last_seen.isoformat(),
                "acknowledged_by": a.acknowledged_by,
            },
        )
        for a in rows
        if a.lat is not None and a.lon is not None
    ]
    return geo.collection(features)


@router.get("/cameras")
def camera_layer(
    session: SessionDep, broker: BrokerDep, principal: Staff, place: PlaceQuery = None
) -> Any:
    """Cameras in scope as GeoJSON points (agency staff: their agencies' cameras)."""
    return camera_points(session, broker, principal, place)


@router.get("/sensors")
def sensor_layer(
    session: SessionDep, broker: BrokerDep, principal: Staff, place: PlaceQuery = None
) -> Any:
    """Air-quality, river-gauge and traffic-counter entities in scope with their latest values."""
    return sensor_points(session, broker, principal, place)


@router.get("/alerts")
def alert_layer(session: SessionDep, principal: Staff, place: PlaceQuery = None) -> Any:
    """Active (open or acknowledged) alerts in scope as GeoJSON points, coloured by severity."""
    return alert_points(session, principal, place)

"""GeoJSON the screen's map draws: administrative units, feedback reports, streetlights.

Shapes come from the places tree (a boundary when loaded, else the unit's bounding box), reports
from the feedback queue and lights from the NGSI-LD broker; every list is cut to the caller's
scope by the capability that owns the records.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ioc.context.service import Broker
from ioc.core import places
from ioc.core.auth import Principal
from ioc.core.models import Place
from ioc.core.problems import Forbidden
from ioc.devices import entities, streetlights
from ioc.feedback import queue
from ioc.feedback.models import OPEN_STATUSES, FeedbackRequest

MAX_POINTS = 5000

Feature = dict[str, Any]


def collection(features: list[Feature]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": features}


def _box(place: Place) -> dict[str, Any] | None:
    if None in (place.min_lon, place.min_lat, place.max_lon, place.max_lat):
        return None
    w, s, e, n = place.min_lon, place.min_lat, place.max_lon, place.max_lat
    return {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}


def unit_feature(place: Place) -> Feature | None:
    """A unit as a polygon: its boundary, else its bounding box; None when it has neither."""
    geometry = place.boundary or _box(place)
    if geometry is None:
        return None
    return {
        "type": "Feature",
        "id": place.code,
        "geometry": geometry,
        "properties": {
            "code": place.code,
            "name": place.name,
            "level": place.level,
            "parent_code": place.parent_code,
            "lat": place.lat,
            "lon": place.lon,
            "shape": "boundary" if place.boundary else "bbox",
        },
    }


def top_place(session: Session, principal: Principal) -> Place:
    """Where the caller's map starts: their scope's place, else the province."""
    if principal.scope.place_code is not None:
        return places.get_place(session, principal.scope.place_code)
    province = session.scalar(select(Place).where(Place.level == "province").limit(1))
    if province is None:
        raise Forbidden("no province is loaded")
    return province


def check_place(session: Session, principal: Principal, code: str) -> Place:
    """The place ``code`` if the caller may look at it (404 when unknown, 403 outside scope)."""
    place = places.get_place(session, code)
    if not principal.scope.contains_place(session, code):
        raise Forbidden(f"place {code} is outside your scope")
    return place


def units(session: Session, principal: Principal, parent: str | None) -> dict[str, Any]:
    """The children of ``parent`` (default: the caller's top place) and that place itself."""
    at = check_place(session, principal, parent) if parent else top_place(session, principal)
    features = [f for f in map(unit_feature, places.children(session, at.code)) if f]
    own = unit_feature(at)
    if own is not None:
        own["properties"]["self"] = True
    trail = []
    node: Place | None = at
    while node is not None:
        trail.append({"code": node.code, "name": node.name, "level": node.level})
        if node.code == principal.scope.place_code or node.parent_code is None:
            break
        node = session.get(Place, node.parent_code)
    return {
        **collection(([own] if own else []) + features),
        "place": {"code": at.code, "name": at.name, "level": at.level},
        "bbox": [at.min_lon, at.min_lat, at.max_lon, at.max_lat] if _box(at) else None,
        "trail": list(reversed(trail)),
    }


def feedback_points(
    session: Session, principal: Principal, place: str | None, limit: int = MAX_POINTS
) -> dict[str, Any]:
    """Open reports with a location, inside the caller's scope (and ``place``), newest first."""
    f = queue.QueueFilter(status=sorted(OPEN_STATUSES), place=place)
    rows, _ = queue.search(session, principal, f, limit, 0)
    features = [
        {
            "type": "Feature",
            "id": r.id,
            "geometry": {"type": "Point", "coordinates": [r.lon, r.lat]},
            "properties": _report_props(r),
        }
        for r in rows
        if r.lat is not None and r.lon is not None
    ]
    return collection(features)


def _report_props(r: FeedbackRequest) -> dict[str, Any]:
    return {
        "id": r.id,
        "status": r.status,
        "service_code": r.service_code,
        "place_code": r.place_code,
        "description": (r.description or "")[:140],
        "requested_at": r.requested_at.isoformat() if r.requested_at else None,
    }


def light_props(light: streetlights.Light) -> dict[str, Any]:
    """What a light's popup and page show: its state and the last command's answer."""
    v = light.values
    return {
        "id": light.id,
        "name": v.get("name") or light.id.rsplit(":", 1)[-1],
        "place_code": light.place_code,
        "status": v.get("status"),
        "powerState": v.get("powerState"),
        "dimmingLevel": entities.number(v.get("dimmingLevel")),
        "illuminanceLevel": entities.number(v.get("illuminanceLevel")),
        "powerConsumption": entities.number(v.get("powerConsumption")),
        "dim_status": v.get("dim_status"),
        "dim_info": v.get("dim_info"),
        "switch_status": v.get("switch_status"),
        "switch_info": v.get("switch_info"),
        "dateLastReported": v.get("dateLastReported") or v.get("TimeInstant"),
    }


def lights(
    session: Session, broker: Broker, principal: Principal, place: str | None
) -> dict[str, Any]:
    """Streetlights inside the caller's scope (and ``place``) with their state."""
    inventory = streetlights.inventory(session, broker)
    where = entities.Places(session)
    root = check_place(session, principal, place).path if place else None
    features = []
    for light in inventory.lights.values():
        if not where.in_scope(principal.scope, light.place_code):
            continue
        if root is not None and not where.within(light.place_code, root):
            continue
        at = entities.point(light.values)
        if at is None:
            continue
        features.append(
            {
                "type": "Feature",
                "id": light.id,
                "geometry": {"type": "Point", "coordinates": [at[1], at[0]]},
                "properties": light_props(light),
            }
        )
    return collection(features)

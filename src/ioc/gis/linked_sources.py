"""Collections whose features belong to other capabilities, read through their public functions.

Citizen feedback comes from ``ioc.feedback.open311_query`` (the same public read Open311's
``GET requests`` serves, so anyone may see it); streetlights and cameras come from
``ioc.devices`` over the NGSI-LD broker, for staff only and inside their scope, as the
devices API itself allows. No table of those capabilities is read here.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from shapely.geometry import Point, box
from sqlalchemy.orm import Session

from ioc.core.auth import Principal
from ioc.core.problems import Invalid, NotFound
from ioc.gis.collections import Extent, Feature, feature
from ioc.gis.query import ItemsQuery

STAFF = ("operator", "leader", "agency_staff", "district_admin")


def _page(found: list[Feature], query: ItemsQuery) -> tuple[list[Feature], int]:
    """Keep the features inside ``bbox`` and matching the filters; one page of them."""
    if query.bbox is not None:
        window = box(*query.bbox)
        found = [
            f
            for f in found
            if f["geometry"] and window.intersects(Point(f["geometry"]["coordinates"]))
        ]
    for name, value in query.filters.items():
        found = [f for f in found if str(f["properties"].get(name)) == value]
    return found[query.offset : query.offset + query.limit], len(found)


def _point(lon: float | None, lat: float | None) -> dict[str, Any] | None:
    return None if lon is None or lat is None else {"type": "Point", "coordinates": [lon, lat]}


class FeedbackSource:
    id = "feedback-reports"
    title = "Citizen feedback reports"
    description = (
        "Open311 service requests with a location, as GET /open311/v2/requests shows them "
        "(the last 90 days unless datetime says otherwise; at most 1,000)."
    )
    queryables = {"service_code": "string", "status": "string"}  # status: open or closed

    def extent(self, session: Session) -> Extent:
        return Extent(None)

    @staticmethod
    def _feature(row: Any) -> Feature:
        properties = {
            "service_code": row.service_code, "service_name": row.service_name,
            "status": row.status, "description": row.description, "address": row.address,
            "agency_responsible": row.agency_responsible,
            "requested_at": row.requested_at.isoformat() if row.requested_at else None,
        }  # fmt: skip
        return feature(str(row.id), _point(row.lon, row.lat), properties)

    def items(
        self, session: Session, principal: Principal, query: ItemsQuery
    ) -> tuple[list[Feature], int]:
        from ioc.feedback import open311_query

        start, end = query.interval or (None, None)
        status = query.filters.get("status")
        try:
            flt = open311_query.parse_filter(
                session, dt.datetime.now(dt.UTC),
                service_code=query.filters.get("service_code"),
                start_date=start.isoformat() if start else None,
                end_date=end.isoformat() if end else None,
                status=status,
            )  # fmt: skip
        except Invalid as exc:
            field = "datetime" if exc.field.endswith("_date") else exc.field
            raise Invalid(field, exc.errors[0]["message"]) from None
        rows = open311_query.find_requests(session, flt, "vi")
        found = [self._feature(r) for r in rows if r.lat is not None]
        found.sort(key=lambda f: int(f["id"]))
        return _page(found, ItemsQuery(query.bbox, None, query.limit, query.offset))

    def item(self, session: Session, principal: Principal, fid: str) -> Feature:
        from ioc.feedback import open311_query

        return self._feature(open311_query.find_request(session, fid, "vi"))


class DeviceSource:
    """Streetlights or cameras of the NGSI-LD broker (``ioc.devices``), for staff in scope."""

    queryables = {"place_code": "string"}

    def __init__(self, kind: str, broker: Any) -> None:
        self.kind = kind
        self.broker = broker
        self.id = kind
        self.title = "Streetlights" if kind == "streetlights" else "Cameras"
        self.description = f"{self.title} registered in the NGSI-LD broker (staff only)."

    def extent(self, session: Session) -> Extent:
        return Extent(None)

    def _all(self, session: Session, principal: Principal) -> list[Feature]:
        principal.require(*STAFF)
        from ioc.devices import cameras, entities, streetlights

        if self.kind == "cameras":
            return [
                feature(c.id, _point(c.lon, c.lat), {
                    "name": c.name, "place_code": c.place_code, "agency_code": c.agency_code,
                    "camera_type": c.camera_type, "usage": c.usage,
                })
                for c in cameras.list_cameras(session, self.broker, principal.scope)
            ]  # fmt: skip
        where = entities.Places(session)
        lights = streetlights.inventory(session, self.broker).lights.values()
        out = []
        for light in sorted(lights, key=lambda li: li.id):
            if not where.in_scope(principal.scope, light.place_code):
                continue
            at = entities.point(light.values)
            properties = {
                "name": light.values.get("name"), "place_code": light.place_code,
                "powerState": light.values.get("powerState"), "status": light.values.get("status"),
                "group": light.group,
            }  # fmt: skip
            out.append(feature(light.id, _point(at[1], at[0]) if at else None, properties))
        return out

    def items(
        self, session: Session, principal: Principal, query: ItemsQuery
    ) -> tuple[list[Feature], int]:
        return _page(self._all(session, principal), query)

    def item(self, session: Session, principal: Principal, fid: str) -> Feature:
        found = next((f for f in self._all(session, principal) if f["id"] == fid), None)
        if found is None:
            raise NotFound(f"no {self.kind[:-1]} {fid!r} inside your scope")
        return found

"""Reading device entities from the NGSI-LD broker: by type, in keyValues, with their commune.

Devices speak either the core context (types in the default vocabulary) or the Smart Data
Models context (``https://smartdatamodels.org/dataModel.X/Type``); both are read. Entities
carry no place in the broker, so the commune is derived here from the ``location`` by the
province's place index (``ioc.core.places.locate``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from shapely.geometry import shape
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from ioc.context.errors import NonexistentTenant
from ioc.context.jsonld import DEFAULT_VOCAB
from ioc.context.query import MAX_LIMIT, EntityQuery
from ioc.context.service import Broker
from ioc.context.store import Stored
from ioc.core import place_index, places
from ioc.core.scope import Scope
from ioc.devices.validation import local_name, stored_key_values

SDM = "https://smartdatamodels.org/"
SUBJECTS = {
    "Streetlight": "dataModel.Streetlighting",
    "StreetlightGroup": "dataModel.Streetlighting",
    "StreetlightControlCabinet": "dataModel.Streetlighting",
    "Camera": "dataModel.Device",
    "Device": "dataModel.Device",
}
EVERYWHERE = Scope.everywhere()
local_type = local_name  # "https://smartdatamodels.org/dataModel.Device/Camera" → "Camera"


def type_iris(name: str) -> tuple[str, ...]:
    """The expanded types an entity of ``name`` may have (core context, SDM context)."""
    found = [DEFAULT_VOCAB + name]
    if name in SUBJECTS:
        found.append(f"{SDM}{SUBJECTS[name]}/{name}")
    return tuple(found)


def of_type(broker: Broker, conn: Connection, tenant: str, name: str) -> Iterator[Stored]:
    """Every entity of the type in the tenant, page by page (none if the tenant is unknown)."""
    offset = 0
    while True:
        query = EntityQuery(types=type_iris(name), limit=MAX_LIMIT, offset=offset)
        try:
            page, _ = broker.query(conn, tenant, query, EVERYWHERE)
        except NonexistentTenant:
            return
        yield from page
        if len(page) < MAX_LIMIT:
            return
        offset += MAX_LIMIT


def key_values(stored: Stored) -> dict[str, Any]:
    """The entity in keyValues, attribute names local (``powerState``, ``refStreetlightGroup``)."""
    return stored_key_values(stored.id, stored.type, stored.attrs)


def point(entity: dict[str, Any]) -> tuple[float, float] | None:
    """(lat, lon) of a keyValues entity's location: the point, or a shape's centroid."""
    location = entity.get("location")
    if not isinstance(location, dict):
        return None
    try:
        if location.get("type") == "Point":
            lon, lat = location["coordinates"][:2]
            return float(lat), float(lon)
        centre = shape(location).centroid
        return float(centre.y), float(centre.x)
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


def commune_of(session: Session, at: tuple[float, float] | None) -> str | None:
    """The commune (or ward) holding the point, if any loaded place does."""
    return Places(session).commune(at)


class Places:
    """The place index read once for many lookups (locating lights, checking scopes)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.index = place_index.current(session)

    def commune(self, at: tuple[float, float] | None) -> str | None:
        if at is None:
            return None
        if not self.index.has_boundaries:
            hit = self.index.locate(at[0], at[1], "commune")
            return hit.code if hit is not None else None
        found = places.locate(self.session, at[0], at[1], "commune")
        return found.code if found is not None else None

    def within(self, code: str | None, root_path: str) -> bool:
        place = self.index.get(code)
        return place is not None and (
            place.path == root_path or place.path.startswith(root_path + "/")
        )

    def in_scope(self, scope: Scope, code: str | None) -> bool:
        """As ``Scope.contains_place``, from the index (no query per record)."""
        return scope.place_path is None or self.within(code, scope.place_path)


def ref(value: Any) -> str | None:
    """A Relationship's object in keyValues (the first, for a list)."""
    if isinstance(value, list):
        value = value[0] if value else None
    return value if isinstance(value, str) else None


def refs(value: Any) -> list[str]:
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return [value] if isinstance(value, str) else []


def number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)

"""The simulated fleet of Thành phố Hòa Bình: what devices there are, where, and their entities.

Deterministic for a seed: the same sizes and seed give the same ids at the same places, so the
demo, the server's simulator and ``ioc simulate devices`` agree on one fleet. Entities follow
the Smart Data Models (Streetlight, StreetlightGroup, StreetlightControlCabinet, Camera,
AirQualityObserved, WaterObserved, TrafficFlowObserved); each device is registered in the
ingest registry with its IoT Agent short names, lights taking ``switch``/``dim``/``schedule``.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from ioc.context.render import timestamp
from ioc.core.db import utcnow
from ioc.devices.cameras import OWNER_PREFIX
from ioc.simulate.geography import (
    City,
    Point,
    Street,
    along,
    junctions,
    load_city,
    offset,
    river_points,
    streets,
)

APIKEY = "ioc-sim"
LIGHTS_PER_GROUP = 25
GROUPS_PER_CABINET = 2
LIGHT_COMMANDS = ("switch", "dim", "schedule")
CAMERA_AGENCIES = ("CAT", "CAT", "SGTVT")  # police watch most junctions, transport the rest
KINDS = ("light", "camera", "air", "water", "traffic")


@dataclass(frozen=True, slots=True)
class Sizes:
    lights: int = 2000
    cameras: int = 50
    air: int = 20
    water: int = 10
    traffic: int = 20


FULL = Sizes()  # the demo's fleet

# IoT Agent JSON short name → (NGSI-LD attribute, type, UN/CEFACT unit)
ATTRIBUTES: dict[str, dict[str, tuple[str, str, str | None]]] = {
    "light": {
        "s": ("powerState", "Text", None),
        "p": ("powerConsumption", "Number", "WTT"),
        "e": ("energyConsumed", "Number", "KWH"),
        "l": ("illuminanceLevel", "Number", None),
        "v": ("voltage", "Number", "VLT"),
    },
    "camera": {"on": ("on", "Boolean", None)},
    "air": {
        "pm25": ("pm25", "Number", "GQ"),
        "pm10": ("pm10", "Number", "GQ"),
        "no2": ("no2", "Number", "GQ"),
        "o3": ("o3", "Number", "GQ"),
        "aqi": ("airQualityIndex", "Integer", None),
        "lvl": ("airQualityLevel", "Text", None),
        "t": ("temperature", "Number", "CEL"),
        "h": ("relativeHumidity", "Number", None),
        "d": ("dateObserved", "Text", None),
    },
    "water": {
        "h": ("height", "Number", "MTR"),
        "f": ("flow", "Number", "MQS"),
        "d": ("dateObserved", "Text", None),
    },
    "traffic": {
        "i": ("intensity", "Number", None),
        "o": ("occupancy", "Number", None),
        "v": ("averageVehicleSpeed", "Number", "KMH"),
        "c": ("congested", "Boolean", None),
        "d": ("dateObserved", "Text", None),
    },
}
TYPES = {
    "light": "Streetlight",
    "camera": "Camera",
    "air": "AirQualityObserved",
    "water": "WaterObserved",
    "traffic": "TrafficFlowObserved",
}
SHORT = {"light": "sl", "camera": "cam", "air": "aq", "water": "wl", "traffic": "tf"}


@dataclass(slots=True)
class Spec:
    """One simulated device and the entity it writes to."""

    kind: str
    device_id: str
    entity_id: str
    at: Point
    place_code: str
    entity: dict[str, Any]  # keyValues: the entity's fixed attributes
    rated_w: float = 0.0  # lights: the lamp's rating
    agency: str | None = None  # cameras: the owner agency


@dataclass(slots=True)
class Fleet:
    apikey: str
    city: City
    devices: list[Spec] = field(default_factory=list)
    groups: list[dict[str, Any]] = field(default_factory=list)  # keyValues entities
    cabinets: list[dict[str, Any]] = field(default_factory=list)

    def of(self, kind: str) -> list[Spec]:
        return [d for d in self.devices if d.kind == kind]

    def counts(self) -> dict[str, int]:
        out = {kind: len(self.of(kind)) for kind in KINDS}
        out.update(groups=len(self.groups), cabinets=len(self.cabinets))
        return out


def geo(at: Point) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [round(at[1], 6), round(at[0], 6)]}


def _urn(kind: str, ident: str) -> str:
    return f"urn:ngsi-ld:{kind}:{ident}"


def build(
    session: Session,
    sizes: Sizes = FULL,
    seed: int = 1,
    apikey: str = APIKEY,
    prefix: str = "hb",
    now: dt.datetime | None = None,
) -> Fleet:
    """The fleet for these sizes and seed, laid out over the loaded city (nothing written)."""
    rng = random.Random(seed)
    city = load_city(session)
    fleet = Fleet(apikey, city)
    observed = timestamp(now or utcnow())
    lines = streets(city, rng)
    _lights(fleet, lines, sizes.lights, prefix)
    crossings = junctions(city, lines)
    rng.shuffle(crossings)
    for n, at in enumerate(_take(crossings, sizes.cameras, city, rng), 1):
        agency = CAMERA_AGENCIES[n % len(CAMERA_AGENCIES)]
        fleet.devices.append(_camera(city, n, at, agency, prefix))
    sensor_sites = [(w.lat, w.lon) for w in city.wards]
    sensor_sites += [
        offset(s.a, 40, 40) for s in lines if s.main
    ]  # beside the main roads, off the junction itself
    for n, at in enumerate(_take(sensor_sites, sizes.air, city, rng), 1):
        fleet.devices.append(
            _sensor(city, "air", n, at, prefix, observed, typeofLocation="outdoor")
        )
    gauges = [p for p in river_points(max(sizes.water * 2, 1)) if city.commune(p)][::2]
    for n, at in enumerate(_take(gauges, sizes.water, city, rng), 1):
        fleet.devices.append(_sensor(city, "water", n, at, prefix, observed))
    roads = [along(s, s.length_m / 3, 1.0)[0] for s in lines if s.main and s.length_m > 300]
    for n, at in enumerate(_take(roads, sizes.traffic, city, rng), 1):
        lane = "forward" if n % 2 else "backward"
        fleet.devices.append(
            _sensor(city, "traffic", n, at, prefix, observed, laneId=1, laneDirection=lane)
        )
    return fleet


def _take(sites: list[Point], count: int, city: City, rng: random.Random) -> list[Point]:
    """``count`` sites from the list (inside the city), jittered copies if it runs short."""
    inside = [p for p in sites if city.commune(p)]
    chosen = inside[:count]
    while len(chosen) < count and inside:
        base = inside[len(chosen) % len(inside)]
        p = offset(base, rng.uniform(-250, 250), rng.uniform(-250, 250))
        if city.commune(p):
            chosen.append(p)
    return chosen


def _lights(fleet: Fleet, lines: list[Street], count: int, prefix: str) -> None:
    """Lamps spaced evenly along the streets (spacing shrunk until ``count`` fit in the city)."""
    if count <= 0:
        return
    city = fleet.city
    total = sum(s.length_m for s in lines)
    spacing = total / count
    placed: list[tuple[Point, Street]] = []
    for _ in range(8):
        placed = [(p, s) for s in lines for p in along(s, spacing) if city.commune(p)]
        if len(placed) >= count:
            break
        spacing *= max(0.5, len(placed) / count * 0.97)
    placed = placed[:count]
    groups: list[list[Spec]] = []
    for n, (at, street) in enumerate(placed, 1):
        if (n - 1) % LIGHTS_PER_GROUP == 0:
            groups.append([])
        g = len(groups)
        c = (g - 1) // GROUPS_PER_CABINET + 1
        spec = _light(fleet, n, at, street.main, prefix, (g, c))
        groups[-1].append(spec)
        fleet.devices.append(spec)
    for g, members in enumerate(groups, 1):
        c = (g - 1) // GROUPS_PER_CABINET + 1
        fleet.groups.append(
            {
                "id": _urn("StreetlightGroup", f"{prefix}-grp-{g:03d}"),
                "type": "StreetlightGroup",
                "location": geo(_middle([m.at for m in members])),
                "refStreetlight": [m.entity_id for m in members],
                "refStreetlightControlCabinet": _urn(
                    "StreetlightControlCabinet", f"{prefix}-cab-{c:03d}"
                ),
            }
        )
    for c in range((len(groups) + GROUPS_PER_CABINET - 1) // GROUPS_PER_CABINET):
        first = c * GROUPS_PER_CABINET
        mine = groups[first : first + GROUPS_PER_CABINET]
        lamps = [m for g in mine for m in g]
        fleet.cabinets.append(
            {
                "id": _urn("StreetlightControlCabinet", f"{prefix}-cab-{c + 1:03d}"),
                "type": "StreetlightControlCabinet",
                "location": geo(lamps[0].at),
                "refStreetlightGroup": [
                    _urn("StreetlightGroup", f"{prefix}-grp-{first + i + 1:03d}")
                    for i in range(len(mine))
                ],
                "workingMode": "automatic",
                "cupboardMadeOf": "metal",
                "maximumPowerAvailable": round(sum(m.rated_w for m in lamps) * 1.25 / 1000, 2),
                "serialNumber": f"TD-{prefix.upper()}-{c + 1:03d}",
                "responsible": "Công ty CP Môi trường và Dịch vụ đô thị Hòa Bình",
            }
        )


def _middle(points: list[Point]) -> Point:
    return sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points)


def _light(
    fleet: Fleet, n: int, at: Point, main: bool, prefix: str, parents: tuple[int, int]
) -> Spec:
    group, cabinet = f"{prefix}-grp-{parents[0]:03d}", f"{prefix}-cab-{parents[1]:03d}"
    rated = 150.0 if main else (100.0 if n % 3 else 60.0)
    ident = f"{prefix}-sl-{n:04d}"
    entity: dict[str, Any] = {
        "id": _urn("Streetlight", ident),
        "type": "Streetlight",
        "location": geo(at),
        "name": f"Đèn {ident}",
        "status": "ok",
        "powerState": "off",
        "powerRating": rated,
        "lanternHeight": 10.0 if main else 8.0,
        "controllingMethod": "group",
        "circuit": cabinet,
        "refStreetlightGroup": _urn("StreetlightGroup", group),
        "refStreetlightControlCabinet": _urn("StreetlightControlCabinet", cabinet),
    }
    code = fleet.city.commune(at) or ""
    return Spec("light", ident, entity["id"], at, code, entity, rated_w=rated)


def _camera(city: City, n: int, at: Point, agency: str, prefix: str) -> Spec:
    ident = f"{prefix}-cam-{n:03d}"
    traffic = agency == "SGTVT" or n % 2 == 0
    entity: dict[str, Any] = {
        "id": _urn("Camera", ident),
        "type": "Camera",
        "location": geo(at),
        "name": f"Camera nút giao {n:03d}",
        "cameraName": f"Camera nút giao {n:03d}",
        "cameraType": "PTZ" if n % 4 == 0 else "BULLET",
        "cameraUsage": "traffic" if traffic else "surveillance",
        "streamURL": f"rtsp://camera.hoabinh.example/{ident}",
        "imageSnapshot": f"https://camera.hoabinh.example/{ident}.jpg",
        "owner": [OWNER_PREFIX + agency],
        "on": True,
    }
    return Spec("camera", ident, entity["id"], at, city.commune(at) or "", entity, agency=agency)


NAMES = {
    "air": "Trạm quan trắc không khí",
    "water": "Trạm đo mực nước sông Đà",
    "traffic": "Trạm đếm xe",
}


def _sensor(
    city: City, kind: str, n: int, at: Point, prefix: str, observed: str, **extra: Any
) -> Spec:
    ident = f"{prefix}-{SHORT[kind]}-{n:03d}"
    entity: dict[str, Any] = {
        "id": _urn(TYPES[kind], ident),
        "type": TYPES[kind],
        "location": geo(at),
        "name": f"{NAMES[kind]} {n:02d}",
        "dateObserved": observed,
        **extra,
    }
    return Spec(kind, ident, entity["id"], at, city.commune(at) or "", entity)

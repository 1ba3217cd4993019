"""Where the simulated devices stand: Thành phố Hòa Bình's wards, plausible streets, the Đà river.

Streets are drawn from the loaded places (ioc.core.places), not invented coordinates: lines
joining neighbouring ward centroids (the roads between quarters) and a small grid around each
ward's centre. Every point kept is one the place index puts in a commune of the city, so a
device's commune is what ``ioc.devices.entities.Places.commune`` will derive from its location.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ioc.core.models import Place
from ioc.core.problems import Invalid
from ioc.devices.entities import Places

CITY_NAME = "Thành phố Hòa Bình"
METRES_PER_DEGREE = 111_320.0
GRID_STREETS = 3  # streets each way in a ward centre's grid
GRID_SPACING_M = 160.0

# The Đà river below the Hòa Bình dam, through the city: hand-drawn from memory of the map and
# APPROXIMATE (a few hundred metres off in places); good enough to stand gauges along.
DA_RIVER: tuple[tuple[float, float], ...] = (
    (20.8112, 105.3232),  # the Hòa Bình dam
    (20.8150, 105.3275),
    (20.8200, 105.3305),
    (20.8260, 105.3320),
    (20.8320, 105.3335),
    (20.8370, 105.3370),
    (20.8400, 105.3420),
    (20.8440, 105.3460),
    (20.8500, 105.3480),
    (20.8560, 105.3500),
)

Point = tuple[float, float]  # (lat, lon)


@dataclass(frozen=True, slots=True)
class Ward:
    code: str
    name: str
    lat: float
    lon: float
    urban: bool  # a phường (ward) rather than a xã (rural commune)


@dataclass(frozen=True, slots=True)
class Street:
    """A straight stretch of street; ``main`` streets get brighter lamps."""

    a: Point
    b: Point
    main: bool

    @property
    def length_m(self) -> float:
        return distance_m(self.a, self.b)


@dataclass
class City:
    """The city's district, its communes and the index that places a point in one of them."""

    code: str
    box: tuple[float, float, float, float]  # min_lat, max_lat, min_lon, max_lon
    wards: list[Ward]
    places: Places

    def commune(self, at: Point) -> str | None:
        """The city commune holding the point, or None when it falls outside the city (its
        communes' boxes reach beyond the district's own: both must hold the point)."""
        south, north, west, east = self.box
        if not (south <= at[0] <= north and west <= at[1] <= east):
            return None
        code = self.places.commune(at)
        return code if code in self.codes else None

    @property
    def codes(self) -> set[str]:
        return {w.code for w in self.wards}

    @property
    def centre(self) -> Point:
        urban = [w for w in self.wards if w.urban] or self.wards
        return (
            sum(w.lat for w in urban) / len(urban),
            sum(w.lon for w in urban) / len(urban),
        )


def distance_m(a: Point, b: Point) -> float:
    k = math.cos(math.radians((a[0] + b[0]) / 2))
    return math.hypot(a[0] - b[0], (a[1] - b[1]) * k) * METRES_PER_DEGREE


def load_city(session: Session) -> City:
    """Thành phố Hòa Bình from the loaded places (Invalid when the province is not loaded)."""
    district = session.scalars(
        select(Place).where(Place.level == "district", Place.name == CITY_NAME)
    ).first()
    if district is None or None in (district.min_lat, district.max_lat):
        raise Invalid("places", f"load Hòa Bình's places first (no {CITY_NAME} with a bbox)")
    rows = session.scalars(
        select(Place).where(Place.parent_code == district.code).order_by(Place.code)
    )
    wards = [
        Ward(p.code, p.name, p.lat, p.lon, p.kind == "Phường")
        for p in rows
        if p.lat is not None and p.lon is not None
    ]
    box = (district.min_lat, district.max_lat, district.min_lon, district.max_lon)
    return City(district.code, box, wards, Places(session))  # type: ignore[arg-type]


def offset(at: Point, north_m: float, east_m: float) -> Point:
    lat = at[0] + north_m / METRES_PER_DEGREE
    return lat, at[1] + east_m / (METRES_PER_DEGREE * math.cos(math.radians(at[0])))


def streets(city: City, rng: random.Random) -> list[Street]:
    """Main streets between each urban ward and its two nearest neighbours, then ward grids."""
    urban = [w for w in city.wards if w.urban]
    found: list[Street] = []
    seen: set[tuple[str, str]] = set()
    for ward in urban:
        near = sorted(
            (w for w in urban if w.code != ward.code),
            key=lambda w: distance_m((ward.lat, ward.lon), (w.lat, w.lon)),
        )
        for other in near[:2]:
            key = (min(ward.code, other.code), max(ward.code, other.code))
            if key not in seen:
                seen.add(key)
                found.append(Street((ward.lat, ward.lon), (other.lat, other.lon), True))
    for ward in urban:
        centre = (ward.lat, ward.lon)
        half = GRID_SPACING_M * (GRID_STREETS - 1) / 2
        tilt = rng.uniform(-0.4, 0.4)  # a grid is rarely north-up
        for n in range(GRID_STREETS):
            across = -half + n * GRID_SPACING_M
            for horizontal in (True, False):
                ends = [(-half * 1.5, across), (half * 1.5, across)]
                pts = []
                for along, side in ends:
                    north, east = (side, along) if horizontal else (along, side)
                    rn = north * math.cos(tilt) - east * math.sin(tilt)
                    re = north * math.sin(tilt) + east * math.cos(tilt)
                    pts.append(offset(centre, rn, re))
                found.append(Street(pts[0], pts[1], False))
    return found


def along(street: Street, spacing_m: float, phase: float = 0.5) -> list[Point]:
    """Points every ``spacing_m`` along the street (the first at ``phase`` of a spacing)."""
    length = street.length_m
    points: list[Point] = []
    d = spacing_m * phase
    while d < length:
        t = d / length
        a, b = street.a, street.b
        points.append((a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t))
        d += spacing_m
    return points


def junctions(city: City, found: list[Street]) -> list[Point]:
    """Street ends and grid crossings inside the city: where cameras watch."""
    points: list[Point] = []
    for street in found:
        points.extend((street.a, street.b))
    unique = list(dict.fromkeys((round(p[0], 6), round(p[1], 6)) for p in points))
    return [p for p in unique if city.commune(p) is not None]


def river_points(count: int) -> list[Point]:
    """``count`` points evenly spaced along the Đà river polyline, dam excluded."""
    legs = list(zip(DA_RIVER, DA_RIVER[1:], strict=False))
    lengths = [distance_m(a, b) for a, b in legs]
    total = sum(lengths)
    points: list[Point] = []
    for n in range(count):
        target = total * (n + 0.5) / count
        for (a, b), length in zip(legs, lengths, strict=True):
            if target <= length:
                t = target / length
                points.append((a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t))
                break
            target -= length
    return points

"""Infrastructure layers of the demo: telecom from the seeds' figures, and synthetic streets."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from math import cos, radians
from typing import Any

from shapely.geometry import LineString, Point
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from ioc.core.models import Agency, Place
from ioc.gis import geometry as geo
from ioc.gis.models import FEATURES, GisLayer

SEED = 2026
M_PER_DEG = 111_320
OPERATORS = ("Viettel", "VNPT", "MobiFone")
# Agencies on the specialised network beside the district committees (32 points in all).
PROVINCIAL_KINDS = ("provincial_pc", "office", "department", "police", "service_centre")
Row = tuple[str, Any, Mapping[str, Any], str | None]  # fid, geometry, properties, place code


def offset(lat: float, lon: float, north_m: float, east_m: float) -> tuple[float, float]:
    return lat + north_m / M_PER_DEG, lon + east_m / (M_PER_DEG * cos(radians(lat)))


def _layer(
    session: Session,
    layer_id: str,
    title: str,
    description: str,
    rows: Sequence[tuple[str, Any, Mapping[str, Any], str | None]],
) -> None:
    """A built layer of (fid, shapely geometry, properties, place code) rows."""
    shapes = [shape for _, shape, _, _ in rows]
    bounds = [s.bounds for s in shapes]
    fields = sorted({k for _, _, props, _ in rows for k in props})
    session.add(
        GisLayer(
            id=layer_id,
            title=title,
            description=description,
            category="infrastructure",
            geometry_type=shapes[0].geom_type,
            source="demo",
            source_crs="EPSG:4326",
            feature_count=len(rows),
            temporal_property=None,
            properties=[{"name": f, "type": "string"} for f in fields],
            min_lon=min(b[0] for b in bounds),
            min_lat=min(b[1] for b in bounds),
            max_lon=max(b[2] for b in bounds),
            max_lat=max(b[3] for b in bounds),
        )
    )
    session.flush()
    session.execute(
        insert(FEATURES),
        [
            {
                "layer_id": layer_id,
                "fid": fid,
                "properties": dict(props),
                "geometry": geo.to_text(shape),
                "place_code": place,
                **dict(
                    zip(("min_lon", "min_lat", "max_lon", "max_lat"), shape.bounds, strict=True)
                ),
            }
            for fid, shape, props, place in rows
        ],
    )


def telecom(session: Session, province: Place) -> int:
    """BTS stations and the 183 network points; returns how many features were written."""
    rng = random.Random(SEED + 1)
    communes = list(
        session.scalars(select(Place).where(Place.level == "commune").order_by(Place.code))
    )
    districts = list(
        session.scalars(select(Place).where(Place.level == "district").order_by(Place.code))
    )
    assert province.lat is not None and province.lon is not None
    bts: list[Row] = []
    points: list[Row] = []
    for i, place in enumerate(communes):
        if place.lat is None or place.lon is None:
            continue
        lat, lon = offset(place.lat, place.lon, rng.uniform(-400, 400), rng.uniform(-400, 400))
        bts.append(
            (
                f"BTS-{place.code}",
                Point(lon, lat),
                {
                    "name": f"Trạm BTS {place.short_name}",
                    "operator": OPERATORS[i % 3],
                    "technology": "4G",
                    "status": "in_service",
                    "synthetic": "position",
                },
                place.code,
            )
        )
        points.append(
            (
                f"MCD-{place.code}",
                Point(place.lon, place.lat),
                {
                    "name": f"UBND {place.name}",
                    "level": "commune",
                    "network": "mạng truyền số liệu chuyên dùng",
                    "synthetic": "position",
                },
                place.code,
            )
        )
    for d in districts:
        if d.lat is not None and d.lon is not None:
            points.append(
                (
                    f"MCD-{d.code}",
                    Point(d.lon, d.lat),
                    {
                        "name": f"UBND {d.name}",
                        "level": "district",
                        "network": "mạng truyền số liệu chuyên dùng",
                        "synthetic": "position",
                    },
                    None,
                )
            )
    agencies = session.scalars(
        select(Agency).where(Agency.kind.in_(PROVINCIAL_KINDS)).order_by(Agency.code)
    )
    for a in list(agencies)[: 32 - len(districts)]:
        lat, lon = offset(
            province.lat, province.lon, rng.uniform(-900, 900), rng.uniform(-900, 900)
        )
        points.append(
            (
                f"MCD-{a.code}",
                Point(lon, lat),
                {
                    "name": a.name,
                    "level": "province",
                    "network": "mạng truyền số liệu chuyên dùng",
                    "synthetic": "position",
                },
                None,
            )
        )
    centre = Point(province.lon, province.lat)
    fibre = [
        (
            f"CAP-{d.code}",
            LineString([centre, Point(d.lon, d.lat)]),
            {"name": f"Tuyến cáp quang trục tỉnh – {d.name}", "level": "I", "synthetic": "route"},
            None,
        )
        for d in districts
        if d.lat is not None and d.lon is not None
    ]
    _layer(
        session,
        "bts-stations",
        "BTS stations",
        "Mobile base stations: one in every commune (seeds).",
        bts,
    )
    _layer(
        session,
        "network-points",
        "Specialised data network points",
        "183 points of the Party and State specialised data network (32 + 151, seeds).",
        points,
    )
    _layer(
        session,
        "fibre-routes",
        "Fibre routes",
        "Provincial backbone to each district (synthetic routes).",
        fibre,
    )
    return len(bts) + len(points) + len(fibre)


def _block(place: Place, per_side: int) -> tuple[float, float, float, float]:
    """(west, south, east, north) of the commune's cadastral block (as ``ioc.gis.demo`` lays it)."""
    assert place.lat is not None and place.lon is not None
    half = per_side * (22.0 if place.kind == "Phường" else 45.0) / 2
    south, west = offset(place.lat, place.lon, -half, -half)
    north, east = offset(place.lat, place.lon, half, half)
    return west, south, east, north


def roads(session: Session, communes: list[Place], per_side: int = 12) -> int:
    """Streets around and across each block, and the water mains and power lines along them."""
    streets: list[Row] = []
    water: list[Row] = []
    power: list[Row] = []
    step = 4.0 / M_PER_DEG  # utilities run a few metres beside the street's centre line
    for place in communes:
        if place.lat is None or place.lon is None:
            continue
        west, south, east, north = _block(place, per_side)
        mid_lat, mid_lon = (south + north) / 2, (west + east) / 2
        ring = [(west, south), (east, south), (east, north), (west, north), (west, south)]
        lines = ([(west, mid_lat), (east, mid_lat)], [(mid_lon, south), (mid_lon, north)], ring)
        for n, line in enumerate(lines):
            name = f"Đường {place.short_name} {n + 1}"
            kind = "urban" if n < 2 else "ring"
            streets.append(
                (
                    f"RD-{place.code}-{n + 1}",
                    LineString(line),
                    {"name": name, "class": kind, "synthetic": "route"},
                    place.code,
                )
            )
        for n, lat in enumerate((mid_lat + step, south + step)):
            water.append(
                (
                    f"CN-{place.code}-{n + 1}",
                    LineString([(west, lat), (east, lat)]),
                    {
                        "diameter_mm": "160" if n == 0 else "110",
                        "material": "HDPE",
                        "operator": "Công ty CP Nước sạch Hòa Bình",
                        "synthetic": "route",
                    },
                    place.code,
                )
            )
        power.append(
            (
                f"DL-{place.code}",
                LineString([(mid_lon + step, south), (mid_lon + step, north)]),
                {
                    "voltage_kv": "22",
                    "kind": "medium voltage",
                    "operator": "Điện lực Hòa Bình",
                    "synthetic": "route",
                },
                place.code,
            )
        )
    _layer(
        session,
        "roads",
        "Roads",
        "Streets of Hòa Bình city's cadastral blocks (synthetic).",
        streets,
    )
    _layer(
        session,
        "water-network",
        "Water network",
        "Water mains along the streets (synthetic).",
        water,
    )
    _layer(
        session,
        "power-network",
        "Power network",
        "22 kV lines along the streets (synthetic).",
        power,
    )
    return len(streets) + len(water) + len(power)


def bridges(session: Session, communes: list[Place]) -> int:
    """A bridge where the street between two neighbouring wards meets: the Đà and its streams
    divide Hòa Bình city, so its wards are joined by bridges (positions synthetic)."""
    rng = random.Random(SEED + 2)
    located = sorted(
        (p for p in communes if p.lat is not None and p.lon is not None),
        key=lambda p: (p.lon, p.lat),
    )
    rows: list[Row] = []
    for a, b in zip(located, located[1:], strict=False):
        assert a.lat is not None and a.lon is not None and b.lat is not None and b.lon is not None
        rows.append(
            (
                f"CAU-{a.code}-{b.code}",
                Point((a.lon + b.lon) / 2, (a.lat + b.lat) / 2),
                {
                    "name": f"Cầu {a.short_name} – {b.short_name}",
                    "span_m": str(rng.choice((24, 33, 42, 66, 120, 180))),
                    "load_t": str(rng.choice((13, 18, 30))),
                    "built": str(rng.randint(1975, 2022)),
                    "synthetic": "position",
                },
                a.code,
            )
        )
    if rows:
        _layer(
            session,
            "bridges",
            "Bridges",
            "Bridges joining the wards of Hòa Bình city (synthetic positions and spans).",
            rows,
        )
    return len(rows)

"""The GIS demo step: a synthetic cadastre of Hòa Bình city and the province's telecom layers.

Parcels are synthetic but plausible: a block around each commune's centroid (small urban lots
in wards, larger fields in communes), zoned by a simulated general plan, with the land-use mix
that zone allows and a few per cent in conflict with it. Telecom follows the seeds: a BTS in
every commune, and the 183 points of the specialised data network (32 at departments and
district People's Committees, 151 at commune People's Committees). Everything is marked
``synthetic`` where a position is invented. Written with Core inserts: a few seconds at most.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from shapely.geometry import box
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from ioc.core import audit
from ioc.core.db import utcnow
from ioc.core.models import Place
from ioc.demo.builder import DemoContext
from ioc.gis import geometry as geo
from ioc.gis.demo_layers import bridges, roads, telecom
from ioc.gis.demo_layers import offset as _offset
from ioc.gis.models import PARCELS, ZONES, LandParcel, ParcelChange
from ioc.gis.parcels import area_m2, parcel_key

SEED = 2025
M_PER_DEG = 111_320
PLAN = "Quy hoạch chung thành phố Hòa Bình (mô phỏng)"
# designation → (allowed land-use codes, codes drawn with their weights)
ZONING: dict[str, tuple[list[str], dict[str, int]]] = {
    "urban_core": (
        ["ODT", "TMD", "TSC", "DGD", "DYT", "DTT", "DGT", "DKV", "SKC"],
        {"ODT": 70, "TMD": 10, "TSC": 3, "DGD": 3, "DYT": 2, "DGT": 7, "DKV": 5},
    ),
    "urban_green": (
        ["DKV", "CLN", "DTT", "DGT", "MNC"],
        {"DKV": 40, "CLN": 40, "DTT": 10, "DGT": 10},
    ),
    "rural_residential": (
        ["ONT", "CLN", "BHK", "DGT", "DGD", "TSC"],
        {"ONT": 60, "CLN": 25, "BHK": 10, "DGT": 5},
    ),
    "agriculture": (
        ["LUC", "LUK", "BHK", "CLN", "NTS", "DTL", "DGT"],
        {"LUC": 50, "LUK": 15, "BHK": 15, "CLN": 10, "NTS": 10},
    ),
    "production_forest": (["RSX", "RPH", "CLN"], {"RSX": 80, "CLN": 15, "RPH": 5}),
}
WARD_ZONES = ("urban_core", "urban_core", "urban_core", "urban_green")
COMMUNE_ZONES = ("rural_residential", "agriculture", "agriculture", "production_forest")
CONFLICT_SHARE = 0.03
PUBLIC_USES = frozenset({"TSC", "DGD", "DYT", "DTT", "DGT", "DKV", "MNC", "DTL"})
FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Bùi", "Đinh", "Quách", "Xa", "Hà", "Vũ")
GIVEN = (
    "Văn An",
    "Thị Bình",
    "Văn Cường",
    "Thị Dung",
    "Văn Hùng",
    "Thị Lan",
    "Minh Tuấn",
    "Thu Hà",
    "Văn Thắng",
    "Thị Mai",
    "Đức Long",
    "Thị Hoa",
)


def _holder(rng: random.Random, place: Place, use: str) -> dict[str, Any]:
    if use in PUBLIC_USES:
        return {
            "holder_name": f"UBND {place.name}",
            "holder_id": f"ORG-{place.code}",
            "holder_kind": "organisation",
            "certificate_no": None,
            "certificate_date": None,
        }
    if rng.random() < 0.12:  # not yet certified
        return dict.fromkeys(
            ("holder_name", "holder_id", "holder_kind", "certificate_no", "certificate_date")
        )
    day = dt.date(2005, 1, 1) + dt.timedelta(days=rng.randrange(20 * 365))
    return {
        "holder_name": f"{rng.choice(FAMILY)} {rng.choice(GIVEN)}",
        "holder_id": f"017{rng.randrange(10**9):09d}",  # CCCD: 017 is Hòa Bình's province code
        "holder_kind": rng.choice(("individual", "household")),
        "certificate_no": f"{rng.choice(('CS', 'DA', 'BK'))} {rng.randrange(10**6):06d}",
        "certificate_date": day,
    }


def cadastre(session: Session, communes: list[Place], per_side: int = 12) -> tuple[int, int]:
    """Zones and parcels around each commune's centroid; (zones, parcels) written."""
    rng = random.Random(SEED)
    zones: list[dict[str, Any]] = []
    parcels: list[dict[str, Any]] = []
    for place in communes:
        if place.lat is None or place.lon is None:
            continue
        ward = place.kind == "Phường"
        cell = 22.0 if ward else 45.0  # metres: town lots, or fields
        half = per_side * cell / 2
        south, west = _offset(place.lat, place.lon, -half, -half)
        north, east = _offset(place.lat, place.lon, half, half)
        mid_lat, mid_lon = (south + north) / 2, (west + east) / 2
        quadrants = [
            box(west, south, mid_lon, mid_lat),
            box(mid_lon, south, east, mid_lat),
            box(west, mid_lat, mid_lon, north),
            box(mid_lon, mid_lat, east, north),
        ]
        kinds = WARD_ZONES if ward else COMMUNE_ZONES
        for q, (shape, designation) in enumerate(zip(quadrants, kinds, strict=True)):
            zones.append(
                {
                    "code": f"QH-{place.code}-{q + 1}",
                    "name": f"{place.name}, khu {q + 1}",
                    "designation": designation,
                    "allowed_uses": ZONING[designation][0],
                    "plan": PLAN,
                    "place_code": place.code,
                    "geometry": geo.to_text(shape),
                    **dict(
                        zip(("min_lon", "min_lat", "max_lon", "max_lat"), shape.bounds, strict=True)
                    ),
                }
            )
        dlat, dlon = (north - south) / per_side, (east - west) / per_side
        numbers: dict[int, int] = {}
        for r in range(per_side):
            for c in range(per_side):
                shape = box(
                    west + c * dlon, south + r * dlat, west + (c + 1) * dlon, south + (r + 1) * dlat
                )
                q = (2 if r >= per_side / 2 else 0) + (1 if c >= per_side / 2 else 0)
                allowed, weights = ZONING[kinds[q]]
                use = rng.choices(list(weights), list(weights.values()))[0]
                if rng.random() < CONFLICT_SHARE:
                    use = rng.choice(
                        [u for u in ("ODT", "ONT", "TMD", "SKC") if u not in allowed] or ["SKC"]
                    )
                sheet = 1 + r // 6
                numbers[sheet] = numbers.get(sheet, 0) + 1
                parcels.append(
                    {
                        "key": parcel_key(place.code, sheet, numbers[sheet]),
                        "commune_code": place.code,
                        "sheet_no": sheet,
                        "parcel_no": numbers[sheet],
                        "area_m2": area_m2(shape),
                        "land_use": use,
                        "zone_code": f"QH-{place.code}-{q + 1}",
                        "status": "active",
                        "version": 1,
                        "updated_at": utcnow(),
                        "geometry": geo.to_text(shape),
                        **dict(
                            zip(
                                ("min_lon", "min_lat", "max_lon", "max_lat"),
                                shape.bounds,
                                strict=True,
                            )
                        ),
                        **_holder(rng, place, use),
                    }
                )
    session.execute(insert(ZONES), zones)
    for start in range(0, len(parcels), 2000):
        session.execute(insert(PARCELS), parcels[start : start + 2000])
    now = utcnow()
    changes = [
        {
            "parcel_key": p["key"],
            "version": 1,
            "change": "created",
            "at": now,
            "actor": "demo",
            "related": [],
            "note": "demo cadastre",
            "state": geo.jsonable(
                {
                    k: (v.isoformat() if isinstance(v, dt.date | dt.datetime) else v)
                    for k, v in p.items()
                    if k not in ("updated_at", "min_lon", "min_lat", "max_lon", "max_lat")
                }
                | {"geometry": geo.jsonable(geo.mapping_of(geo.from_json(p["geometry"])))}  # type: ignore[arg-type]
            ),
        }
        for p in parcels
    ]
    for start in range(0, len(changes), 2000):
        session.execute(insert(ParcelChange), changes[start : start + 2000])
    audit.record(
        session,
        "create",
        "gis_parcels",
        "demo",
        after={"zones": len(zones), "parcels": len(parcels)},
    )
    return len(zones), len(parcels)


def gis_step(ctx: DemoContext) -> None:
    with ctx.database.session("demo") as session:
        if session.scalar(select(LandParcel.id).limit(1)) is not None:
            return
        province = session.get(Place, ctx.province_code)
        city = session.scalars(
            select(Place).where(
                Place.level == "district",
                Place.parent_code == ctx.province_code,
                Place.kind == "Thành phố",
            )
        ).first()
        if province is None or city is None:
            return
        communes = list(
            session.scalars(
                select(Place).where(Place.parent_code == city.code).order_by(Place.code)
            )
        )
        zones, written = cadastre(session, communes)
        features = (
            telecom(session, province) + roads(session, communes) + bridges(session, communes)
        )
        ctx.notes.append(
            f"GIS: {written:,} parcels in {zones} planning zones of {city.name}; "
            f"{features} infrastructure features"
        )

"""Land parcels: changes keep every earlier state; queries; who may see and change holders."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from shapely.geometry import box, shape
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from ioc.core.problems import Conflict, Invalid
from ioc.gis import parcels
from ioc.gis.models import LandParcel, PlanningZone
from ioc.gis.parcels import Holder
from tests.gis.conftest import TAN_THINH


def _some_parcel(session: Session, use: str | None = None) -> LandParcel:
    stmt = select(LandParcel).where(
        LandParcel.commune_code == TAN_THINH, LandParcel.status == "active"
    )
    if use:
        stmt = stmt.where(LandParcel.land_use == use)
    found = session.scalars(stmt.order_by(LandParcel.id)).first()
    assert found is not None
    return found


def test_transfer_and_change_of_use_keep_every_state(session: Session) -> None:
    parcel = _some_parcel(session, "ODT")
    key, first_holder = parcel.key, parcel.holder_name
    buyer = Holder(
        "Nguyễn Thị Hạnh", "017190000123", "individual", "DA 000123", dt.date(2026, 5, 4)
    )
    parcels.transfer(session, key, buyer, note="hợp đồng chuyển nhượng")
    parcels.change_use(session, key, "TMD")
    session.commit()
    history = parcels.history(session, key)
    assert [h.change for h in history] == ["created", "transfer", "change_of_use"]
    assert [h.version for h in history] == [1, 2, 3]
    assert history[0].state["holder_name"] == first_holder and history[0].state["land_use"] == "ODT"
    assert history[1].state["holder_name"] == "Nguyễn Thị Hạnh"
    assert (
        history[2].state["land_use"] == "TMD" and history[2].state["certificate_no"] == "DA 000123"
    )
    with pytest.raises(Invalid):
        parcels.change_use(session, key, "XYZ")


def test_split_and_merge_retire_sources_and_link_both_ways(session: Session) -> None:
    source = _some_parcel(session)
    whole = shape(parcels.state(source)["geometry"])
    west, south, east, north = whole.bounds
    mid = (west + east) / 2
    halves = [
        box(west, south, mid, north).__geo_interface__,
        box(mid, south, east, north).__geo_interface__,
    ]
    with pytest.raises(Invalid):
        parcels.split(session, source.key, [halves[0], halves[0]], 901)  # overlapping, not covering
    made = parcels.split(session, source.key, halves, 901, note="tách thửa")
    assert [p.parcel_no for p in made] == [901, 902]
    assert abs(sum(p.area_m2 for p in made) - source.area_m2) < 1.0
    assert source.status == "retired"
    with pytest.raises(Conflict):
        parcels.transfer(session, source.key, Holder("A", "1"))
    merged = parcels.merge(session, [p.key for p in made], 950, note="hợp thửa")
    session.commit()
    assert merged.area_m2 == pytest.approx(source.area_m2, abs=1.0)
    assert parcels.history(session, source.key)[-1].related == [p.key for p in made]
    assert parcels.history(session, merged.key)[0].related == [p.key for p in made]
    assert [h.change for h in parcels.history(session, made[0].key)] == ["split", "merge"]
    assert len(parcels.history(session, source.key)) == 2  # created, split: nothing lost


def test_new_parcel_finds_its_zone_and_area(session: Session) -> None:
    zone = session.scalars(select(PlanningZone).where(PlanningZone.place_code == TAN_THINH)).first()
    assert zone is not None and zone.min_lon is not None and zone.min_lat is not None
    lon, lat = zone.min_lon + 0.0001, zone.min_lat + 0.0001
    square = box(lon, lat, lon + 0.0002, lat + 0.0002)
    parcel = parcels.create(session, TAN_THINH, 99, 1, "odt", square)
    assert parcel.zone_code == zone.code and parcel.land_use == "ODT"
    assert 400 < parcel.area_m2 < 500  # ~21 m × ~23 m
    with pytest.raises(Conflict):
        parcels.create(session, TAN_THINH, 99, 1, "ODT", square)
    with pytest.raises(Invalid):
        parcels.create(session, "148", 99, 2, "ODT", square)  # a district, not a commune


def test_statistics_and_conflicts(session: Session) -> None:
    stats = parcels.statistics(session, [TAN_THINH])
    assert {row["commune_code"] for row in stats} == {TAN_THINH}
    assert sum(row["parcels"] for row in stats) == 144
    conflicts = parcels.conflicts(session)
    assert conflicts, "the demo plants a few per cent of conflicting uses"
    for parcel, zone in conflicts:
        assert parcel.land_use not in zone.allowed_uses


def test_api_holders_and_changes_by_role(
    client: TestClient, auth: Callable[..., dict[str, str]]
) -> None:
    features = client.get("/ogcapi/collections/parcels/items?limit=1&land_use=ODT").json()[
        "features"
    ]
    key = features[0]["id"]
    leader, citizen, admin = auth("lanhdao"), auth("congdan"), auth("admin")
    holder_id = client.get(f"/api/v1/gis/parcels/{key}", headers=leader).json()["holder_id"]
    assert holder_id
    assert client.get(f"/api/v1/gis/parcels/{key}", headers=citizen).json()["holder_id"] is None
    by_holder = client.get(f"/api/v1/gis/parcels?holder_id={holder_id}", headers=leader)
    assert key in [p["key"] for p in by_holder.json()]
    assert (
        client.get(f"/api/v1/gis/parcels?holder_id={holder_id}", headers=citizen).status_code == 403
    )
    zone = features[0]["properties"]["zone_code"]
    in_zone = client.get(f"/api/v1/gis/parcels?zone={zone}", headers=citizen).json()
    assert key in [p["key"] for p in in_zone] and all(p["holder_id"] is None for p in in_zone)

    body = {"holder": {"name": "Lê Văn Tám", "id": "017200000001", "certificate_no": "CS 000001"}}
    assert (
        client.post(f"/api/v1/gis/parcels/{key}/transfer", json=body, headers=leader).status_code
        == 403
    )
    done = client.post(f"/api/v1/gis/parcels/{key}/transfer", json=body, headers=admin)
    assert done.status_code == 200 and done.json()["version"] == 2
    history = client.get(f"/api/v1/gis/parcels/{key}/history", headers=citizen).json()
    assert [h["change"] for h in history] == ["created", "transfer"]
    assert "holder_name" not in history[1]["state"]
    assert (
        client.get(f"/api/v1/gis/parcels/{key}/history", headers=admin).json()[1]["state"][
            "holder_name"
        ]
        == "Lê Văn Tám"
    )

    stats = client.get("/api/v1/gis/land-statistics", headers=leader).json()
    assert sum(s["parcels"] for s in stats) >= 2000
    assert client.get("/api/v1/gis/land-statistics", headers=citizen).status_code == 403
    da_bac = client.get("/api/v1/gis/land-statistics", headers=auth("dabac")).json()
    assert da_bac == []  # the cadastre is Hòa Bình city's, outside Đà Bắc
    conflicts = client.get("/api/v1/gis/planning-conflicts", headers=leader).json()
    assert conflicts and all(c["land_use"] not in c["allowed_uses"] for c in conflicts)

"""Cameras as NGSI-LD entities; their analytics events with the commune, scope, counts, bus."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tests.devices.conftest import DA_BAC_TOWN, TAN_HOA, THAI_BINH, Devices, point, prop

BASE = "/api/v1/cameras"
VN = dt.timezone(dt.timedelta(hours=7))


def camera(dev: Devices, code: str, at: tuple[float, float], agency: str | None = None) -> str:
    body = {
        "id": f"urn:ngsi-ld:Camera:{code}",
        "name": f"Camera {code}",
        "lat": at[0],
        "lon": at[1],
        "stream_url": f"rtsp://cams.hoabinh.gov.vn/{code}",
        "snapshot_url": f"https://cams.hoabinh.gov.vn/{code}.jpg",
        "camera_type": "PTZ",
        "usage": "TRAFFIC",
        "agency_code": agency,
    }
    response = dev.client.post(BASE, json=body, headers=dev.operator)
    assert response.status_code == 201, response.text
    return body["id"]


def test_camera_is_an_ngsi_ld_entity_placed_in_its_commune(dev: Devices) -> None:
    cam = camera(dev, "tp-01", THAI_BINH)
    got = dev.client.get(f"{BASE}/{cam}", headers=dev.leader).json()
    assert got["place_code"] == "04789"  # Phường Thái Bình
    assert got["stream_url"] == "rtsp://cams.hoabinh.gov.vn/tp-01"
    entity = dev.ngsi("GET", f"/entities/{cam}", params={"options": "keyValues"}).json()
    assert entity["type"] == "Camera"
    assert entity["cameraType"] == "PTZ"
    assert entity["imageSnapshot"] == "https://cams.hoabinh.gov.vn/tp-01.jpg"
    assert entity["location"] == {"type": "Point", "coordinates": [THAI_BINH[1], THAI_BINH[0]]}
    # One written by a device over NGSI-LD is a camera too.
    dev.create(
        {
            "id": "urn:ngsi-ld:Camera:db-01",
            "type": "Camera",
            "location": point(DA_BAC_TOWN),
            "streamURL": prop("rtsp://10.0.0.9/live"),
        }
    )
    listed = dev.client.get(BASE, headers=dev.operator).json()
    assert {(c["id"], c["place_code"]) for c in listed} == {
        (cam, "04789"),
        ("urn:ngsi-ld:Camera:db-01", "04831"),
    }
    assert [c["id"] for c in dev.client.get(BASE, headers=dev.dabac).json()] == [
        "urn:ngsi-ld:Camera:db-01"
    ]
    bad = dev.client.post(
        BASE,
        json={"id": "urn:ngsi-ld:Camera:x", "name": "x", "lat": 20.8, "lon": 105.3, "usage": "SPY"},
        headers=dev.operator,
    )
    assert bad.status_code == 422
    outside = dev.client.post(
        BASE,
        json={"id": "urn:ngsi-ld:Camera:y", "name": "y", "lat": THAI_BINH[0], "lon": THAI_BINH[1]},
        headers=dev.dabac,
    )
    assert outside.status_code == 422 and "scope" in outside.json()["detail"]


def test_events_are_kept_with_camera_and_place_and_published(dev: Devices) -> None:
    cam = camera(dev, "tp-02", TAN_HOA)
    at = dt.datetime(2026, 11, 20, 7, 15, tzinfo=VN)
    one = dev.client.post(
        f"{BASE}/{cam}/events",
        json={
            "kind": "fire",
            "occurred_at": at.isoformat(),
            "confidence": 0.93,
            "external_id": "e1",
        },
        headers=dev.device,
    )
    assert one.status_code == 201, one.text
    assert one.json()["stored"] == 1
    batch = [
        {"kind": "vehicle_count", "occurred_at": (at + dt.timedelta(minutes=m)).isoformat(),
         "count": 40 + m, "external_id": f"vc{m}"}
        for m in range(3)
    ] + [{"kind": "fire", "occurred_at": at.isoformat(), "external_id": "e1"}]  # fmt: skip
    many = dev.client.post(f"{BASE}/{cam}/events", json={"events": batch}, headers=dev.device)
    assert many.status_code == 201, many.text
    assert many.json()["stored"] == 3 and many.json()["skipped"] == 1
    bare = dev.client.post(
        f"{BASE}/{cam}/events",
        json=[{"kind": "smoke", "occurred_at": at.isoformat()}],
        headers=dev.device,
    )
    assert bare.json()["stored"] == 1

    events = dev.client.get(
        f"{BASE}/events",
        params={
            "camera": cam,
            "from": "2026-11-19T00:00:00+07:00",
            "to": "2026-11-21T00:00:00+07:00",
        },
        headers=dev.operator,
    ).json()
    assert events["total"] == 5
    fire = next(e for e in events["items"] if e["kind"] == "fire")
    assert fire["place_code"] == "04792" and fire["severity"] == "high"
    assert fire["confidence"] == 0.93
    published = dev.events("camera.")
    assert [t for t, _ in published] == [
        "camera.fire", "camera.vehicle_count", "camera.vehicle_count", "camera.vehicle_count",
        "camera.smoke",
    ]  # fmt: skip
    assert published[0][1]["severity"] == "high" and published[0][1]["place_code"] == "04792"
    assert published[-1][1]["severity"] == "high"
    assert published[1][1]["severity"] == "info"

    unknown = dev.client.post(
        f"{BASE}/urn:ngsi-ld:Camera:none/events", json={"kind": "fire"}, headers=dev.device
    )
    assert unknown.status_code == 404
    wrong = dev.client.post(f"{BASE}/{cam}/events", json={"kind": "ufo"}, headers=dev.device)
    assert wrong.status_code == 422
    assert (
        dev.client.post(
            f"{BASE}/{cam}/events", json={"kind": "fire"}, headers=dev.leader
        ).status_code
        == 403
    )


def test_scope_filters_and_counts_per_period(dev: Devices) -> None:
    city, dabac = camera(dev, "tp-03", THAI_BINH), camera(dev, "db-03", DA_BAC_TOWN)
    day1 = dt.datetime(2026, 11, 23, 23, 30, tzinfo=VN)  # 16:30 UTC: still the 23rd in Vietnam
    day2 = dt.datetime(2026, 11, 24, 0, 30, tzinfo=VN)  # 17:30 UTC on the 23rd, the 24th here
    for cam, kinds in ((city, ["congestion", "vehicle_count"]), (dabac, ["crowding"])):
        body = [
            {"kind": kind, "occurred_at": when.isoformat(), "count": 10}
            for kind in kinds
            for when in (day1, day2)
        ]
        assert (
            dev.client.post(f"{BASE}/{cam}/events", json=body, headers=dev.device).status_code
            == 201
        )
    window = {"from": "2026-11-23T00:00:00+07:00", "to": "2026-11-25T00:00:00+07:00"}

    everything = dev.client.get(f"{BASE}/events", params=window, headers=dev.operator).json()
    assert everything["total"] == 6
    mine = dev.client.get(f"{BASE}/events", params=window, headers=dev.dabac).json()
    assert mine["total"] == 2 and {e["camera_id"] for e in mine["items"]} == {dabac}
    district = dev.client.get(
        f"{BASE}/events", params={**window, "place": "148"}, headers=dev.leader
    ).json()
    assert district["total"] == 4
    kinds = dev.client.get(
        f"{BASE}/events",
        params={**window, "kind": ["congestion", "crowding"]},
        headers=dev.operator,
    ).json()
    assert kinds["total"] == 4
    assert dev.client.get(f"{BASE}/{city}", headers=dev.dabac).status_code == 404

    counts = dev.client.get(
        f"{BASE}/events/counts", params={**window, "period": "day"}, headers=dev.operator
    ).json()
    assert counts == [
        {"period": "2026-11-23", "kind": "congestion", "events": 1, "total_count": 10},
        {"period": "2026-11-23", "kind": "crowding", "events": 1, "total_count": 10},
        {"period": "2026-11-23", "kind": "vehicle_count", "events": 1, "total_count": 10},
        {"period": "2026-11-24", "kind": "congestion", "events": 1, "total_count": 10},
        {"period": "2026-11-24", "kind": "crowding", "events": 1, "total_count": 10},
        {"period": "2026-11-24", "kind": "vehicle_count", "events": 1, "total_count": 10},
    ]
    hours = dev.client.get(
        f"{BASE}/events/counts",
        params={**window, "period": "hour", "kind": "crowding"},
        headers=dev.dabac,
    ).json()
    assert [(r["period"], r["events"]) for r in hours] == [
        ("2026-11-23T23:00", 1),
        ("2026-11-24T00:00", 1),
    ]
    weeks = dev.client.get(
        f"{BASE}/events/counts", params={**window, "period": "week"}, headers=dev.dabac
    ).json()
    assert weeks == [{"period": "2026-11-23", "kind": "crowding", "events": 2, "total_count": 20}]
    months = dev.client.get(
        f"{BASE}/events/counts", params={**window, "period": "month"}, headers=dev.leader
    ).json()
    assert {r["period"] for r in months} == {"2026-11-01"}


def test_agency_owned_cameras(dev: Devices, auth: Any) -> None:
    owned = camera(dev, "tt-01", TAN_HOA, agency="STTTT")
    plain = camera(dev, "tp-04", TAN_HOA)
    for cam in (owned, plain):
        sent = dev.client.post(
            f"{BASE}/{cam}/events", json={"kind": "crowding"}, headers=dev.device
        )
        assert sent.status_code == 201
    staff = auth("sotttt")  # agency staff of the Department of Information and Communications
    seen = dev.client.get(f"{BASE}/events", headers=staff).json()
    assert [(e["camera_id"], e["agency_code"]) for e in seen["items"]] == [(owned, "STTTT")]
    assert dev.client.get(f"{BASE}/{plain}", headers=staff).status_code == 404
    unknown = dev.client.post(
        BASE,
        json={
            "id": "urn:ngsi-ld:Camera:z",
            "name": "z",
            "lat": TAN_HOA[0],
            "lon": TAN_HOA[1],
            "agency_code": "NOPE",
        },  # fmt: skip
        headers=dev.operator,
    )
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "agency_code"

"""Aggregated temporal values: each method and period computed by the database, checked by hand."""

from __future__ import annotations

import datetime as dt
import statistics
from typing import Any

import pytest

from tests.context.conftest import Ngsi

METER = "urn:ngsi-ld:Meter:1"
T = "/temporal/entities"
START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
HOURS = 72  # three days, value = hour number


def _z(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _load(ngsi: Ngsi, points: list[tuple[dt.datetime, Any]], attr: str = "power") -> None:
    body = {
        "id": METER,
        "type": "Meter",
        attr: [{"type": "Property", "value": v, "observedAt": _z(t)} for t, v in points],
    }
    response = ngsi.post(T, json=body)
    assert response.status_code in (201, 204), response.text


def _hourly(ngsi: Ngsi) -> None:
    _load(ngsi, [(START + dt.timedelta(hours=h), h) for h in range(HOURS)])


def _aggregate(ngsi: Ngsi, methods: str, period: str | None = None, **params: str) -> Any:
    query = {"options": "aggregatedValues", "aggrMethods": methods, **params}
    if period is not None:
        query["aggrPeriodDuration"] = period
    response = ngsi.get(f"{T}/{METER}", params=query)
    assert response.status_code == 200, response.text
    return response.json()


def test_daily_buckets_every_method(ngsi: Ngsi) -> None:
    _hourly(ngsi)
    methods = "totalCount,distinctCount,sum,avg,min,max,stddev,sumsq"
    power = _aggregate(ngsi, methods, "P1D")["power"]
    assert power["type"] == "Property"
    days = [list(range(d * 24, d * 24 + 24)) for d in range(3)]
    spans = [
        [_z(START + dt.timedelta(days=d)), _z(START + dt.timedelta(days=d + 1))] for d in range(3)
    ]
    assert power["totalCount"] == [[24, *s] for s in spans]
    assert power["distinctCount"] == [[24, *s] for s in spans]
    assert power["sum"] == [[sum(d), *s] for d, s in zip(days, spans, strict=True)]
    assert power["min"] == [[d[0], *s] for d, s in zip(days, spans, strict=True)]
    assert power["max"] == [[d[-1], *s] for d, s in zip(days, spans, strict=True)]
    assert [a[0] for a in power["avg"]] == pytest.approx([statistics.mean(d) for d in days])
    assert [a[0] for a in power["sumsq"]] == pytest.approx([sum(x * x for x in d) for d in days])
    assert [a[0] for a in power["stddev"]] == pytest.approx([statistics.stdev(d) for d in days])


def test_hour_and_week_periods_and_the_whole_range(ngsi: Ngsi) -> None:
    _hourly(ngsi)
    six = _aggregate(ngsi, "sum", "PT6H")["power"]["sum"]
    assert len(six) == 12
    assert six[1] == [
        sum(range(6, 12)),
        _z(START + dt.timedelta(hours=6)),
        _z(START + dt.timedelta(hours=12)),
    ]
    whole = _aggregate(ngsi, "sum,totalCount")["power"]
    last = START + dt.timedelta(hours=HOURS - 1)
    assert whole["sum"] == [[sum(range(HOURS)), _z(START), _z(last)]]
    assert whole["totalCount"] == [[HOURS, _z(START), _z(last)]]
    zero = _aggregate(ngsi, "max", "PT0S")["power"]["max"]
    assert zero == [[HOURS - 1, _z(START), _z(last)]]
    # 2026-01-01 is a Thursday: weeks count from 1970-01-01 (a Thursday too)
    weeks = _aggregate(ngsi, "totalCount", "P1W")["power"]["totalCount"]
    assert weeks == [[HOURS, _z(START), _z(START + dt.timedelta(weeks=1))]]


def test_periods_start_at_time_at(ngsi: Ngsi) -> None:
    _hourly(ngsi)
    noon = START + dt.timedelta(hours=12)
    found = _aggregate(
        ngsi,
        "min,max",
        "P1D",
        timerel="between",
        timeAt=_z(noon),
        endTimeAt=_z(START + dt.timedelta(days=2, hours=12)),
    )["power"]
    assert found["min"] == [
        [12, _z(noon), _z(noon + dt.timedelta(days=1))],
        [36, _z(noon + dt.timedelta(days=1)), _z(noon + dt.timedelta(days=2))],
    ]
    assert [m[0] for m in found["max"]] == [35, 59]
    before = _aggregate(ngsi, "totalCount", None, timerel="before", timeAt=_z(noon))["power"]
    assert before["totalCount"] == [[12, _z(START), _z(noon)]]


def test_calendar_months_and_years(ngsi: Ngsi) -> None:
    points = [
        (dt.datetime(2025, 12, 31, 23, 59, tzinfo=dt.UTC), 1000),
        (dt.datetime(2026, 1, 15, tzinfo=dt.UTC), 1),
        (dt.datetime(2026, 1, 31, 23, 30, tzinfo=dt.UTC), 2),
        (dt.datetime(2026, 2, 1, tzinfo=dt.UTC), 10),
        (dt.datetime(2026, 2, 28, 12, tzinfo=dt.UTC), 10),
        (dt.datetime(2026, 3, 10, tzinfo=dt.UTC), 100),
    ]
    _load(ngsi, points)
    window = {
        "timerel": "between",
        "timeAt": "2026-01-01T00:00:00Z",
        "endTimeAt": "2026-04-01T00:00:00Z",
    }
    months = _aggregate(ngsi, "sum,distinctCount", "P1M", **window)["power"]
    assert months["sum"] == [
        [3, "2026-01-01T00:00:00.000Z", "2026-02-01T00:00:00.000Z"],
        [20, "2026-02-01T00:00:00.000Z", "2026-03-01T00:00:00.000Z"],
        [100, "2026-03-01T00:00:00.000Z", "2026-04-01T00:00:00.000Z"],
    ]
    assert [m[0] for m in months["distinctCount"]] == [2, 1, 1]
    quarters = _aggregate(ngsi, "sum", "P3M", **window)["power"]["sum"]
    assert quarters == [[123, "2026-01-01T00:00:00.000Z", "2026-04-01T00:00:00.000Z"]]
    years = _aggregate(ngsi, "sum", "P1Y")["power"]["sum"]
    assert years == [
        [1000, "2025-01-01T00:00:00.000Z", "2026-01-01T00:00:00.000Z"],
        [123, "2026-01-01T00:00:00.000Z", "2027-01-01T00:00:00.000Z"],
    ]
    last = _aggregate(ngsi, "sum", "P1M", lastN="1", **window)["power"]["sum"]
    assert last == [[100, "2026-03-01T00:00:00.000Z", "2026-04-01T00:00:00.000Z"]]


def test_text_values_count_but_do_not_sum(ngsi: Ngsi) -> None:
    _load(ngsi, [(START + dt.timedelta(hours=h), s) for h, s in enumerate("abba")], "state")
    state = _aggregate(ngsi, "totalCount,distinctCount,avg")["state"]
    assert [state["totalCount"][0][0], state["distinctCount"][0][0]] == [4, 2]
    assert state["avg"] == []


def test_query_aggregates_several_entities(ngsi: Ngsi) -> None:
    for n in (1, 2):
        body = {
            "id": f"urn:ngsi-ld:Meter:{n}",
            "type": "Meter",
            "power": [
                {"value": n * h, "observedAt": _z(START + dt.timedelta(hours=h))} for h in range(24)
            ],
        }
        assert ngsi.post(T, json=body).status_code == 201
    found = ngsi.get(
        T,
        params={
            "type": "Meter",
            "options": "aggregatedValues",
            "aggrMethods": "max",
            "aggrPeriodDuration": "P1D",
        },
    )
    assert found.status_code == 200, found.text
    assert [(e["id"], e["power"]["max"][0][0]) for e in found.json()] == [
        ("urn:ngsi-ld:Meter:1", 23),
        ("urn:ngsi-ld:Meter:2", 46),
    ]


def test_too_many_periods_are_refused(ngsi: Ngsi) -> None:
    _hourly(ngsi)
    response = ngsi.get(
        f"{T}/{METER}",
        params={
            "options": "aggregatedValues",
            "aggrMethods": "avg",
            "aggrPeriodDuration": "PT1S",
            "timerel": "between",
            "timeAt": "2000-01-01T00:00:00Z",
            "endTimeAt": "2026-01-01T00:00:00Z",
        },
    )
    assert response.status_code == 400
    assert response.json()["detail"].startswith("aggrPeriodDuration:")

"""Streetlight availability, the full-online (level 4) share and dossiers filed online."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from io import BytesIO
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import delete, func, select
from typer.testing import CliRunner

from ioc.cli import app as cli
from ioc.context.service import Broker
from ioc.core.config import Settings
from ioc.core.db import Database, utcnow
from ioc.core.events import Event
from ioc.core.models import OutboxEvent, Place
from ioc.core.workdays import VIETNAM_TZ
from ioc.devices import availability as lamps
from ioc.devices.faults import Rules, scan
from ioc.devices.models import StreetlightFault
from ioc.indicators import computations_more as more
from ioc.indicators import periods, recompute
from ioc.indicators.models import IndicatorValue
from ioc.indicators.values import Cell, store_computed
from ioc.services.models import Dossier
from ioc.services.online import CATALOGUE_CHANGED
from tests.devices.conftest import DA_BAC_TOWN, TAN_HOA, THAI_BINH, Devices, point, prop
from tests.indicators.conftest import districts, last_quarter, province
from tests.indicators.test_recompute import _cells, _wait

L = "urn:ngsi-ld:Streetlight:"
H = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)


@pytest.fixture
def dev(client: TestClient, demo_db: Database, auth: Callable[..., dict[str, str]]) -> Devices:
    return Devices(client, demo_db, auth)


def _lights(dev: Devices) -> dict[int, str]:
    """Four lights in Phường Thái Bình / Tân Hòa (TP Hòa Bình), one in Đà Bắc; n → commune."""
    spots = {1: THAI_BINH, 2: THAI_BINH, 3: TAN_HOA, 4: TAN_HOA, 5: DA_BAC_TOWN}
    for n, at in spots.items():
        dev.create({"id": f"{L}{n}", "type": "Streetlight", "location": point(at),
                    "powerState": prop("off")})  # fmt: skip
    with dev.database.session() as session:
        found = lamps.lights(session)
    return {n: found[f"{L}{n}"].place_code or "" for n in spots}


def _fault(session_db: Database, n: int, kind: str, place: str, start: dt.datetime,
           end: dt.datetime | None) -> None:  # fmt: skip
    with session_db.session() as session:
        session.add(StreetlightFault(light_id=f"{L}{n}", kind=kind, place_code=place,
                                     detected_at=start, cleared_at=end))  # fmt: skip


def _path(database: Database, code: str) -> str:
    with database.session() as session:
        place = session.get(Place, code)
        assert place is not None
        return place.path


def test_light_hours_count_each_outage_once_and_daylight_faults_not(
    dev: Devices, demo_db: Database
) -> None:
    where = _lights(dev)
    assert where[1] == where[2] and where[3] == where[4] and where[5] != where[1]
    with demo_db.session() as session:
        since = max(li.since for li in lamps.lights(session).values())
    t0 = since + H
    _fault(demo_db, 1, "no_power", where[1], t0 + H, t0 + 3 * H)
    _fault(demo_db, 1, "no_heartbeat", where[1], t0 + 2 * H, t0 + 5 * H)  # overlaps: 4 h in all
    _fault(demo_db, 2, "on_in_daylight", where[2], t0, None)  # lit, if wastefully: available
    _fault(demo_db, 3, "no_heartbeat", where[3], t0 - 2 * H, None)  # open all ten hours
    _fault(demo_db, 5, "no_power", where[5], t0 + 9 * H, t0 + 30 * H)  # its last hour only
    start, end = t0, t0 + 10 * H
    with demo_db.session() as session:
        city = lamps.availability(session, _path(demo_db, "148"), start, end)
        dabac = lamps.availability(session, _path(demo_db, "150"), start, end)
        everywhere = lamps.availability(session, _path(demo_db, "17"), start, end)
        ward = lamps.availability(session, _path(demo_db, where[1]), start, end)
    assert (city.lights, city.light_hours, city.outage_hours) == (4, 40.0, 14.0)
    assert (dabac.lights, dabac.light_hours, dabac.outage_hours) == (1, 10.0, 1.0)
    assert (everywhere.light_hours, everywhere.outage_hours) == (50.0, 15.0)
    assert (ward.lights, ward.outage_hours) == (2, 4.0)


def test_streetlight_indicator_follows_faults_and_new_lights(
    dev: Devices, demo_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """New lights and fault events recompute their commune, district and province live."""
    where = _lights(dev)
    quarter = periods.current("quarter")
    _wait(lambda: (_cells(demo_db, "DT-CHIEUSANG").get((where[1], quarter), (0, 0))[1] or 0) > 0)
    broker = Broker(demo_db, Settings(database_url=demo_db.url))
    with demo_db.session("test") as session:  # everything silent for two hours: five faults
        found = scan(session, broker, Rules(H, 1.0), now=utcnow() + 2 * H)
    assert len(found.found) == 5
    with demo_db.session("test") as session:
        event = Event("streetlight.fault_cleared", {"fault_id": found.found[0].id,
                      "kind": "no_heartbeat"}, place_code=where[1])  # fmt: skip
        cells = recompute.cells_of(session, event)
        assert {c.place_code for c in cells} == {where[1], "148", "17"}
        daylight = Event("streetlight.fault", {"kind": "on_in_daylight"}, place_code=where[1])
        assert recompute.cells_of(session, daylight) == set()
    # Three hours on, the open faults have taken the last hour of each light's three.
    later = utcnow() + 3 * H
    monkeypatch.setattr(more, "utcnow", lambda: later)
    with demo_db.session() as session:
        ward = session.get(Place, where[1])
        assert ward is not None
        today = periods.local_day(utcnow())
        got, hours = more.streetlight_availability(session, ward, today - DAY, today + DAY)
    assert hours == pytest.approx(2 * 3, abs=0.02) and got == pytest.approx(2 * 2, abs=0.02)


def test_level4_share_is_the_catalogue_now_and_kept_for_past_periods(demo_db: Database) -> None:
    with demo_db.session() as session:
        prov = province(session)
        current = periods.current("quarter")
        recompute.rebuild(session, [current])
        value = session.scalar(
            select(IndicatorValue.value).where(
                IndicatorValue.indicator_code == "CDS-DVC-MUC4", IndicatorValue.period == current
            )
        )
        assert value == round(100 * 90 / 273, 2)  # Hòa Bình's portal: 90 of 273 full online
        past = last_quarter()
        store_computed(session, Cell("CDS-DVC-MUC4", prov.code, past), 81.0, 270.0)
        assert more.services_level4(session, prov, *periods.bounds(past)) == (81.0, 270.0)
        nxt = periods.key_of(periods.bounds(current)[1] + dt.timedelta(1), "quarter")
        assert more.services_level4(session, prov, *periods.bounds(nxt)) == (0.0, 0.0)
        # The catalogue's seeding said so on the bus; that event touches today's quarter.
        assert session.scalar(select(func.count()).where(OutboxEvent.type == CATALOGUE_CHANGED))
        assert more.CATALOGUE_EVENTS == (CATALOGUE_CHANGED,)
        cells = recompute.cells_of(session, Event(CATALOGUE_CHANGED, {"created": 1}))
    assert cells == {Cell("CDS-DVC-MUC4", prov.code, current)}


def test_dossiers_filed_online_by_district_add_up(demo_db: Database) -> None:
    period = periods.current("quarter")  # the test demo's dossiers are of the last few days
    with demo_db.session() as session:
        recompute.rebuild(session, [period])
        first, after = (
            dt.datetime.combine(d, dt.time(), tzinfo=VIETNAM_TZ)
            for d in (periods.bounds(period)[0], periods.bounds(period)[1] + dt.timedelta(1))
        )
        district = districts(session)[0]
        counted = session.execute(
            select(Dossier.channel, func.count())
            .where(Dossier.received_at >= first, Dossier.received_at < after,
                   Dossier.district_code == district.code)
            .group_by(Dossier.channel)
        ).all()  # fmt: skip
        rows = {
            r.place_code: r
            for r in session.scalars(
                select(IndicatorValue).where(
                    IndicatorValue.indicator_code == "DVC-TRUCTUYEN",
                    IndicatorValue.period == period,
                )
            )
        }
        prov = province(session).code
    by_channel = dict(counted)
    assert sum(by_channel.values()) > 0
    assert rows[district.code].numerator == by_channel.get("online", 0)
    assert rows[district.code].denominator == sum(by_channel.values())
    kept = [r for code, r in rows.items() if code != prov and len(code) == len(district.code)]
    assert rows[prov].denominator == sum(r.denominator or 0 for r in kept)
    assert 20 < (rows[prov].value or 0) < 90
    created = Event("dossier.created", {"received_at": "2025-08-01T03:00:00+00:00"},
                    place_code=district.code)  # fmt: skip
    with demo_db.session() as session:
        cells = recompute.cells_of(session, created)
    assert Cell("DVC-TRUCTUYEN", district.code, "2025-Q3") in cells


def test_new_indicators_are_in_the_report(
    client: TestClient, auth: Callable[..., dict[str, str]]
) -> None:
    response = client.get(
        f"/api/v1/indicators/report?period={periods.current('quarter')}&format=xlsx",
        headers=auth("lanhdao"),
    )
    assert response.status_code == 200
    header = next(load_workbook(BytesIO(response.content)).worksheets[0].iter_rows(
        min_row=2, max_row=2, values_only=True))  # fmt: skip
    names = " ".join(str(h) for h in header)
    for name in ("đèn chiếu sáng", "trực tuyến mức độ 4", "nộp trực tuyến"):
        assert name in names


def test_cli_catalogue_recompute_and_report_cover_the_new_indicators(
    demo_db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IOC_DATABASE_URL", demo_db.url)
    runner = CliRunner()
    period = periods.current("quarter")
    with demo_db.session() as session:
        session.execute(delete(IndicatorValue).where(IndicatorValue.period == period))
    installed = runner.invoke(cli, ["indicators", "catalogue"])
    assert installed.exit_code == 0 and "19 indicators" in installed.output, installed.output
    done = runner.invoke(cli, ["indicators", "recompute", "--period", period])
    assert done.exit_code == 0, done.output
    with demo_db.session() as session:
        kept = set(
            session.scalars(
                select(IndicatorValue.indicator_code).where(
                    IndicatorValue.period == period, IndicatorValue.value.is_not(None)
                )
            )
        )
    assert {"CDS-DVC-MUC4", "DVC-TRUCTUYEN"} <= kept
    out = tmp_path / "r.pdf"
    report = runner.invoke(
        cli, ["report", "--period", period, "--format", "pdf", "--out", str(out),
              "--indicator", "DT-CHIEUSANG", "--indicator", "CDS-DVC-MUC4"],
    )  # fmt: skip
    assert report.exit_code == 0 and "2 indicators" in report.output, report.output

"""On-time %, resolved, late, received and in progress, by district, sector, period, province."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from ioc.cli import app as cli_app
from ioc.core.db import Database
from ioc.services import importer, measures
from ioc.services.models import Dossier

from .conftest import DA_BAC, HOA_BINH_CITY, commune_of

HEADER = "code,procedure_code,place_code,channel,received_at,status,completed_at"


def _load(session: Session) -> None:
    """Đà Bắc: 3 on time, 1 late, 1 open; the city: 1 on time, 1 late, 1 rejected on time."""
    a, b = commune_of(session, DA_BAC), commune_of(session, HOA_BINH_CITY)
    rows = [
        # DKKD-001: 3 working days → received Mon 3 March 2025, due Thu 6 March 17:00.
        f"D1,DKKD-001,{a},online,2025-03-03 09:00,completed,2025-03-04 09:00",
        f"D2,DKKD-001,{a},online,2025-03-03 09:00,completed,2025-03-06 16:59",
        f"D3,HO_TICH-001,{a},online,2025-03-03 09:00,completed,2025-03-03 15:00",
        f"D4,DKKD-001,{a},online,2025-03-03 09:00,completed,2025-03-07 09:00",
        f"D5,DKKD-001,{a},online,2025-03-03 09:00,processing,",
        f"C1,DKKD-001,{b},online,2025-03-03 09:00,completed,2025-03-05 09:00",
        f"C2,DKKD-001,{b},online,2025-03-03 09:00,completed,2025-04-02 09:00",
        f"C3,DKKD-001,{b},online,2025-03-03 09:00,rejected,2025-03-04 09:00",
        f"C4,DKKD-001,{b},online,2025-03-03 09:00,withdrawn,2025-03-04 09:00",
        # received before the period, resolved inside it
        f"O1,DKKD-001,{a},online,2025-02-26 09:00,completed,2025-03-03 09:00",
    ]
    report = importer.import_file(session, ("\n".join([HEADER, *rows]) + "\n").encode(), "csv")
    assert report.created == len(rows), report.errors


MARCH = (dt.date(2025, 3, 1), dt.date(2025, 3, 31))


def test_on_time_by_district(session: Session) -> None:
    _load(session)
    rows = {r.key: r for r in measures.on_time(session, *MARCH, by="district")}
    assert set(rows) == {DA_BAC, HOA_BINH_CITY}
    assert (rows[DA_BAC].resolved, rows[DA_BAC].on_time, rows[DA_BAC].late) == (5, 4, 1)
    assert rows[DA_BAC].on_time_pct == 80.0
    # C2 was resolved in April: March holds C1 (on time) and C3 (rejected in time).
    assert (rows[HOA_BINH_CITY].resolved, rows[HOA_BINH_CITY].on_time) == (2, 2)
    (province,) = measures.on_time(session, *MARCH, by="province")
    assert (province.resolved, province.on_time) == (7, 6)


def test_full_measures_count_received_and_open_dossiers(session: Session) -> None:
    _load(session)
    rows = {m.key: m for m in measures.measures(session, *MARCH, by="district")}
    da_bac = rows[DA_BAC]
    assert (da_bac.received, da_bac.resolved, da_bac.in_progress) == (5, 5, 1)
    assert da_bac.name == "Huyện Đà Bắc"
    city = rows[HOA_BINH_CITY]
    assert (city.received, city.resolved, city.in_progress) == (4, 2, 1)  # C2 still open on 31/3


def test_measures_by_sector_period_and_scope(session: Session) -> None:
    _load(session)
    sectors = {m.key: m for m in measures.measures(session, *MARCH, by="sector")}
    assert sectors["HO_TICH"].resolved == 1 and sectors["HO_TICH"].name == "Hộ tịch"
    assert sectors["DKKD"].resolved == 6
    periods = measures.on_time(session, dt.date(2025, 3, 1), dt.date(2025, 4, 30), by="period")
    assert [(p.key, p.resolved, p.on_time) for p in periods] == [
        ("2025-03", 7, 6),
        ("2025-04", 1, 0),
    ]
    quarters = measures.on_time(session, *MARCH, by="period", period="quarter")
    assert [q.key for q in quarters] == ["2025-Q1"]
    only_city = measures.on_time(
        session, *MARCH, by="province", where=Dossier.district_code == HOA_BINH_CITY
    )
    assert [(r.resolved, r.on_time) for r in only_city] == [(2, 2)]


def test_the_daily_summary_agrees_with_the_dossiers_through_every_write(session: Session) -> None:
    from sqlalchemy import select, true

    from ioc.services import daily, service

    _load(session)
    d5 = session.scalar(select(Dossier).where(Dossier.code == "D5"))
    assert d5 is not None
    service.transition(session, d5, "completed", at=dt.datetime(2025, 3, 20, 9, tzinfo=dt.UTC))
    a = d5.place_code
    reimport = f"{HEADER}\nD4,DKKD-001,{a},online,2025-03-03 09:00,completed,2025-03-05 09:00\n"
    assert importer.import_file(session, reimport.encode(), "csv").updated == 1  # now on time

    def both() -> tuple[list[measures.OnTime], list[measures.OnTime]]:
        fast = measures.on_time(session, *MARCH, by="district")
        slow = measures.on_time(session, *MARCH, by="district", where=true())
        return fast, slow

    fast, slow = both()
    assert fast == slow
    assert {r.key: (r.resolved, r.on_time) for r in fast}[DA_BAC] == (6, 5)  # D5 late, D4 now not
    daily.rebuild(session)
    assert both()[0] == slow


def test_the_cli_prints_measures_and_the_catalogue(
    session: Session, services_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    _load(session)
    session.commit()
    monkeypatch.setenv("IOC_DATABASE_URL", services_db.url)
    runner = CliRunner()
    shown = runner.invoke(
        cli_app, ["services", "measures", "--from", "2025-03-01", "--to", "2025-03-31"]
    )
    assert shown.exit_code == 0, shown.output
    assert DA_BAC in shown.output and "80.00" in shown.output
    listed = runner.invoke(cli_app, ["services", "catalogue"])
    assert listed.exit_code == 0, listed.output
    assert "0 procedures created" in listed.output
    wrong = runner.invoke(
        cli_app, ["services", "measures", "--from", "2025-03-01", "--to", "2025-03-31", "--by", "x"]
    )
    assert wrong.exit_code == 2

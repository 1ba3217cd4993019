"""Imports of one-stop-shop exports: idempotent by code, every bad row reported, XLSX too."""

from __future__ import annotations

import io
from pathlib import Path

import orjson
import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from ioc.cli import app as cli_app
from ioc.core.db import Database
from ioc.core.models import AuditEntry, OutboxEvent
from ioc.services import import_files, importer
from ioc.services.models import Dossier

from .conftest import DA_BAC, commune_of

HEADER = "code,procedure_code,place_code,channel,received_at,status,completed_at,delivery,rating"


def _good(place: str) -> list[str]:
    return [
        f"HS-1,DKKD-001,{place},online,2025-03-03T09:00:00+07:00,completed,"
        "2025-03-05T10:00:00+07:00,online,5",
        f"HS-2,HO_TICH-001,{place},one_stop_desk,03/03/2025 08:30,processing,,,",
        f"HS-3,DKKD-001,{place},post,2025-03-03 09:00,completed,2025-03-10 09:00,post,",
    ]


def _csv(rows: list[str], header: str = HEADER) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


def _count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Dossier)) or 0


def test_good_rows_go_in_and_every_bad_row_is_reported(session: Session) -> None:
    place = commune_of(session, DA_BAC)
    bad = [
        f"HS-4,NO-SUCH,{place},online,2025-03-03,received,,,",  # row 5: unknown procedure
        "HS-5,DKKD-001,99999,online,2025-03-03,received,,,",  # row 6: unknown commune
        f"HS-6,DKKD-001,{place},online,hôm qua,received,,,",  # row 7: text in a date
        f"HS-7,DKKD-001,{place},online,2025-03-03,completed,2025-03-04,desk,năm",  # row 8: rating
        f"HS-1,DKKD-001,{place},online,2025-03-03,received,,,",  # row 9: repeat of row 2
        f"HS-8,DKKD-001,{place},fax,2025-03-03,received,,,",  # row 10: channel
        f"HS-9,DKKD-001,{place},online,2025-03-03,completed,,,",  # row 11: no completion
        f"HS-10,DKKD-001,{place},online,2025-03-03,received,,,,extra",  # row 12: too wide
    ]
    report = importer.import_file(session, _csv(_good(place) + bad), "csv")
    assert (report.received, report.created, report.rejected) == (11, 3, 8)
    problems = {(e.row, e.field) for e in report.errors}
    assert problems == {
        (5, "procedure_code"),
        (6, "place_code"),
        (7, "received_at"),
        (8, "rating"),
        (9, "code"),
        (10, "channel"),
        (11, "completed_at"),
        (12, ""),
    }
    assert "duplicate of row 2" in next(e.message for e in report.errors if e.row == 9)
    assert sorted(session.scalars(select(Dossier.code))) == ["HS-1", "HS-2", "HS-3"]
    late = session.scalar(select(Dossier).where(Dossier.code == "HS-3"))
    assert late is not None and late.on_time is False and late.agency_code == "SKHDT"
    first = session.scalar(select(Dossier).where(Dossier.code == "HS-1"))
    assert first is not None and first.on_time is True and first.district_code == DA_BAC


def test_unknown_agency_codes_are_rejected(session: Session) -> None:
    place = commune_of(session, DA_BAC)
    rows = [f"HS-1,DKKD-001,{place},online,2025-03-03,received,,,,NOPE"]
    report = importer.import_file(session, _csv(rows, HEADER + ",agency_code"), "csv")
    assert [(e.row, e.field) for e in report.errors] == [(2, "agency_code")]
    assert _count(session) == 0


def test_wrong_columns_refuse_the_whole_file(session: Session) -> None:
    place = commune_of(session, DA_BAC)
    header = HEADER.replace("channel", "kenh")
    report = importer.import_file(session, _csv(_good(place), header), "csv")
    assert {(e.row, e.field, e.message) for e in report.errors if e.row == 1} == {
        (1, "kenh", "unknown column"),
        (1, "channel", "missing column"),
    }
    assert report.rejected == 4 and report.created == 0 and _count(session) == 0


def test_importing_again_is_idempotent_and_changes_update(session: Session) -> None:
    place = commune_of(session, DA_BAC)
    data = _csv(_good(place))
    assert importer.import_file(session, data, "csv").created == 3
    again = importer.import_file(session, data, "csv")
    assert (again.created, again.updated, again.skipped) == (0, 0, 3)
    rows = _good(place)
    rows[1] = (
        f"HS-2,HO_TICH-001,{place},one_stop_desk,03/03/2025 08:30,completed,03/03/2025 15:00,desk,4"
    )
    changed = importer.import_file(session, _csv(rows), "csv")
    assert (changed.created, changed.updated, changed.skipped) == (0, 1, 2)
    assert _count(session) == 3
    hs2 = session.scalar(select(Dossier).where(Dossier.code == "HS-2"))
    assert hs2 is not None and hs2.status == "completed" and hs2.on_time is True
    events = session.scalars(
        select(OutboxEvent.data).where(OutboxEvent.type == "dossier.imported")
    ).all()
    assert [e["rows"] for e in events] == [3, 1]
    assert events[1]["resolved"] == [[place, "2025-03-03", "completed", True, 1]]
    assert events[1]["replaced_received"] == [[place, "2025-03-03", 1]]
    assert events[1]["replaced_resolved"] == []
    audits = session.scalars(
        select(AuditEntry.after).where(
            AuditEntry.entity == "dossiers", AuditEntry.action == "import"
        )
    ).all()
    assert [a["created"] for a in audits] == [3, 0]


def test_a_dry_run_stores_nothing(session: Session) -> None:
    place = commune_of(session, DA_BAC)
    report = importer.import_file(session, _csv(_good(place)), "csv", dry_run=True)
    assert report.created == 3 and report.dry_run
    assert _count(session) == 0


def _xlsx(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_xlsx_exports_with_real_dates_and_numbers(session: Session) -> None:
    import datetime as dt

    place = commune_of(session, DA_BAC)
    data = _xlsx(
        [
            HEADER.split(","),
            ["X-1", "DKKD-001", place, "online", dt.datetime(2025, 3, 3, 9), "completed",
             dt.datetime(2025, 3, 4, 9), "online", 5],
            ["X-2", "DKKD-001", int(place), "online", "2025-03-03", "received", None, None, None],
            ["X-3", "DKKD-001", place, "online", "2025-03-03", "received", None, None, "good"],
        ]
    )  # fmt: skip
    assert import_files.detect_format(None, None, data) == "xlsx"
    report = importer.import_file(session, data, "xlsx")
    assert (report.created, report.rejected) == (2, 1)
    assert [(e.row, e.field) for e in report.errors] == [(4, "rating")]
    again = importer.import_file(session, data, "xlsx")
    assert (again.created, again.skipped) == (0, 2)
    x1 = session.scalar(select(Dossier).where(Dossier.code == "X-1"))
    assert x1 is not None and x1.rating == 5 and x1.on_time is True


def test_json_exports(session: Session) -> None:
    place = commune_of(session, DA_BAC)
    doc = {
        "dossiers": [
            {"code": "J-1", "procedure_code": "DKKD-001", "place_code": place,
             "channel": "online", "received_at": "2025-03-03T09:00:00+07:00",
             "status": "received", "paused_days": "two"},
            "not an object",
            {"code": "J-2", "procedure_code": "DKKD-001", "place_code": place,
             "channel": "post", "received_at": "2025-03-03T09:00:00+07:00",
             "status": "supplement_requested", "paused_days": 2},
        ]
    }  # fmt: skip
    report = importer.import_file(session, orjson.dumps(doc), "json")
    assert report.created == 1
    assert [(e.row, e.field) for e in report.errors] == [(1, "paused_days"), (2, "")]
    j2 = session.scalar(select(Dossier).where(Dossier.code == "J-2"))
    # 3 working days + 2 paused: Mon 3 March → Mon 10 March 17:00 local.
    assert j2 is not None and j2.due_at.isoformat() == "2025-03-10T10:00:00+00:00"


def test_the_cli_imports_and_reports(
    services_db: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, session: Session
) -> None:
    monkeypatch.setenv("IOC_DATABASE_URL", services_db.url)
    place = commune_of(session, DA_BAC)
    session.close()
    file = tmp_path / "export.csv"
    file.write_bytes(_csv([*_good(place), f"HS-9,NO,{place},online,2025-03-03,received,,,"]))
    runner = CliRunner()
    dry = runner.invoke(cli_app, ["services", "import", str(file), "--dry-run"])
    assert dry.exit_code == 1 and "would create 3" in dry.output
    result = runner.invoke(cli_app, ["services", "import", str(file)])
    assert result.exit_code == 1, result.output
    assert "created 3" in result.output and "procedure_code" in result.output
    with services_db.session() as s:
        assert _count(s) == 3

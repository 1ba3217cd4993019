"""Uploads: every bad row reported with why, good rows in, the same file again changes nothing."""

from __future__ import annotations

import csv
import datetime as dt
import io
import time
from collections.abc import Callable

from fastapi.testclient import TestClient
from openpyxl import Workbook
from sqlalchemy import func, select

from ioc.core.db import Database
from ioc.indicators.models import IndicatorValue, OfficialDocument
from tests.indicators.conftest import districts

URL = "/api/v1/indicators/values/upload"


def _csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode()


def test_csv_upload_reports_bad_rows_and_is_idempotent(
    client: TestClient, auth: Callable[..., dict[str, str]], demo_db: Database
) -> None:
    with demo_db.session() as session:
        a, b = (d.code for d in districts(session)[:2])
    content = _csv(
        [
            ["indicator_code", "place_code", "period", "value", "note"],
            ["VT-BANGRONG", a, "2031-Q1", "12000", "ok"],
            ["VT-CAPQUANG", b, "2031-Q1", "850,5", ""],  # decimal comma
            ["VT-NOPE", a, "2031-Q1", "1", ""],
            ["VT-CAPQUANG", "99999", "2031-Q1", "1", ""],
            ["VT-BTS", a, "2031-Q1", "chín mươi", ""],
            ["VT-BANGRONG", a, "2031-Q1", "12001", "again"],
            ["GRDP", a, "2031-Q1", "5", ""],  # not the Department of Information's
            ["VT-BTS", a, "2031-13", "5", ""],
        ]
    )
    staff = auth("sotttt")
    files = {"file": ("values.csv", content, "text/csv")}
    first = client.post(URL, files=files, headers=staff)
    assert first.status_code == 200, first.text
    report = first.json()
    assert (report["created"], report["updated"], report["unchanged"]) == (2, 0, 0)
    by_line = {e["line"]: e["message"] for e in report["errors"]}
    assert sorted(by_line) == [4, 5, 6, 7, 8, 9]
    assert "unknown" in by_line[4].lower() or "no indicator" in by_line[4]
    assert "99999" in by_line[5]
    assert "not a number" in by_line[6]
    assert "duplicate" in by_line[7]
    assert "SKHDT" in by_line[8]
    assert "period" in by_line[9]
    again = client.post(URL, files=files, headers=staff).json()
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 2)
    assert len(again["errors"]) == 6
    with demo_db.session() as session:
        stored = session.scalar(
            select(func.count())
            .select_from(IndicatorValue)
            .where(IndicatorValue.period == "2031-Q1")
        )
        assert stored == 2
        fibre = session.scalar(
            select(IndicatorValue.value).where(
                IndicatorValue.indicator_code == "VT-CAPQUANG", IndicatorValue.period == "2031-Q1"
            )
        )
        assert fibre == 850.5


def test_xlsx_upload_and_wrong_columns(
    client: TestClient, auth: Callable[..., dict[str, str]], demo_db: Database
) -> None:
    with demo_db.session() as session:
        a = districts(session)[0].code
    book = Workbook()
    sheet = book.worksheets[0]
    sheet.append(["Indicator_Code", "Place_Code", "Period", "Value"])
    sheet.append(["YT-GIUONG", a, "2031-Q1", 420])
    out = io.BytesIO()
    book.save(out)
    files = {"file": ("values.xlsx", out.getvalue(), "application/octet-stream")}
    done = client.post(URL, files=files, headers=auth("admin")).json()
    assert done["created"] == 1 and not done["errors"]
    wrong = _csv([["indicator", "place", "value"], ["YT-GIUONG", a, "1"]])
    bad = client.post(URL, files={"file": ("v.csv", wrong, "text/csv")}, headers=auth("admin"))
    assert bad.status_code == 422
    assert "missing columns" in bad.json()["detail"]


def test_document_register_import(
    client: TestClient, auth: Callable[..., dict[str, str]], demo_db: Database
) -> None:
    content = _csv(
        [
            ["number", "issued_on", "agency_code", "signed", "signature_verified", "title"],
            ["101/QĐ-STTTT", "2031-02-01", "STTTT", "yes", "yes", "Quyết định"],
            ["102/QĐ-STTTT", "2031-02-02", "STTTT", "no", "no", "Công văn"],
            ["103/QĐ-STTTT", "2031-02-30", "STTTT", "yes", "yes", ""],
            ["104/QĐ-XX", "2031-02-03", "NOPE", "yes", "yes", ""],
            ["105/QĐ-STTTT", "2031-02-03", "STTTT", "maybe", "no", ""],
            ["101/QĐ-STTTT", "2031-02-01", "STTTT", "yes", "yes", ""],
        ]
    )
    files = {"file": ("docs.csv", content, "text/csv")}
    url = "/api/v1/indicators/documents/import"
    assert client.post(url, files=files, headers=auth("congdan")).status_code == 403
    report = client.post(url, files=files, headers=auth("vanhanh")).json()
    assert report["created"] == 2
    assert sorted(e["line"] for e in report["errors"]) == [4, 5, 6, 7]
    again = client.post(url, files=files, headers=auth("vanhanh")).json()
    assert (again["created"], again["unchanged"]) == (0, 2)
    # The e-signature share of the province for the quarter: 1 of 2, recomputed from the event.
    deadline = time.monotonic() + 15
    while True:
        got = client.get(
            "/api/v1/indicators/CDS-KYSO/values?period=2031-Q1", headers=auth("lanhdao")
        ).json()
        if got["place"]["value"] is not None or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    with demo_db.session() as session:
        assert (
            session.scalar(
                select(func.count())
                .select_from(OfficialDocument)
                .where(OfficialDocument.issued_on >= dt.date(2031, 1, 1))
            )
            == 2
        )
    assert got["place"]["value"] == 50.0

"""Bulk import of messages and petitions: row reports, nothing half-written, dry runs, once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import select
from starlette.testclient import TestClient
from typer.testing import CliRunner

from ioc.cli import app as cli_app
from ioc.core.db import Database
from ioc.feedback import import_files, importer
from ioc.feedback.models import FeedbackRequest

from .queue_support import FEEDBACK, TU_LY_CODE, VN, feedback_rows, problem

Auth = Callable[..., dict[str, str]]
IMPORT = f"{FEEDBACK}/import"
HEADER = (
    "service_code,channel,description,lat,lon,address,requested_at,"
    "first_name,last_name,phone,email,external_id"
)
GOOD = [
    'waste,sms,"Rác ùn ứ, bốc mùi",20.895151,105.248737,,2026-03-02T08:15:00+07:00,'
    "An,Nguyễn,0912000001,,SMS-1",
    'telecom,zalo,Mất sóng 4G,,,"xóm Mớ, xã Tú Lý, huyện Đà Bắc",02/03/2026 09:30,'
    "Bình,Đinh,,binh@example.vn,ZL-7",
    "land,petition,Đơn đề nghị giải quyết tranh chấp đất,,,xã Tú Lý huyện Đà Bắc,,,,,,",
]
BAD = [
    # row 4: unknown service
    "parking,sms,Đỗ xe trái phép,20.895151,105.248737,,,,,,,SMS-2",
    # row 5: three problems at once
    "waste,sms,Rác,abc,105.2,,hôm qua,,,09-12,,SMS-3",
    # row 6: no location at all
    "waste,sms,Rác ở đâu đó,,,,,,,,,SMS-4",
    # row 7: outside the province (Đà Nẵng)
    "waste,sms,Rác,16.0544,108.2022,,,,,,,SMS-5",
    # row 8: a channel that is not an import channel, and no description
    "waste,open311,,20.895151,105.248737,,,,,,,SMS-6",
    # row 9: a streetlight needs its required attribute (not given: no attribute column)
    "streetlight,sms,Đèn không sáng,20.895151,105.248737,,,,,,,SMS-7",
]


def csv_file(*rows: str, header: str = HEADER) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


def errors_by_row(report: dict[str, Any]) -> dict[int, set[str]]:
    out: dict[int, set[str]] = {}
    for e in report["errors"]:
        out.setdefault(e["row"], set()).add(e["field"])
    return out


def test_good_rows_are_stored_and_bad_ones_reported(
    client: TestClient, queue_db: Database, auth: Auth
) -> None:
    data = csv_file(*GOOD, *BAD)
    r = client.post(
        IMPORT, files={"file": ("tin-nhan.csv", data, "text/csv")}, headers=auth("vanhanh")
    )
    assert r.status_code == 200, r.text
    report = r.json()
    assert (report["received"], report["stored"], report["rejected"], report["skipped"]) == (
        9,
        3,
        6,
        0,
    )
    assert errors_by_row(report) == {
        4: {"service_code"},
        5: {"lat", "requested_at", "phone"},
        6: {"lat"},
        7: {"lat"},
        8: {"channel", "description"},
        9: {"attribute[problem]"},
    }
    assert [c["row"] for c in report["created"]] == [1, 2, 3]
    # Nothing half-written: each stored row has its request, its first note, its event, its audit.
    assert feedback_rows(queue_db) == {"requests": 3, "notes": 3, "events": 3, "audit": 6}
    with queue_db.session() as session:
        stored = session.scalars(select(FeedbackRequest).order_by(FeedbackRequest.id)).all()
        first, second, third = stored
    assert (first.channel, first.external_id, first.place_code, first.agency_code) == (
        "sms",
        "SMS-1",
        TU_LY_CODE,
        "UBND-150",
    )
    assert first.requested_at == dt.datetime(2026, 3, 2, 1, 15, tzinfo=dt.UTC)
    assert first.phone == "0912000001" and first.created_by == "user:vanhanh"
    # Day/month/year without a zone is Vietnam time; an address alone is enough to route.
    assert second.requested_at == dt.datetime(2026, 3, 2, 9, 30, tzinfo=VN)
    assert (second.place_code, second.agency_code, second.email) == (
        TU_LY_CODE,
        "STTTT",
        "binh@example.vn",
    )
    assert (third.channel, third.external_id, third.agency_code) == ("petition", None, "UBND-150")
    tracked = client.get(f"{FEEDBACK}/track/{report['created'][0]['token']}")
    assert tracked.status_code == 200 and tracked.json()["id"] == first.id


def test_a_dry_run_stores_nothing_but_reports_the_same(
    client: TestClient, queue_db: Database, auth: Auth
) -> None:
    data = csv_file(*GOOD, *BAD)
    before = feedback_rows(queue_db)
    dry = client.post(
        IMPORT,
        params={"dry_run": "true"},
        content=data,
        headers={**auth("vanhanh"), "Content-Type": "text/csv"},
    )
    assert dry.status_code == 200, dry.text
    report = dry.json()
    assert report["dry_run"] is True and report["created"] == []
    assert (report["stored"], report["rejected"]) == (3, 6)
    assert feedback_rows(queue_db) == before
    real = client.post(
        IMPORT, content=data, headers={**auth("vanhanh"), "Content-Type": "text/csv"}
    ).json()
    assert real["errors"] == report["errors"] and real["stored"] == 3


def test_importing_again_changes_nothing(
    client: TestClient, queue_db: Database, auth: Auth
) -> None:
    ops = {**auth("vanhanh"), "Content-Type": "text/csv"}
    data = csv_file(*GOOD[:2])
    first = client.post(IMPORT, content=data, headers=ops).json()
    assert first["stored"] == 2
    counts = feedback_rows(queue_db)
    again = client.post(IMPORT, content=data, headers=ops).json()
    assert (again["stored"], again["skipped"], again["rejected"]) == (0, 2, 0)
    assert [s["id"] for s in again["already_imported"]] == [c["id"] for c in first["created"]]
    assert feedback_rows(queue_db) == counts
    # The same id from another channel is another message; twice in one file is one message.
    twice = csv_file(GOOD[0].replace(",sms,", ",zalo,"), GOOD[0].replace(",sms,", ",zalo,"))
    r = client.post(IMPORT, content=twice, headers=ops).json()
    assert (r["stored"], r["skipped"]) == (1, 1)
    assert r["already_imported"] == [{"row": 2, "id": r["created"][0]["id"]}]


def test_a_json_body_with_a_default_channel(
    client: TestClient, queue_db: Database, auth: Auth
) -> None:
    rows = [
        {
            "service_code": "flood",
            "description": "Sạt lở taluy dương",
            "lat": 20.895151,
            "lon": 105.248737,
            "attributes": {"severity": "blocked"},
            "phone": "0912 000 002",
            "external_id": 1001,
        },
        {"service_code": "flood", "description": "Ngập", "lat": "20,8952", "lon": "105,2487"},
        {"service_code": "waste", "description": "x", "address": "a", "email": "không-phải"},
        "not an object",
    ]
    r = client.post(
        IMPORT,
        params={"channel": "petition"},
        content=orjson.dumps(rows),
        headers={**auth("vanhanh"), "Content-Type": "application/json"},
    )
    assert r.status_code == 200, r.text
    report = r.json()
    assert errors_by_row(report) == {
        2: {"attribute[severity]"},
        3: {"email"},
        4: {"row"},
    }
    with queue_db.session() as session:
        req = session.scalars(select(FeedbackRequest)).one()
    assert (req.channel, req.external_id, req.attributes) == (
        "petition",
        "1001",
        {"severity": "blocked"},
    )


def test_semicolons_and_a_byte_order_mark_as_excel_writes_them(
    client: TestClient, queue_db: Database, auth: Auth
) -> None:
    data = (
        "\ufeffservice_code;description;lat;lon;requested_at\n"
        "waste;Rác;20,895151;105,248737;02/03/2026\n"
        ";;;;\n"
    )
    r = client.post(
        IMPORT,
        params={"channel": "sms"},
        files={"file": ("excel.csv", data.encode(), "application/vnd.ms-excel")},
        headers=auth("vanhanh"),
    )
    assert r.status_code == 200, r.text
    assert (r.json()["received"], r.json()["stored"]) == (1, 1)


def test_files_that_cannot_be_read_are_refused_whole(
    client: TestClient, queue_db: Database, auth: Auth
) -> None:
    ops = auth("vanhanh")
    csv_ops = {**ops, "Content-Type": "text/csv"}
    body = problem(
        client.post(IMPORT, content=csv_file(header="service_code,longitude"), headers=csv_ops),
        422,
        "file",
    )
    assert "longitude" in body["detail"]
    problem(
        client.post(
            IMPORT, content=b"{not json", headers={**ops, "Content-Type": "application/json"}
        ),
        422,
        "file",
    )
    problem(client.post(IMPORT, content="ư".encode("cp1258"), headers=csv_ops), 422, "file")
    problem(client.post(IMPORT, content=b"", headers=csv_ops), 422, "file")
    problem(client.post(IMPORT, content=b"x", headers={**ops, "Content-Type": "image/png"}), 415)
    problem(client.post(IMPORT, files={"other": ("a.csv", b"a")}, headers=ops), 422, "file")
    problem(
        client.post(IMPORT, params={"channel": "web"}, content=csv_file(), headers=csv_ops),
        422,
        "query.channel",
    )
    assert feedback_rows(queue_db)["requests"] == 0


def test_only_operators_import(client: TestClient, queue_db: Database, auth: Auth) -> None:
    data = csv_file(*GOOD)
    problem(client.post(IMPORT, content=data, headers={"Content-Type": "text/csv"}), 401)
    for user in ("sotttt", "lanhdao", "congdan"):
        r = client.post(IMPORT, content=data, headers={**auth(user), "Content-Type": "text/csv"})
        problem(r, 403)
    assert feedback_rows(queue_db)["requests"] == 0


def test_a_racing_import_is_retried_and_skips_what_the_other_stored(
    queue_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another import stores the same message between our look-up and our insert."""
    records = import_files.parse(csv_file(*GOOD[:2]), "csv")
    with queue_db.session("other") as session:
        importer.run(session, records[:1])
    real_existing = importer._existing
    calls: list[int] = []

    def stale_then_real(session: Any, keys: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
        calls.append(1)
        return {} if len(calls) == 1 else real_existing(session, keys)

    monkeypatch.setattr(importer, "_existing", stale_then_real)
    with queue_db.session("ours") as session:
        report = importer.run(session, records)
    assert len(calls) == 2
    assert ([s.row for s in report.stored], [s.row for s in report.skipped]) == ([2], [1])
    assert feedback_rows(queue_db)["requests"] == 2


def test_the_import_command(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, queue_db: Database
) -> None:
    monkeypatch.setenv("IOC_DATABASE_URL", queue_db.url)
    mixed = tmp_path / "don-thu.csv"
    mixed.write_bytes(csv_file(*GOOD, *BAD))
    runner = CliRunner()
    dry = runner.invoke(cli_app, ["feedback", "import", str(mixed), "--dry-run"])
    assert dry.exit_code == 1, dry.output
    out = " ".join(dry.output.split())
    assert "would store 3" in out and "rejected 6" in out and "nothing was stored" in out
    assert "unknown service_code 'parking'" in out
    assert feedback_rows(queue_db)["requests"] == 0
    good = tmp_path / "zalo.json"
    good.write_bytes(
        orjson.dumps(
            [{"service_code": "waste", "description": "Rác", "address": "xã Tú Lý, Đà Bắc"}]
        )
    )
    ok = runner.invoke(cli_app, ["feedback", "import", str(good), "--channel", "zalo"])
    assert ok.exit_code == 0, ok.output
    assert "stored 1" in " ".join(ok.output.split())
    with queue_db.session() as session:
        req = session.scalars(select(FeedbackRequest)).one()
    assert (req.channel, req.created_by[:4]) == ("zalo", "cli:")
    missing = runner.invoke(cli_app, ["feedback", "import", str(tmp_path / "none.csv")])
    assert missing.exit_code == 2


def test_text_a_column_cannot_hold_is_a_row_error_on_every_backend(
    queue_db: Database,
) -> None:
    """PostgreSQL refuses overlong text and NUL characters where SQLite keeps them: both refuse."""
    rows = [
        {"service_code": "waste", "description": "Rác", "address": "Tú Lý", "phone": "0" * 41},
        {"service_code": "waste", "description": "Rác\x00", "address": "Tú Lý"},
        {
            "service_code": "waste",
            "description": "Rác",
            "address": "Tú Lý",
            "external_id": "x" * 101,
        },
        {
            "service_code": "waste",
            "description": "Rác",
            "address": "Tú Lý",
            "first_name": "A" * 101,
        },
        {"service_code": "waste", "description": "Rác", "address": "Tú Lý"},
    ]
    with queue_db.session("test") as session:
        report = importer.run(
            session, import_files.parse(orjson.dumps(rows), "json"), channel="sms"
        )
    assert [(e.row, e.field) for e in report.errors] == [
        (1, "phone"),
        (2, "description"),
        (3, "external_id"),
        (4, "first_name"),
    ]
    assert [s.row for s in report.stored] == [5]
    assert feedback_rows(queue_db)["requests"] == 1

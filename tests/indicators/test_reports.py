"""Reports (XLSX with a chart, PDF in Vietnamese), the brief, and the signed, retried push."""

from __future__ import annotations

import hashlib
import hmac
import io
from collections.abc import Callable, Iterator
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from typer.testing import CliRunner

from ioc.cli import app as cli
from ioc.core.config import Settings
from ioc.core.db import Database
from ioc.indicators import push, reports
from ioc.indicators.models import Indicator, ReportDelivery
from ioc.indicators.queries import drill
from ioc.serving import serve
from tests.indicators.conftest import last_quarter, province

SECRET = "a-test-signing-secret"


def _grdp(demo_db: Database, period: str) -> tuple[float, dict[str, float]]:
    with demo_db.session() as session:
        grdp = session.get(Indicator, "GRDP")
        assert grdp is not None
        top, below = drill(session, grdp, province(session), period)
        assert top.value is not None
        return top.value, {r.place_name: r.value for r in below if r.value is not None}


def test_cli_xlsx_report_holds_the_numbers_and_a_chart(
    demo_db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    period = last_quarter()
    monkeypatch.setenv("IOC_DATABASE_URL", demo_db.url)
    out = tmp_path / "r.xlsx"
    result = CliRunner().invoke(
        cli, ["report", "--period", period, "--out", str(out), "--indicator", "GRDP",
              "--indicator", "VT-BTS"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    sheet = load_workbook(out).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert period in str(rows[0][0]) and "Hòa Bình" in str(rows[0][0])
    assert rows[1][1].startswith("Tổng sản phẩm")
    total, by_district = _grdp(demo_db, period)
    in_sheet = {r[0]: r[1] for r in rows[2:] if r[0] in by_district}
    assert in_sheet == by_district
    assert next(r for r in rows if r[0] == "Toàn tỉnh")[1] == total
    assert len(sheet._charts) == 1  # the native bar chart
    bad = CliRunner().invoke(cli, ["report", "--period", "2025-Q5"])
    assert bad.exit_code == 2 and "period" in bad.output


def test_pdf_report_renders_vietnamese_and_the_numbers(
    client: TestClient, auth: Callable[..., dict[str, str]], demo_db: Database
) -> None:
    period = last_quarter()
    response = client.get(
        f"/api/v1/indicators/report?period={period}&format=pdf&indicators=GRDP",
        headers=auth("lanhdao"),
    )
    assert response.status_code == 200, response.text
    assert response.content.startswith(b"%PDF")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert "Báo cáo chỉ tiêu" in text and "Toàn tỉnh" in text
    total, by_district = _grdp(demo_db, period)
    assert reports._fmt(total) in text  # written as Vietnamese write numbers: 71.733,2
    assert reports._fmt(next(iter(by_district.values()))) in text
    assert reports._fmt(71733.2) == "71.733,2" and reports._fmt(1234567.0) == "1.234.567"
    assert (
        client.get(
            f"/api/v1/indicators/report?period={period}", headers=auth("congdan")
        ).status_code
        == 403
    )


def test_daily_brief(client: TestClient, auth: Callable[..., dict[str, str]]) -> None:
    brief = client.get("/api/v1/indicators/brief", headers=auth("lanhdao")).json()
    items = {i["code"]: i for i in brief["indicators"]}
    kts = items["CDS-KTS"]
    assert kts["period"] == last_quarter() and kts["target"] == 20.0
    assert kts["light"] == "red" and "CDS-KTS" in brief["red"]  # 14.5 % of a 20 % target
    assert kts["previous"] < kts["value"]
    assert items["GRDP"]["weakest"]


class Receiver:
    """A national endpoint stand-in: refuses the first ``failures`` posts, then verifies."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.received: list[dict[str, object]] = []
        self.signatures_ok: list[bool] = []

    async def post(self, request: Request) -> JSONResponse:
        body = await request.body()
        expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        self.signatures_ok.append(hmac.compare_digest(expected, request.headers["x-ioc-signature"]))
        if self.failures > 0:
            self.failures -= 1
            return JSONResponse({"error": "busy"}, status_code=503)
        self.received.append(orjson.loads(body))
        return JSONResponse({"ok": True}, status_code=202)


@pytest.fixture
def receiver() -> Iterator[tuple[str, Receiver]]:
    state = Receiver(failures=2)
    app = Starlette(routes=[Route("/reports", state.post, methods=["POST"])])
    with serve(app, lifespan="off") as url:
        yield f"{url}/reports", state


def test_push_retries_with_backoff_and_is_logged(
    demo_db: Database, receiver: tuple[str, Receiver]
) -> None:
    url, state = receiver
    period = last_quarter()
    waits: list[float] = []
    settings = Settings(
        database_url=demo_db.url, report_push_url=url, report_push_secret=SECRET,
        report_push_backoff_seconds=0.5, report_push_attempts=4,
    )  # fmt: skip
    delivery = push.push(demo_db, settings, period, sleep=waits.append)
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("delivered", 3, 202)
    assert waits == [0.5, 1.0]
    assert state.signatures_ok == [True, True, True]
    doc = state.received[0]
    total, _ = _grdp(demo_db, period)
    grdp = next(i for i in doc["indicators"] if i["code"] == "GRDP")  # type: ignore[attr-defined]
    assert doc["period"] == period and grdp["province"] == total
    # Nobody listening: every attempt fails and the delivery is logged as failed.
    settings = settings.model_copy(update={"report_push_url": "http://127.0.0.1:9/none"})
    failed = push.push(demo_db, settings, period, sleep=waits.append)
    assert (failed.status, failed.attempts, failed.response_code) == ("failed", 4, None)
    with demo_db.session() as session:
        logged = session.scalars(select(ReportDelivery).order_by(ReportDelivery.id)).all()
        assert [d.status for d in logged] == ["delivered", "failed"]
        assert "ConnectError" in logged[1].last_error


def test_cli_recompute_brief_and_unconfigured_push(
    demo_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IOC_DATABASE_URL", demo_db.url)
    monkeypatch.delenv("IOC_REPORT_PUSH_URL", raising=False)
    runner = CliRunner()
    period = last_quarter()
    done = runner.invoke(cli, ["indicators", "recompute", "--period", period])
    assert done.exit_code == 0, done.output
    assert f"over {period}" in done.output
    brief = runner.invoke(cli, ["indicators", "brief", "--period", period])
    assert brief.exit_code == 0, brief.output
    assert orjson.loads(brief.output)["province"] == "Tỉnh Hòa Bình"
    pushed = runner.invoke(cli, ["indicators", "push", "--period", period])
    assert pushed.exit_code == 2 and "IOC_REPORT_PUSH_URL" in pushed.output


def test_push_endpoint_is_for_admins(
    client: TestClient, auth: Callable[..., dict[str, str]]
) -> None:
    url = f"/api/v1/indicators/push?period={last_quarter()}"
    assert client.post(url, headers=auth("lanhdao")).status_code == 403
    unconfigured = client.post(url, headers=auth("admin"))
    assert unconfigured.status_code == 422
    assert client.get("/api/v1/indicators/deliveries", headers=auth("admin")).json() == []

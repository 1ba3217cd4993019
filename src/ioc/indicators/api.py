"""The indicators API: catalogue and targets, drill-down, rank, trend, entry and review of
reported values, uploads, the document register, reports, the daily brief and the push."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from ioc.core.deps import CurrentPrincipal, SessionDep, SettingsDep, require
from ioc.core.problems import Invalid
from ioc.indicators import catalogue, periods, push, queries, reports, upload, values
from ioc.indicators.models import Indicator, IndicatorTarget, ReportDelivery

router = APIRouter(prefix="/api/v1/indicators", tags=["indicators"])
READERS = ("leader", "operator", "agency_staff", "district_admin")
Period = Annotated[str, Query(description="2025-Q3, 2025-07, 2025 or 2025-07-15")]


class IndicatorOut(BaseModel):
    code: str
    name: str
    name_en: str
    domain: str
    unit: str
    level: str
    period: str
    kind: str
    rollup: str
    higher_is_better: bool
    agency_code: str | None
    targets: dict[int, float]


class TargetIn(BaseModel):
    target: float
    green: float = 100.0
    amber: float = 90.0
    source: str = ""


class ReadingOut(BaseModel):
    place_code: str
    place_name: str
    period: str
    value: float | None
    target: float | None
    attainment: float | None
    light: str | None


class DrillOut(BaseModel):
    indicator: str
    place: ReadingOut
    children: list[ReadingOut]


class ValueIn(BaseModel):
    indicator_code: str
    place_code: str
    period: str
    value: float
    note: str = ""


class ValueOut(BaseModel):
    id: int
    indicator_code: str
    place_code: str
    period: str
    value: float | None
    status: str
    agency_code: str | None
    note: str
    review_note: str


class ReviewIn(BaseModel):
    note: str = ""


class UploadOut(BaseModel):
    created: int
    updated: int
    unchanged: int
    errors: list[dict[str, Any]] = Field(default_factory=list)


class DeliveryOut(BaseModel):
    id: int
    period: str
    status: str
    attempts: int
    response_code: int | None
    last_error: str


def _out(session: SessionDep, ind: Indicator) -> IndicatorOut:
    targets = session.execute(
        select(IndicatorTarget.year, IndicatorTarget.target).where(
            IndicatorTarget.indicator_code == ind.code
        )
    )
    fields = {f: getattr(ind, f) for f in IndicatorOut.model_fields if f != "targets"}
    return IndicatorOut(**fields, targets={year: target for year, target in targets})


def _reading(r: queries.Reading) -> ReadingOut:
    return ReadingOut(**dataclasses.asdict(r))


def _value(row: Any) -> ValueOut:
    return ValueOut.model_validate(row, from_attributes=True)


async def _file(request: Request) -> tuple[bytes, str]:
    async with request.form() as form:  # closes the spooled files
        file = form.get("file")
        if not isinstance(file, UploadFile):
            raise Invalid("file", "send the file as multipart field 'file'")
        return await file.read(), file.filename or "upload.csv"


@router.get("", dependencies=[require(*READERS)])
def list_indicators(session: SessionDep) -> list[IndicatorOut]:
    """The catalogue with each indicator's targets by year."""
    return [_out(session, i) for i in session.scalars(select(Indicator).order_by(Indicator.code))]


@router.get("/brief", dependencies=[require("leader", "operator")])
def daily_brief(session: SessionDep, period: Period | None = None) -> dict[str, Any]:
    """The leaders' brief: each indicator's province value, light and weakest district."""
    return reports.brief(session, period or periods.current("quarter"))


@router.get("/report", dependencies=[require(*READERS)])
def report_file(
    session: SessionDep,
    period: Period,
    format: Literal["xlsx", "pdf"] = "xlsx",
    indicators: Annotated[list[str] | None, Query()] = None,
) -> Response:
    """The period's report by district, in Vietnamese, as XLSX (with a chart) or PDF."""
    table = reports.build(session, period, indicators)
    if format == "pdf":
        return Response(reports.to_pdf(table), media_type="application/pdf")
    media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(reports.to_xlsx(table), media_type=media)


@router.post("/push", dependencies=[require()])
def push_period(request: Request, settings: SettingsDep, period: Period) -> DeliveryOut:
    """Admin: push the period's values to the national endpoint now (retries, then logs)."""
    delivery = push.push(request.app.state.database, settings, period)
    return DeliveryOut.model_validate(delivery, from_attributes=True)


@router.get("/deliveries", dependencies=[require()])
def deliveries(session: SessionDep) -> list[DeliveryOut]:
    rows = session.scalars(select(ReportDelivery).order_by(ReportDelivery.id.desc()).limit(100))
    return [DeliveryOut.model_validate(r, from_attributes=True) for r in rows]


@router.post("/values")
def enter_value(session: SessionDep, principal: CurrentPrincipal, body: ValueIn) -> ValueOut:
    """An agency enters (or corrects) a draft of its own indicator for a place and period."""
    row, _ = values.enter(
        session, principal, body.indicator_code, body.place_code, body.period, body.value, body.note
    )
    session.commit()
    return _value(row)


@router.post("/values/upload")
async def upload_values(
    request: Request, session: SessionDep, principal: CurrentPrincipal
) -> UploadOut:
    """CSV or XLSX of indicator_code, place_code, period, value[, note]; bad rows reported."""
    content, name = await _file(request)

    def run() -> upload.UploadReport:  # database work off the event loop
        report = upload.upload_values(session, principal, upload.read_rows(content, name))
        session.commit()
        return report

    return UploadOut(**dataclasses.asdict(await run_in_threadpool(run)))


@router.post("/values/{value_id}/{action}")
def review_value(
    session: SessionDep,
    principal: CurrentPrincipal,
    value_id: int,
    action: Literal["submit", "approve", "return"],
    body: ReviewIn | None = None,
) -> ValueOut:
    """Submit (the entering agency), approve or return (a leader) a reported value."""
    row = values.transition(session, principal, value_id, action, body.note if body else "")
    session.commit()
    return _value(row)


@router.post("/documents/import", dependencies=[require("operator", "agency_staff")])
async def import_documents(request: Request, session: SessionDep) -> UploadOut:
    """CSV of number, issued_on, agency_code, signed, signature_verified[, title]."""
    content, name = await _file(request)

    def run() -> upload.UploadReport:  # database work off the event loop
        report = upload.import_documents(session, upload.read_rows(content, name))
        session.commit()
        return report

    return UploadOut(**dataclasses.asdict(await run_in_threadpool(run)))


@router.get("/{code}", dependencies=[require(*READERS)])
def get_indicator(session: SessionDep, code: str) -> IndicatorOut:
    return _out(session, values.get_indicator(session, code))


@router.put("/{code}/targets/{year}", dependencies=[require()])
def put_target(session: SessionDep, code: str, year: int, body: TargetIn) -> IndicatorOut:
    """Admin: a year's target and its light thresholds (attainment %)."""
    indicator = values.get_indicator(session, code)
    catalogue.set_target(
        session, code, year, body.target, green=body.green, amber=body.amber, source=body.source
    )
    session.commit()
    return _out(session, indicator)


@router.get("/{code}/values", dependencies=[require(*READERS)])
def drill_down(
    session: SessionDep, code: str, period: Period, place: str | None = None
) -> DrillOut:
    """The place's value (default: the province) and each of its children's, with lights."""
    indicator = values.get_indicator(session, code)
    at = queries.place_or_404(session, place) if place else queries.province_of(session)
    top, below = queries.drill(session, indicator, at, period)
    return DrillOut(indicator=code, place=_reading(top), children=[_reading(r) for r in below])


@router.get("/{code}/trend", dependencies=[require(*READERS)])
def trend(
    session: SessionDep,
    code: str,
    period: Period,
    place: str | None = None,
    count: Annotated[int, Query(ge=1, le=40)] = 8,
) -> list[ReadingOut]:
    """The place's value over ``count`` periods ending with ``period``."""
    indicator = values.get_indicator(session, code)
    at = queries.place_or_404(session, place) if place else queries.province_of(session)
    return [_reading(r) for r in queries.trend(session, indicator, at, period, count)]


@router.get("/{code}/rank", dependencies=[require(*READERS)])
def rank(session: SessionDep, code: str, period: Period) -> list[ReadingOut]:
    """The districts, best first by the indicator's direction."""
    indicator = values.get_indicator(session, code)
    ranked = queries.rank(session, indicator, queries.province_of(session), period)
    return [_reading(r) for r in ranked]

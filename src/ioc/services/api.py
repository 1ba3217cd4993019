"""The public-services API: the procedure catalogue, dossiers and their workflow, imports, measures.

Thin: every route calls ``ioc.services.service`` / ``measures`` / ``importer``; reads and
writes are limited to the caller's scope (places and agencies) with ``Scope.where``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy import func, or_, select

from ioc.core.auth import Principal
from ioc.core.deps import CurrentPrincipal, Limit, Offset, SessionDep, require
from ioc.core.places import subtree_codes_stmt
from ioc.core.problems import Forbidden, Invalid, NotFound
from ioc.core.schemas import Page
from ioc.core.uploads import Upload, openapi_body, upload_reader
from ioc.services import import_files, importer, measures, service
from ioc.services.models import Dossier, ServiceProcedure
from ioc.services.schemas import (
    DossierCreate,
    DossierDetail,
    DossierOut,
    HandOff,
    ImportReportOut,
    MeasureOut,
    MeasuresReport,
    ProcedureOut,
    RowErrorOut,
    StepOut,
    Transition,
)

router = APIRouter(prefix="/api/v1/services", tags=["public services"])


@router.get("/procedures")
def list_procedures(
    session: SessionDep,
    sector: str | None = None,
    agency_code: str | None = None,
    online_level: Annotated[str | None, Query(pattern="^(partial_online|full_online)$")] = None,
    q: Annotated[str | None, Query(max_length=200, description="words of the name")] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page[ProcedureOut]:
    """The catalogue is public: anyone may read which procedures exist and how online they are."""
    stmt = select(ServiceProcedure).where(ServiceProcedure.active)
    if sector:
        stmt = stmt.where(ServiceProcedure.sector == sector)
    if agency_code:
        stmt = stmt.where(ServiceProcedure.agency_code == agency_code)
    if online_level:
        stmt = stmt.where(ServiceProcedure.online_level == online_level)
    if q:
        stmt = stmt.where(
            or_(
                ServiceProcedure.name.contains(q),
                ServiceProcedure.name_en.contains(q),
                ServiceProcedure.code == q.strip(),
            )
        )
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(ServiceProcedure.code).limit(limit).offset(offset))
    return Page(
        items=[ProcedureOut.model_validate(p) for p in rows],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.get("/procedures/{code}")
def get_procedure(code: str, session: SessionDep) -> ProcedureOut:
    procedure = session.get(ServiceProcedure, code)
    if procedure is None:
        raise NotFound(f"no procedure {code!r}")
    return ProcedureOut.model_validate(procedure)


@router.get("/measures")
def dossier_measures(
    session: SessionDep,
    principal: CurrentPrincipal,
    start: Annotated[dt.date, Query(alias="from", description="first day")],
    end: Annotated[dt.date, Query(alias="to", description="last day, included")],
    by: Annotated[measures.By, Query()] = "district",
    period: Annotated[measures.Period, Query()] = "month",
) -> MeasuresReport:
    """On-time %, resolved, late, received and in progress, inside the caller's scope."""
    if end < start:
        raise Invalid("to", "the last day comes before the first")
    scope = service.visible(principal)  # also refuses callers who may not read dossiers
    where = None if principal.scope.unrestricted else scope  # None: the daily summary serves
    rows = measures.measures(session, start, end, by=by, period=period, where=where)
    groups = [MeasureOut(**dataclasses.asdict(m)) for m in rows]
    return MeasuresReport(by=by, start=start, end=end, groups=groups)


read_upload = upload_reader(import_files.FORMATS)


@router.post("/import", openapi_extra=openapi_body(import_files.FORMATS))
def import_dossiers(
    session: SessionDep,
    principal: Annotated[Principal, require("operator", "connector", "agency_staff")],
    upload: Annotated[Upload, Depends(read_upload)],
    dry_run: Annotated[bool, Query(description="validate only; store nothing")] = False,
) -> ImportReportOut:
    """A one-stop-shop export (CSV, XLSX, JSON); idempotent by code, every bad row listed."""
    report = importer.import_file(
        session, upload.data, upload.fmt, dry_run=dry_run, scope=principal.scope
    )
    if not dry_run:
        session.commit()
    return ImportReportOut(
        received=report.received,
        created=report.created,
        updated=report.updated,
        skipped=report.skipped,
        rejected=report.rejected,
        dry_run=report.dry_run,
        errors=[RowErrorOut(row=e.row, field=e.field, message=e.message) for e in report.errors],
    )


@router.get("/dossiers")
def list_dossiers(
    session: SessionDep,
    principal: CurrentPrincipal,
    status: Annotated[list[str] | None, Query(description="repeat for several")] = None,
    procedure_code: str | None = None,
    agency_code: str | None = None,
    place: Annotated[str | None, Query(description="a place code: it and all below it")] = None,
    channel: str | None = None,
    on_time: bool | None = None,
    start: Annotated[dt.date | None, Query(alias="from", description="received from")] = None,
    end: Annotated[dt.date | None, Query(alias="to", description="received to, included")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[DossierOut]:
    """Dossiers inside the caller's scope, newest first."""
    stmt = select(Dossier).where(service.visible(principal))
    if status:
        stmt = stmt.where(Dossier.status.in_(status))
    if procedure_code:
        stmt = stmt.where(Dossier.procedure_code == procedure_code)
    if agency_code:
        stmt = stmt.where(Dossier.agency_code == agency_code)
    if channel:
        stmt = stmt.where(Dossier.channel == channel)
    if on_time is not None:
        stmt = stmt.where(Dossier.on_time == on_time)
    if place:
        stmt = stmt.where(Dossier.place_code.in_(subtree_codes_stmt(place)))
    if start or end:
        first, after = measures.bounds(start or dt.date(1900, 1, 1), end or dt.date(9999, 12, 30))
        stmt = stmt.where(Dossier.received_at >= first, Dossier.received_at < after)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(
        stmt.order_by(Dossier.received_at.desc(), Dossier.id.desc()).limit(limit).offset(offset)
    )
    items = [DossierOut.model_validate(d) for d in rows]
    return Page(items=items, total=total, limit=limit, offset=offset)


def _detail(session: SessionDep, d: Dossier) -> DossierDetail:
    steps = [StepOut.model_validate(s) for s in service.steps(session, d)]
    return DossierDetail(**DossierOut.model_validate(d).model_dump(), steps=steps)


@router.post("/dossiers", status_code=201)
def create_dossier(
    body: DossierCreate,
    session: SessionDep,
    principal: Annotated[Principal, require(*service.HANDLERS)],
) -> DossierDetail:
    """A desk officer registers a dossier received at the one-stop shop (or by post)."""
    d = service.receive(session, service.NewDossier(**body.model_dump()))
    if not (
        principal.scope.contains_place(session, d.place_code)
        and principal.scope.contains_agency(d.agency_code)
    ):
        raise Forbidden("the dossier's commune or agency is outside your scope")
    session.commit()
    return _detail(session, d)


@router.get("/dossiers/{code}")
def get_dossier(code: str, session: SessionDep, principal: CurrentPrincipal) -> DossierDetail:
    """One dossier with its steps and hand-offs."""
    return _detail(session, service.get(session, principal, code))


@router.post("/dossiers/{code}/transition")
def transition(
    code: str,
    body: Transition,
    session: SessionDep,
    principal: Annotated[Principal, require(*service.HANDLERS)],
) -> DossierDetail:
    """Move the dossier along: processing, supplement requested (pauses the clock), a result."""
    d = service.get(session, principal, code)
    service.transition(
        session, d, body.status, note=body.note, delivery=body.delivery, rating=body.rating
    )
    session.commit()
    return _detail(session, d)


@router.post("/dossiers/{code}/hand-off")
def hand_off(
    code: str,
    body: HandOff,
    session: SessionDep,
    principal: Annotated[Principal, require(*service.HANDLERS)],
) -> DossierDetail:
    """Pass the dossier to another agency for its part of the work."""
    d = service.get(session, principal, code)
    service.hand_off(session, d, body.to_agency, note=body.note)
    session.commit()
    return _detail(session, d)

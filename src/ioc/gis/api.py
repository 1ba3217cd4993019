"""The GIS management API: layer imports, land parcels and their changes, land statistics.

Reading maps is OGC API – Features (``ioc.gis.ogcapi``). Here every write needs a role and
stays inside the caller's place scope; holders (personal data) are read only by admin,
leaders, operators, district admins and the land registration office, inside their scope.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from ioc.core import events
from ioc.core.auth import Principal
from ioc.core.deps import CurrentPrincipal, SessionDep, require
from ioc.core.problems import Forbidden, Invalid, NotFound
from ioc.gis import importer, parcels
from ioc.gis.land_sources import HolderView
from ioc.gis.landuse import may_edit_parcels, may_see_holders
from ioc.gis.models import GisLayer, LandParcel
from ioc.gis.parcels import HOLDER_FIELDS, Holder
from ioc.gis.schemas import (
    ChangeOut,
    ChangeUseIn,
    ConflictOut,
    FeatureErrorOut,
    HolderIn,
    ImportReportOut,
    LayerOut,
    MergeIn,
    ParcelCreate,
    ParcelOut,
    SplitIn,
    StatOut,
    TransferIn,
)

router = APIRouter(prefix="/api/v1/gis", tags=["GIS and land"])
Importer = Annotated[Principal, require("operator", "connector", "agency_staff")]
_COPY = 1024 * 1024


@router.get("/layers")
def list_layers(session: SessionDep) -> list[LayerOut]:
    """Every imported or built layer (public: the same list OGC API /collections serves)."""
    layers = session.scalars(select(GisLayer).order_by(GisLayer.category, GisLayer.id))
    return [LayerOut.model_validate(layer) for layer in layers]


async def _spool(request: Request, target: Path) -> str:
    """Write the upload (form field 'file', or the raw body) to ``target``; its file name."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media == "multipart/form-data":
        form = await request.form()
        try:
            upload = form.get("file")
            if not isinstance(upload, UploadFile):
                raise Invalid("file", "send the file in a form field named 'file'")
            with target.open("wb") as out:
                while chunk := await upload.read(_COPY):
                    out.write(chunk)
            return upload.filename or target.name
        finally:
            await form.close()
    with target.open("wb") as out:
        async for chunk in request.stream():
            out.write(chunk)
    return request.query_params.get("filename") or target.name


@router.post("/layers/{layer_id}/import")
async def import_layer(
    layer_id: str,
    request: Request,
    session: SessionDep,
    principal: Importer,
    crs: Annotated[str | None, Query(description="source CRS when the file names none")] = None,
    title: Annotated[str | None, Query(max_length=200)] = None,
    replace: bool = False,
    boundaries: Annotated[str | None, Query(description="property holding GSO place codes")] = None,
    skip_invalid: bool = False,
    dry_run: bool = False,
    source_layer: Annotated[
        str | None, Query(description="the layer of a GeoPackage holding several")
    ] = None,
) -> ImportReportOut:
    """GeoJSON, zipped Shapefile, GeoPackage or CSV as a new or replacement layer, all or none."""
    importer.check_layer_id(layer_id)
    if boundaries and not principal.is_admin:
        raise Forbidden("only an admin replaces administrative boundaries")
    with tempfile.TemporaryDirectory(prefix="ioc-gis-") as tmp:
        path = Path(tmp) / "upload"
        name = await _spool(request, path)

        def work() -> importer.ImportReport:
            report = importer.import_file(
                session, path, layer_id, filename=name, title=title, crs=crs, replace=replace,
                boundaries=boundaries, skip_invalid=skip_invalid, dry_run=dry_run,
                source_layer=source_layer,
            )  # fmt: skip
            if not dry_run:
                session.commit()
            return report

        report = await run_in_threadpool(work)
    return ImportReportOut(
        **{k: v for k, v in report.__dict__.items() if k not in ("errors", "bbox")},
        bbox=list(report.bbox) if report.bbox else None,
        errors=[FeatureErrorOut(**e) for e in report.errors],
    )


@router.delete("/layers/{layer_id}", status_code=204)
def delete_layer(
    layer_id: str, session: SessionDep, principal: Annotated[Principal, require("operator")]
) -> None:
    layer = session.get(GisLayer, layer_id)
    if layer is None:
        raise NotFound(f"no layer {layer_id!r}")
    session.delete(layer)
    events.emit(session, "gis.layer.deleted", {"layer": layer_id}, subject=layer_id)
    session.commit()


def _out(view: HolderView, parcel: LandParcel) -> ParcelOut:
    fields: dict[str, Any] = {
        name: getattr(parcel, name)
        for name in ("key", "commune_code", "sheet_no", "parcel_no", "area_m2", "land_use",
                     "zone_code", "status", "version")
    }  # fmt: skip
    if view.sees(parcel.commune_code):
        fields.update(
            {name: getattr(parcel, name) for name in HOLDER_FIELDS if name != "holder_kind"}
        )
    return ParcelOut(**fields)


def _editable(session: Session, principal: Principal, commune_code: str) -> None:
    if not may_edit_parcels(principal):
        raise Forbidden("changing the cadastre needs admin or the land registration office (STNMT)")
    if not principal.scope.contains_place(session, commune_code):
        raise Forbidden(f"commune {commune_code} is outside your scope")


def _holder(h: HolderIn | None) -> Holder | None:
    if h is None:
        return None
    return Holder(h.name, h.id, h.kind, h.certificate_no, h.certificate_date)


@router.post("/parcels", status_code=201)
def create_parcel(
    body: ParcelCreate, session: SessionDep, principal: CurrentPrincipal
) -> ParcelOut:
    _editable(session, principal, body.commune_code)
    parcel = parcels.create(
        session, body.commune_code, body.sheet_no, body.parcel_no, body.land_use, body.geometry,
        _holder(body.holder),
    )  # fmt: skip
    session.commit()
    return _out(HolderView(session, principal), parcel)


@router.get("/parcels")
def find_parcels(
    session: SessionDep,
    principal: CurrentPrincipal,
    zone: str | None = None,
    holder_id: Annotated[str | None, Query(max_length=32)] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> list[ParcelOut]:
    """Parcels of a planning zone, or of a holder (authorised users only, inside their scope)."""
    if (zone is None) == (holder_id is None):
        raise Invalid("zone", "give exactly one of zone or holder_id")
    stmt = select(LandParcel).where(LandParcel.status == "active")
    if holder_id is not None:
        if not may_see_holders(principal):
            raise Forbidden("looking parcels up by holder is for authorised land staff")
        stmt = stmt.where(LandParcel.holder_id == holder_id)
    else:
        stmt = stmt.where(LandParcel.zone_code == zone)
    stmt = stmt.where(principal.scope.where(place=LandParcel.commune_code))
    found = session.scalars(stmt.order_by(LandParcel.id).limit(limit))
    view = HolderView(session, principal)
    return [_out(view, p) for p in found]


@router.get("/parcels/{key}")
def get_parcel(key: str, session: SessionDep, principal: CurrentPrincipal) -> ParcelOut:
    return _out(HolderView(session, principal), parcels.get(session, key, active=False))


@router.get("/parcels/{key}/history")
def parcel_history(key: str, session: SessionDep, principal: CurrentPrincipal) -> list[ChangeOut]:
    """Every state the parcel had, oldest first; holders blanked unless the caller may see them."""
    parcel = parcels.get(session, key, active=False)
    shown = HolderView(session, principal).sees(parcel.commune_code)
    out = []
    for change in parcels.history(session, key):
        item = ChangeOut.model_validate(change)
        if not shown:
            item.state = {k: v for k, v in item.state.items() if k not in HOLDER_FIELDS}
        out.append(item)
    return out


@router.post("/parcels/{key}/transfer")
def transfer(
    key: str, body: TransferIn, session: SessionDep, principal: CurrentPrincipal
) -> ParcelOut:
    _editable(session, principal, parcels.get(session, key).commune_code)
    parcel = parcels.transfer(session, key, _holder(body.holder) or Holder(), body.note)
    session.commit()
    return _out(HolderView(session, principal), parcel)


@router.post("/parcels/{key}/change-of-use")
def change_of_use(
    key: str, body: ChangeUseIn, session: SessionDep, principal: CurrentPrincipal
) -> ParcelOut:
    _editable(session, principal, parcels.get(session, key).commune_code)
    parcel = parcels.change_use(session, key, body.land_use, body.note)
    session.commit()
    return _out(HolderView(session, principal), parcel)


@router.post("/parcels/{key}/split")
def split(
    key: str, body: SplitIn, session: SessionDep, principal: CurrentPrincipal
) -> list[ParcelOut]:
    _editable(session, principal, parcels.get(session, key).commune_code)
    made = parcels.split(session, key, body.parts, body.first_parcel_no, body.note)
    session.commit()
    view = HolderView(session, principal)
    return [_out(view, p) for p in made]


@router.post("/parcels/merge")
def merge(body: MergeIn, session: SessionDep, principal: CurrentPrincipal) -> ParcelOut:
    _editable(session, principal, parcels.get(session, body.keys[0]).commune_code)
    parcel = parcels.merge(session, body.keys, body.parcel_no, body.note)
    session.commit()
    return _out(HolderView(session, principal), parcel)


@router.get("/land-statistics")
def land_statistics(
    session: SessionDep,
    principal: Annotated[
        Principal, require("leader", "operator", "agency_staff", "district_admin")
    ],
) -> list[StatOut]:
    """Parcels and area by commune and land-use code, inside the caller's scope."""
    communes = None
    if principal.scope.place_path is not None:
        communes = list(session.scalars(principal.scope.places()))
    return [StatOut(**row) for row in parcels.statistics(session, communes)]


@router.get("/planning-conflicts")
def planning_conflicts(
    session: SessionDep,
    principal: Annotated[
        Principal, require("leader", "operator", "agency_staff", "district_admin")
    ],
) -> list[ConflictOut]:
    """Parcels whose land use their planning zone does not allow, inside the caller's scope."""
    out = []
    for parcel, zone in parcels.conflicts(session):
        if principal.scope.place_path is not None and not principal.scope.contains_place(
            session, parcel.commune_code
        ):
            continue
        out.append(
            ConflictOut(
                key=parcel.key,
                commune_code=parcel.commune_code,
                land_use=parcel.land_use,
                zone_code=zone.code,
                zone_designation=zone.designation,
                allowed_uses=zone.allowed_uses,
            )  # fmt: skip
        )
    return out

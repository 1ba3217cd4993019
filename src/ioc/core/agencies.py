"""Agencies: the provincial departments and the people's committees that own work."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ioc.core import refdata
from ioc.core.agency_catalog import PARENT, PROVINCIAL_AGENCIES
from ioc.core.events import emit
from ioc.core.models import AGENCY_KEY_LENGTH, Agency, Place
from ioc.core.problems import Conflict, Invalid, NotFound
from ioc.core.text import fold, search_key

KINDS = (
    "provincial_pc",
    "office",
    "department",
    "police",
    "service_centre",
    "district_pc",
    "commune_pc",
    "service_provider",
    "other",
)
KIND_EN = {
    "Tỉnh": "Province",
    "Thành phố": "City",
    "Huyện": "District",
    "Thị xã": "Town",
    "Quận": "Urban District",
    "Xã": "Commune",
    "Phường": "Ward",
    "Thị trấn": "Township",
}
CODE_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")


@dataclass(frozen=True, slots=True)
class AgencyFields:
    """Editable parts of an agency; None leaves a field unchanged on update."""

    name: str | None = None
    name_en: str | None = None
    kind: str | None = None
    place_code: str | None = None
    parent_code: str | None = None
    email: str | None = None
    phone: str | None = None
    active: bool | None = None


def committee_code(place: Place) -> str:
    return f"UBND-{place.code}"


def committee_names(place: Place) -> tuple[str, str]:
    """'UBND huyện Đà Bắc' and "People's Committee of Đà Bắc District"."""
    vi = f"UBND {place.kind.lower()} {place.short_name}"
    en = f"People's Committee of {place.short_name} {KIND_EN.get(place.kind, place.kind)}"
    return vi, en


def _key(agency: Agency) -> str:
    # Code and both names can outgrow the column; only the end of a very long English name is lost.
    return search_key(agency.code, agency.name, agency.name_en or "")[:AGENCY_KEY_LENGTH]


def seed_province(session: Session, province_code: str) -> int:
    """Create (or refresh) the province's departments and every district and commune committee."""
    province = session.get(Place, province_code)
    if province is None or province.level != "province":
        raise Invalid(
            "province", f"load the province's places first (no province {province_code!r})"
        )
    existing = {a.code: a for a in session.scalars(select(Agency))}
    wanted: list[Agency] = []
    for spec in PROVINCIAL_AGENCIES:
        wanted.append(
            Agency(
                code=spec.code,
                kind=spec.kind,
                place_code=province.code,
                name=spec.name.format(p=province.short_name),
                name_en=spec.name_en.format(p=province.short_name),
                parent_code=PARENT.get(spec.code),
            )
        )
    places = session.scalars(
        select(Place).where(Place.path.like(province.path + "/%")).order_by(Place.path)
    )
    for place in places:
        parent = session.get(Place, place.parent_code) if place.parent_code else None
        vi, en = committee_names(place)
        wanted.append(
            Agency(
                code=committee_code(place),
                name=vi,
                name_en=en,
                place_code=place.code,
                kind="district_pc" if place.level == "district" else "commune_pc",
                parent_code=committee_code(parent)
                if parent and parent.level != "province"
                else "UBND-TINH",
            )
        )
    changed = 0
    for agency in wanted:
        agency.search_key = _key(agency)
        current = existing.get(agency.code)
        if current is None:
            session.add(agency)
            changed += 1
            continue
        for attr in ("name", "name_en", "kind", "place_code", "parent_code", "search_key"):
            if getattr(current, attr) != getattr(agency, attr):
                setattr(current, attr, getattr(agency, attr))
                changed += 1
    session.flush()
    return changed


def _all_codes(session: Session) -> frozenset[str]:
    return frozenset(session.scalars(select(Agency.__table__.c.code)))


_CODES = refdata.Cache(Agency.__refdata__, _all_codes)


def agency_codes(session: Session, known: refdata.Versions | None = None) -> frozenset[str]:
    """Every agency's code, active or not, from this process's copy (routing asks per report)."""
    return _CODES.get(session, known)


def get_agency(session: Session, code: str) -> Agency:
    agency = session.get(Agency, code)
    if agency is None:
        raise NotFound(f"no agency {code!r}")
    return agency


def list_agencies(
    session: Session,
    q: str | None = None,
    kind: str | None = None,
    place: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[Agency], int]:
    """Search agencies by name without caring for diacritics; filter by kind and place."""
    stmt = select(Agency)
    if q:
        terms = fold(q).split()
        stmt = stmt.where(*(Agency.search_key.contains(t, autoescape=True) for t in terms))
    if kind:
        stmt = stmt.where(Agency.kind == kind)
    if place:
        stmt = stmt.where(Agency.place_code == place)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(
        stmt.order_by(Agency.kind != "provincial_pc", Agency.code).limit(limit).offset(offset)
    )
    return list(rows), total


def _validate(session: Session, fields: AgencyFields) -> None:
    if fields.kind is not None and fields.kind not in KINDS:
        raise Invalid("kind", f"choose from {', '.join(KINDS)}")
    if fields.place_code is not None and session.get(Place, fields.place_code) is None:
        raise Invalid("place_code", f"unknown place code {fields.place_code!r}")
    if fields.parent_code is not None and session.get(Agency, fields.parent_code) is None:
        raise Invalid("parent_code", f"unknown agency code {fields.parent_code!r}")
    if fields.name is not None and not fields.name.strip():
        raise Invalid("name", "must not be empty")


def create_agency(session: Session, code: str, fields: AgencyFields) -> Agency:
    code = code.strip().upper()
    if not code or not set(code) <= CODE_CHARS or len(code) > 32:
        raise Invalid("code", "1-32 characters: A-Z, digits, '-' or '_'")
    if fields.name is None:
        raise Invalid("name", "is required")
    _validate(session, fields)
    if session.get(Agency, code) is not None:
        raise Conflict(f"the agency code {code!r} is taken")
    agency = Agency(
        code=code,
        kind=fields.kind or "other",
        name=fields.name.strip(),
        name_en=fields.name_en,
        place_code=fields.place_code,
        parent_code=fields.parent_code,
        email=fields.email,
        phone=fields.phone,
        active=True if fields.active is None else fields.active,
    )
    agency.search_key = _key(agency)
    session.add(agency)
    session.flush()
    emit(
        session,
        "agency.created",
        {"code": code, "name": agency.name},
        subject=code,
        place_code=agency.place_code,
    )
    return agency


def update_agency(session: Session, agency: Agency, fields: AgencyFields) -> Agency:
    _validate(session, fields)
    if fields.parent_code == agency.code:
        raise Invalid("parent_code", "an agency cannot be its own parent")
    for attr in (
        "name",
        "name_en",
        "kind",
        "place_code",
        "parent_code",
        "email",
        "phone",
        "active",
    ):
        value = getattr(fields, attr)
        if value is not None:
            setattr(agency, attr, value.strip() if isinstance(value, str) else value)
    agency.search_key = _key(agency)
    session.flush()
    emit(
        session,
        "agency.updated",
        {"code": agency.code},
        subject=agency.code,
        place_code=agency.place_code,
    )
    return agency

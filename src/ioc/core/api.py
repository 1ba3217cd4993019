"""Core routes: login, who am I, places and agencies (public reference data)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.security import OAuth2PasswordRequestForm

from ioc.core import agencies, places
from ioc.core.auth import Principal
from ioc.core.deps import (
    CurrentPrincipal,
    Limit,
    MaybePrincipal,
    Offset,
    SessionDep,
    SettingsDep,
    require,
)
from ioc.core.models import Place, User
from ioc.core.problems import Unauthorized
from ioc.core.schemas import (
    AgencyCreate,
    AgencyPublic,
    AgencyUpdate,
    MePublic,
    Page,
    PlacePublic,
    ScopePublic,
    Token,
)
from ioc.core.security import issue_token, signing_key
from ioc.core.users import authenticate

router = APIRouter(prefix="/api/v1")


async def reference_reader(principal: MaybePrincipal, settings: SettingsDep) -> Principal:
    """Places and agencies are public unless IOC_PUBLIC_REFERENCE_DATA=false."""
    if not settings.public_reference_data and principal.kind == "anonymous":
        raise Unauthorized()
    return principal


Reader = Annotated[Principal, Depends(reference_reader)]


def place_out(place: Place) -> PlacePublic:
    bbox = None
    if None not in (place.min_lon, place.min_lat, place.max_lon, place.max_lat):
        bbox = [place.min_lon, place.min_lat, place.max_lon, place.max_lat]
    return PlacePublic(
        code=place.code,
        name=place.name,
        short_name=place.short_name,
        level=place.level,
        kind=place.kind,
        parent_code=place.parent_code,
        tree=place.tree,
        lat=place.lat,
        lon=place.lon,
        bbox=bbox,
        area_km2=place.area_km2,
    )


@router.post("/auth/token", tags=["auth"])
def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: SessionDep,
    settings: SettingsDep,
) -> Token:
    """OAuth2 password flow: trade a username and password for a bearer token."""
    session.info["actor"] = f"user:{form.username.strip().lower()}"
    user = authenticate(session, form.username, form.password)
    if user is None:
        raise Unauthorized("wrong username or password, or the account is disabled")
    token, expires_in = issue_token(
        signing_key(session, settings),
        user_id=user.id,
        username=user.username,
        version=user.token_version,
        minutes=settings.token_minutes,
    )
    session.commit()
    return Token(access_token=token, expires_in=expires_in)


@router.get("/me", tags=["auth"])
def me(principal: CurrentPrincipal, session: SessionDep) -> MePublic:
    """The caller's identity, roles and scope."""
    full_name = None
    if principal.kind == "user" and principal.id is not None:
        user = session.get(User, principal.id)
        full_name = user.full_name if user else None
    return MePublic(
        kind=principal.kind,
        username=principal.name,
        full_name=full_name,
        roles=sorted(principal.roles),
        scope=ScopePublic(**principal.scope.to_dict()),
    )


@router.get("/places", tags=["places"])
def list_places(
    session: SessionDep,
    _: Reader,
    q: Annotated[str | None, Query(description="name, with or without diacritics")] = None,
    level: Annotated[str | None, Query(pattern="^(province|district|commune)$")] = None,
    parent: str | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[PlacePublic]:
    """Search administrative units: ``?q=da bac`` finds Huyện Đà Bắc."""
    rows, total = places.search_places(session, q, level, parent, limit, offset)
    return Page(items=[place_out(p) for p in rows], total=total, limit=limit, offset=offset)


@router.get("/places/{code}", tags=["places"])
def get_place(code: str, session: SessionDep, _: Reader) -> PlacePublic:
    return place_out(places.get_place(session, code))


@router.get("/places/{code}/children", tags=["places"])
def place_children(code: str, session: SessionDep, _: Reader) -> list[PlacePublic]:
    """The districts of a province, or the communes of a district."""
    return [place_out(p) for p in places.children(session, code)]


@router.get("/agencies", tags=["agencies"])
def list_agencies(
    session: SessionDep,
    _: Reader,
    q: str | None = None,
    kind: str | None = None,
    place: str | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page[AgencyPublic]:
    """Departments, people's committees and providers; ``q`` ignores diacritics."""
    rows, total = agencies.list_agencies(session, q, kind, place, limit, offset)
    items = [AgencyPublic.model_validate(a) for a in rows]
    return Page(items=items, total=total, limit=limit, offset=offset)


@router.get("/agencies/{code}", tags=["agencies"])
def get_agency(code: str, session: SessionDep, _: Reader) -> AgencyPublic:
    return AgencyPublic.model_validate(agencies.get_agency(session, code))


@router.post("/agencies", status_code=201, tags=["agencies"], dependencies=[require("admin")])
def create_agency(body: AgencyCreate, session: SessionDep) -> AgencyPublic:
    fields = agencies.AgencyFields(**body.model_dump(exclude={"code"}))
    agency = agencies.create_agency(session, body.code, fields)
    session.commit()
    return AgencyPublic.model_validate(agency)


@router.patch("/agencies/{code}", tags=["agencies"], dependencies=[require("admin")])
def update_agency(code: str, body: AgencyUpdate, session: SessionDep) -> AgencyPublic:
    agency = agencies.update_agency(
        session, agencies.get_agency(session, code), agencies.AgencyFields(**body.model_dump())
    )
    session.commit()
    return AgencyPublic.model_validate(agency)

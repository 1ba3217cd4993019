"""Administration routes: users, API keys, the audit log and recent events."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from sqlalchemy import func, select

from ioc.core import users
from ioc.core.deps import CurrentPrincipal, Limit, Offset, SessionDep
from ioc.core.models import AuditEntry, OutboxEvent, User
from ioc.core.problems import Forbidden
from ioc.core.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyPublic,
    AuditPublic,
    EventPublic,
    Page,
    UserCreate,
    UserPublic,
    UserUpdate,
)

router = APIRouter(prefix="/api/v1")


def user_out(user: User) -> UserPublic:
    return UserPublic.model_validate(user, from_attributes=True)


@router.get("/users", tags=["users"])
def list_users(
    session: SessionDep,
    principal: CurrentPrincipal,
    q: str | None = None,
    role: str | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page[UserPublic]:
    """Users inside the caller's scope (admins see all, district admins their district)."""
    rows, total = users.list_users(session, principal, q, role, limit, offset)
    return Page(items=[user_out(u) for u in rows], total=total, limit=limit, offset=offset)


@router.post("/users", status_code=201, tags=["users"])
def create_user(body: UserCreate, session: SessionDep, principal: CurrentPrincipal) -> UserPublic:
    users.visible_users(principal)
    fields = users.UserFields(**body.model_dump(exclude={"username", "password"}))
    user = users.create_user(session, body.username, body.password, fields, by=principal)
    session.commit()
    return user_out(user)


@router.get("/users/{username}", tags=["users"])
def get_user(username: str, session: SessionDep, principal: CurrentPrincipal) -> UserPublic:
    return user_out(users.get_user(session, username, principal))


@router.patch("/users/{username}", tags=["users"])
def update_user(
    username: str, body: UserUpdate, session: SessionDep, principal: CurrentPrincipal
) -> UserPublic:
    """Change roles, scope, contact details, password or active flag."""
    user = users.get_user(session, username, principal)
    users.update_user(session, user, users.UserFields(**body.model_dump()), by=principal)
    session.commit()
    return user_out(user)


@router.get("/api-keys", tags=["api keys"])
def list_api_keys(session: SessionDep, principal: CurrentPrincipal) -> list[ApiKeyPublic]:
    return [ApiKeyPublic.model_validate(k) for k in users.list_api_keys(session, principal)]


@router.post("/api-keys", status_code=201, tags=["api keys"])
def create_api_key(
    body: ApiKeyCreate, session: SessionDep, principal: CurrentPrincipal
) -> ApiKeyCreated:
    """A key for a device or another system; the secret is in this response only."""
    users.visible_users(principal)
    key, secret = users.create_api_key(
        session,
        body.name,
        body.roles,
        place_code=body.place_code,
        agency_codes=body.agency_codes,
        expires_at=body.expires_at,
        by=principal,
    )
    session.commit()
    return ApiKeyCreated(**ApiKeyPublic.model_validate(key).model_dump(), key=secret)


@router.delete("/api-keys/{key_id}", status_code=204, tags=["api keys"])
def revoke_api_key(key_id: int, session: SessionDep, principal: CurrentPrincipal) -> Response:
    users.revoke_api_key(session, key_id, principal)
    session.commit()
    return Response(status_code=204)


def _auditor(principal: CurrentPrincipal) -> None:
    if not principal.has("district_admin", "leader"):
        raise Forbidden("the audit log is for admins, district admins and leaders")


@router.get("/audit", tags=["audit"])
def audit_log(
    session: SessionDep,
    principal: CurrentPrincipal,
    entity: str | None = None,
    entity_id: str | None = None,
    actor: str | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page[AuditPublic]:
    """Who changed what, newest first, inside the caller's scope."""
    _auditor(principal)
    stmt = select(AuditEntry).where(principal.scope.where(place=AuditEntry.place_code))
    if entity:
        stmt = stmt.where(AuditEntry.entity == entity)
    if entity_id:
        stmt = stmt.where(AuditEntry.entity_id == entity_id)
    if actor:
        stmt = stmt.where(AuditEntry.actor == actor)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(AuditEntry.id.desc()).limit(limit).offset(offset))
    items = [AuditPublic.model_validate(r) for r in rows]
    return Page(items=items, total=total, limit=limit, offset=offset)


@router.get("/events", tags=["events"])
def recent_events(
    session: SessionDep,
    principal: CurrentPrincipal,
    type: Annotated[str | None, Query(description="exact type, or a prefix ending in '.'")] = None,
    after: Annotated[int | None, Query(ge=0, description="only events with seq above this")] = None,
    limit: Limit = 100,
) -> list[EventPublic]:
    """Recent domain events inside the caller's scope, for catching up after a reconnect."""
    _auditor(principal)
    stmt = select(OutboxEvent).where(principal.scope.where(place=OutboxEvent.place_code))
    if type:
        stmt = stmt.where(
            OutboxEvent.type.startswith(type) if type.endswith(".") else OutboxEvent.type == type
        )
    if after is not None:
        stmt = stmt.where(OutboxEvent.id > after)
        rows = list(session.scalars(stmt.order_by(OutboxEvent.id).limit(limit)))
    else:
        rows = list(
            reversed(list(session.scalars(stmt.order_by(OutboxEvent.id.desc()).limit(limit))))
        )
    return [
        EventPublic(
            id=r.event_id,
            seq=r.id,
            type=r.type,
            time=r.time,
            actor=r.actor,
            place_code=r.place_code,
            subject=r.subject,
            data=r.data,
        )
        for r in rows
    ]

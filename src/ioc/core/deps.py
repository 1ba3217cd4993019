"""FastAPI dependencies: the database session and the principal behind each request."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from ioc.core.auth import ANONYMOUS, Principal, from_api_key, from_bearer
from ioc.core.config import Settings
from ioc.core.db import Database
from ioc.core.problems import Unauthorized

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)
api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False)


# Dependencies that do no I/O are ``async def`` so FastAPI runs them on the event loop instead
# of hopping to a worker thread for each one (a hop costs more than a primary-key lookup).


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


async def get_session(request: Request) -> AsyncIterator[Session]:
    """A session per request; routes commit their writes, anything uncommitted is rolled back."""
    database: Database = request.app.state.database
    session = database.sessionmaker()  # no connection yet: that happens on first use
    session.info["request_id"] = getattr(request.state, "request_id", None)
    try:
        yield session
    finally:
        if session.in_transaction():
            await run_in_threadpool(session.close)  # rolls back over the network: off the loop
        else:
            session.close()


Limit = Annotated[int, Query(ge=1, le=1000, description="how many items at most")]
Offset = Annotated[int, Query(ge=0, description="how many items to skip")]
SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


async def get_principal(
    session: SessionDep,
    settings: SettingsDep,
    token: Annotated[str | None, Depends(oauth2)],
    api_key: Annotated[str | None, Depends(api_key_header)],
) -> Principal:
    """Whoever is asking: a user's token, an API key, or anonymous; sets the audit actor."""
    if token:
        principal = await run_in_threadpool(from_bearer, session, settings, token)
    elif api_key:
        principal = await run_in_threadpool(from_api_key, session, api_key)
    else:
        principal = ANONYMOUS
    session.info["actor"] = principal.actor
    return principal


async def get_authenticated(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
    if principal.kind == "anonymous":
        raise Unauthorized()
    return principal


MaybePrincipal = Annotated[Principal, Depends(get_principal)]
CurrentPrincipal = Annotated[Principal, Depends(get_authenticated)]


def require(*roles: str) -> Any:
    """A dependency that admits only principals holding one of ``roles`` (admin always)."""

    async def check(principal: CurrentPrincipal) -> Principal:
        principal.require(*roles)
        return principal

    return Depends(check)

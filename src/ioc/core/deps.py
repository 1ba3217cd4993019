"""FastAPI dependencies: the database session and the principal behind each request."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer
from sqlalchemy.orm import Session

from ioc.core.auth import ANONYMOUS, Principal, from_api_key, from_bearer
from ioc.core.config import Settings
from ioc.core.db import Database
from ioc.core.problems import Unauthorized

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)
api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False)


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


def get_session(request: Request) -> Iterator[Session]:
    """A session per request; routes commit their writes, anything uncommitted is rolled back."""
    database: Database = request.app.state.database
    with database.sessionmaker() as session:
        session.info["request_id"] = getattr(request.state, "request_id", None)
        try:
            yield session
        finally:
            session.rollback()


SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def get_principal(
    session: SessionDep,
    settings: SettingsDep,
    token: Annotated[str | None, Depends(oauth2)],
    api_key: Annotated[str | None, Depends(api_key_header)],
) -> Principal:
    """Whoever is asking: a user's token, an API key, or anonymous; sets the audit actor."""
    if token:
        principal = from_bearer(session, settings, token)
    elif api_key:
        principal = from_api_key(session, api_key)
    else:
        principal = ANONYMOUS
    session.info["actor"] = principal.actor
    return principal


def get_authenticated(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
    if principal.kind == "anonymous":
        raise Unauthorized()
    return principal


MaybePrincipal = Annotated[Principal, Depends(get_principal)]
CurrentPrincipal = Annotated[Principal, Depends(get_authenticated)]


def require(*roles: str) -> Any:
    """A dependency that admits only principals holding one of ``roles`` (admin always)."""

    def check(principal: CurrentPrincipal) -> Principal:
        principal.require(*roles)
        return principal

    return Depends(check)

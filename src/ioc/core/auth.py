"""Who is asking: the principal behind a token or API key, its roles and its scope."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Row, Select, bindparam, select
from sqlalchemy.orm import Session

from ioc.core.config import Settings
from ioc.core.db import utcnow
from ioc.core.models import ACTOR_LENGTH, ApiKey, User
from ioc.core.problems import Forbidden, Unauthorized
from ioc.core.scope import Scope
from ioc.core.security import api_key_matches, api_key_prefix, read_token, signing_key

HUMAN_ROLES = ("admin", "leader", "operator", "agency_staff", "district_admin", "citizen")
MACHINE_ROLES = ("device", "connector")
ROLE_HELP = {
    "admin": "everything, province-wide: users, keys, configuration",
    "leader": "reads everything inside their scope; the daily brief",
    "operator": "IOC staff: receives, routes and follows up work inside their scope",
    "agency_staff": "handles the work assigned to their agencies",
    "district_admin": "manages users and data of their district",
    "citizen": "sends feedback and follows their own requests",
    "device": "a sensor or controller sending measurements (API keys only)",
    "connector": "another system exchanging data in bulk (API keys only)",
}


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller; ``kind`` is user, apikey or anonymous."""

    kind: str
    id: int | None
    name: str
    roles: frozenset[str] = field(default_factory=frozenset)
    scope: Scope = field(default_factory=Scope)

    @property
    def actor(self) -> str:
        """How audit rows and events name this caller (an API key's long name is cut short)."""
        actor = f"{self.kind}:{self.name}" if self.kind != "anonymous" else "anonymous"
        return actor[:ACTOR_LENGTH]

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles

    def has(self, *roles: str) -> bool:
        """Holds any of ``roles``; admin holds them all."""
        return self.is_admin or not self.roles.isdisjoint(roles)

    def require(self, *roles: str) -> None:
        if self.kind == "anonymous":
            raise Unauthorized()
        if not self.has(*roles):
            raise Forbidden(f"this needs one of the roles: {', '.join(roles)}")


ANONYMOUS = Principal("anonymous", None, "anonymous")


def principal_for_user(session: Session, user: User) -> Principal:
    scope = Scope.build(session, user.place_code, user.agency_codes)
    return Principal("user", user.id, user.username, frozenset(user.roles), scope)


def principal_for_key(session: Session, key: ApiKey | Row[Any]) -> Principal:
    scope = Scope.build(session, key.place_code, key.agency_codes)
    return Principal("apikey", key.id, f"{key.id}:{key.name}", frozenset(key.roles), scope)


_k = ApiKey.__table__.c
# Built once: the columns a key's check needs, no ORM object (machine requests are hot paths).
_KEY_BY_PREFIX: Select[Any] = select(
    _k.id,
    _k.name,
    _k.key_hash,
    _k.roles,
    _k.place_code,
    _k.agency_codes,
    _k.expires_at,
    _k.revoked_at,
).where(_k.prefix == bindparam("prefix"))


def from_bearer(session: Session, settings: Settings, token: str) -> Principal:
    """Resolve an access token (or an API key sent as a bearer token)."""
    if api_key_prefix(token):
        return from_api_key(session, token)
    claims = read_token(signing_key(session, settings), token)
    if claims is None:
        raise Unauthorized("the access token is invalid or has expired; log in again")
    user = session.get(User, claims["uid"])
    if user is None or not user.active or user.token_version != claims.get("ver"):
        raise Unauthorized("the access token is no longer valid; log in again")
    return principal_for_user(session, user)


def from_api_key(session: Session, secret: str) -> Principal:
    prefix = api_key_prefix(secret)
    key = session.execute(_KEY_BY_PREFIX, {"prefix": prefix}).first() if prefix else None
    if key is None or not api_key_matches(secret, key.key_hash):
        raise Unauthorized("unknown API key")
    now = utcnow()
    if key.revoked_at is not None:
        raise Unauthorized("this API key has been revoked")
    if key.expires_at is not None and key.expires_at <= now:
        raise Unauthorized("this API key has expired")
    return principal_for_key(session, key)

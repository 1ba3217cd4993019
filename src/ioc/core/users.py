"""Users and API keys: creation, changes, login; who may grant what to whom."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ioc.core.auth import HUMAN_ROLES, MACHINE_ROLES, Principal
from ioc.core.db import utcnow
from ioc.core.events import emit
from ioc.core.models import Agency, ApiKey, Place, User, UserAgency
from ioc.core.problems import Conflict, Forbidden, Invalid, NotFound
from ioc.core.scope import Scope
from ioc.core.security import hash_password, new_api_key, verify_password
from ioc.core.text import fold

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
MIN_PASSWORD = 8
# What a district admin may hand out: never admin, never beyond their own scope.
DISTRICT_GRANTABLE = frozenset({"leader", "operator", "agency_staff", "district_admin", "citizen"})


@dataclass(frozen=True, slots=True)
class UserFields:
    """The editable parts of a user; None leaves a field as it is (on update)."""

    full_name: str | None = None
    email: str | None = None
    phone: str | None = None
    roles: list[str] | None = None
    place_code: str | None = None
    agency_codes: list[str] | None = None
    active: bool | None = None
    password: str | None = None


def _check_roles(roles: list[str], allowed: tuple[str, ...], field: str = "roles") -> list[str]:
    if not roles:
        raise Invalid(field, "give at least one role")
    unknown = [r for r in roles if r not in allowed]
    if unknown:
        raise Invalid(field, f"unknown role {unknown[0]!r}; choose from {', '.join(allowed)}")
    return sorted(set(roles))


def _check_place(session: Session, code: str | None, field: str = "place_code") -> None:
    if code is not None and session.get(Place, code) is None:
        raise Invalid(field, f"unknown place code {code!r}")


def _check_agencies(session: Session, codes: list[str], field: str = "agency_codes") -> list[str]:
    codes = sorted(set(codes))
    found = set(session.scalars(select(Agency.code).where(Agency.code.in_(codes))))
    missing = [c for c in codes if c not in found]
    if missing:
        raise Invalid(field, f"unknown agency code {missing[0]!r}")
    return codes


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise Invalid("password", f"must be at least {MIN_PASSWORD} characters")


def _check_grant(
    session: Session, by: Principal | None, roles: list[str], place: str | None, agencies: list[str]
) -> None:
    """Refuse to hand out more than the granting principal holds."""
    if by is None or by.is_admin:
        return
    if "district_admin" not in by.roles:
        raise Forbidden("only an admin or a district admin manages users")
    extra = set(roles) - DISTRICT_GRANTABLE
    if extra:
        raise Forbidden(f"a district admin cannot grant the role {sorted(extra)[0]!r}")
    wanted = Scope.build(session, place, agencies)
    if not by.scope.covers(session, wanted):
        raise Forbidden("the user's place and agencies must lie inside your own scope")


def create_user(
    session: Session, username: str, password: str, fields: UserFields, by: Principal | None = None
) -> User:
    """Add a user; ``by`` None means the operator's own CLI (full rights)."""
    username = username.strip().lower()
    if not USERNAME_RE.match(username):
        raise Invalid("username", "3-64 characters: lower-case letters, digits, '.', '_' or '-'")
    _check_password(password)
    roles = _check_roles(fields.roles or [], HUMAN_ROLES)
    _check_place(session, fields.place_code)
    agencies = _check_agencies(session, fields.agency_codes or [])
    _check_grant(session, by, roles, fields.place_code, agencies)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"the username {username!r} is taken")
    user = User(
        username=username,
        password_hash=hash_password(password),
        full_name=fields.full_name or "",
        email=fields.email,
        phone=fields.phone,
        roles=roles,
        place_code=fields.place_code,
        active=True if fields.active is None else fields.active,
        agency_links=[UserAgency(agency_code=c) for c in agencies],
    )
    session.add(user)
    session.flush()
    emit(
        session,
        "user.created",
        {"username": username, "roles": roles},
        subject=username,
        place_code=user.place_code,
    )
    return user


def visible_users(by: Principal) -> Scope:
    if not by.has("district_admin"):
        raise Forbidden("only an admin or a district admin manages users")
    return by.scope


def get_user(session: Session, username: str, by: Principal) -> User:
    """A user inside ``by``'s scope; outside it the user does not exist for them."""
    scope = visible_users(by)
    user = session.scalar(
        select(User).where(User.username == username.lower(), scope.where(place=User.place_code))
    )
    if user is None:
        raise NotFound(f"no user {username!r}")
    return user


def list_users(
    session: Session, by: Principal, q: str | None, role: str | None, limit: int, offset: int
) -> tuple[list[User], int]:
    stmt = select(User).where(visible_users(by).where(place=User.place_code))
    users = list(session.scalars(stmt.order_by(User.username)))
    # Roles live in a JSON list and names carry diacritics: filter here, the same on both backends.
    if q:
        users = [u for u in users if fold(q) in fold(f"{u.username} {u.full_name}")]
    if role:
        users = [u for u in users if role in u.roles]
    return users[offset : offset + limit], len(users)


def update_user(session: Session, user: User, fields: UserFields, by: Principal | None) -> User:
    roles = _check_roles(fields.roles, HUMAN_ROLES) if fields.roles is not None else user.roles
    place = fields.place_code if fields.place_code is not None else user.place_code
    _check_place(session, place)
    agencies = (
        _check_agencies(session, fields.agency_codes)
        if fields.agency_codes is not None
        else user.agency_codes
    )
    _check_grant(session, by, roles, place, agencies)
    if by is not None and by.kind == "user" and by.id == user.id and fields.active is False:
        raise Invalid("active", "you cannot deactivate yourself")
    for name in ("full_name", "email", "phone"):
        value = getattr(fields, name)
        if value is not None:
            setattr(user, name, value)
    user.roles, user.place_code = roles, place
    if fields.agency_codes is not None:
        user.agency_links = [UserAgency(agency_code=c) for c in agencies]
    if fields.password is not None:
        _check_password(fields.password)
        user.password_hash = hash_password(fields.password)
        user.token_version += 1
    if fields.active is not None and fields.active != user.active:
        user.active = fields.active
        user.token_version += 1  # a deactivated user's tokens stop working at once
    session.flush()
    emit(
        session,
        "user.updated",
        {"username": user.username},
        subject=user.username,
        place_code=user.place_code,
    )
    return user


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with this password, or None (same cost whether the name exists or not)."""
    user = session.scalar(select(User).where(User.username == username.strip().lower()))
    if not verify_password(password, user.password_hash if user else None):
        return None
    if user is None or not user.active:
        return None
    user.last_login_at = utcnow()
    return user


def create_api_key(
    session: Session,
    name: str,
    roles: list[str],
    *,
    place_code: str | None = None,
    agency_codes: list[str] | None = None,
    expires_at: dt.datetime | None = None,
    by: Principal | None = None,
) -> tuple[ApiKey, str]:
    """A new key and its secret; the secret is returned once and never stored."""
    if not name.strip():
        raise Invalid("name", "give the key a name that says what uses it")
    roles = _check_roles(roles, HUMAN_ROLES + MACHINE_ROLES)
    _check_place(session, place_code)
    agencies = _check_agencies(session, agency_codes or [])
    _check_grant(session, by, [r for r in roles if r not in MACHINE_ROLES], place_code, agencies)
    if expires_at is not None and expires_at <= utcnow():
        raise Invalid("expires_at", "must be in the future")
    secret, prefix, digest = new_api_key()
    key = ApiKey(
        name=name.strip(),
        prefix=prefix,
        key_hash=digest,
        roles=roles,
        place_code=place_code,
        agency_codes=agencies,
        owner_id=by.id if by is not None and by.kind == "user" else None,
        expires_at=expires_at,
    )
    session.add(key)
    session.flush()
    emit(
        session,
        "apikey.created",
        {"id": key.id, "name": key.name, "roles": roles},
        subject=str(key.id),
        place_code=place_code,
    )
    return key, secret


def list_api_keys(session: Session, by: Principal) -> list[ApiKey]:
    stmt = select(ApiKey).where(visible_users(by).where(place=ApiKey.place_code))
    return list(session.scalars(stmt.order_by(ApiKey.id)))


def revoke_api_key(session: Session, key_id: int, by: Principal) -> ApiKey:
    key = session.scalar(
        select(ApiKey).where(ApiKey.id == key_id, visible_users(by).where(place=ApiKey.place_code))
    )
    if key is None:
        raise NotFound(f"no API key {key_id}")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        session.flush()
        emit(
            session,
            "apikey.revoked",
            {"id": key.id, "name": key.name},
            subject=str(key.id),
            place_code=key.place_code,
        )
    return key

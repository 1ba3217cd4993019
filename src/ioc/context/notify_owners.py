"""Whose subscriptions may still notify: the owner's key or account must still allow it.

A subscription acts for the caller who made it. When that API key is revoked or expires,
or that user is deactivated, loses the roles to subscribe or is given a place scope, its
subscriptions stop notifying (they stay stored, and notify again if the owner is restored).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, select

from ioc.context.subscriptions_api import MANAGERS
from ioc.core.models import ApiKey, User


def _may(roles: list[str] | None, place_code: str | None) -> bool:
    held = set(roles or ())
    return place_code is None and ("admin" in held or not held.isdisjoint(MANAGERS))


def _key_id(owner: str) -> int | None:
    _, _, rest = owner.partition(":")
    number = rest.partition(":")[0]
    return int(number) if number.isdigit() else None


def allowed_owners(conn: Connection, owners: set[str], now: dt.datetime) -> set[str]:
    """The owners (actor names, ``apikey:ID:name`` or ``user:NAME``) still entitled."""
    keys = {o: _key_id(o) for o in owners if o.startswith("apikey:")}
    users = {o: o.partition(":")[2] for o in owners if o.startswith("user:")}
    ok: set[str] = set()
    ids = {i for i in keys.values() if i is not None}
    if ids:
        rows = conn.execute(
            select(
                ApiKey.id, ApiKey.roles, ApiKey.place_code, ApiKey.revoked_at, ApiKey.expires_at
            ).where(ApiKey.id.in_(ids))
        )
        good = {
            r.id
            for r in rows
            if r.revoked_at is None
            and (r.expires_at is None or r.expires_at > now)
            and _may(r.roles, r.place_code)
        }
        ok |= {o for o, i in keys.items() if i in good}
    if users:
        rows = conn.execute(
            select(User.username, User.roles, User.place_code, User.active).where(
                User.username.in_(set(users.values()))
            )
        )
        good_names = {r.username for r in rows if r.active and _may(r.roles, r.place_code)}
        ok |= {o for o, name in users.items() if name in good_names}
    return ok

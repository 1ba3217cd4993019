"""Password hashing (argon2), signed access tokens (JWT) and API-key secrets."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from typing import Any

import jwt
from pwdlib import PasswordHash
from sqlalchemy import select
from sqlalchemy.orm import Session

from ioc.core.config import Settings
from ioc.core.db import utcnow
from ioc.core.models import Meta

API_KEY_PREFIX = "ioc_"
TOKEN_ISSUER = "ioc"
_hasher = PasswordHash.recommended()
# Verified when the username is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    if password_hash is None:
        _hasher.verify(password, _DUMMY_HASH)
        return False
    return _hasher.verify(password, password_hash)


def signing_key(session: Session, settings: Settings) -> str:
    """IOC_SECRET_KEY, or in development a random key kept in the database across restarts."""
    if settings.secret_key:
        return settings.secret_key
    stored = session.scalar(select(Meta.value).where(Meta.key == "dev_secret_key"))
    if stored:
        return stored
    key = secrets.token_urlsafe(48)
    session.add(Meta(key="dev_secret_key", value=key))
    session.flush()
    return key


def issue_token(
    key: str, *, user_id: int, username: str, version: int, minutes: int
) -> tuple[str, int]:
    """A signed bearer token and its lifetime in seconds."""
    now = utcnow()
    claims = {
        "iss": TOKEN_ISSUER,
        "sub": username,
        "uid": user_id,
        "ver": version,
        "iat": now,
        "exp": now + dt.timedelta(minutes=minutes),
    }
    return jwt.encode(claims, key, algorithm="HS256"), minutes * 60


def read_token(key: str, token: str) -> dict[str, Any] | None:
    """The token's claims, or None when it is forged, expired or not ours."""
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=["HS256"],
            issuer=TOKEN_ISSUER,
            options={"require": ["exp", "uid"]},
        )
    except jwt.PyJWTError:
        return None
    return claims


def new_api_key() -> tuple[str, str, str]:
    """(the secret shown once, its lookup prefix, its SHA-256 kept in the database)."""
    prefix = secrets.token_hex(4)
    secret = f"{API_KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    return secret, prefix, hash_api_key(secret)


def hash_api_key(secret: str) -> str:
    # Keys carry 256 random bits, so a fast hash is enough and keeps machine requests cheap.
    return hashlib.sha256(secret.encode()).hexdigest()


def api_key_prefix(secret: str) -> str | None:
    if not secret.startswith(API_KEY_PREFIX):
        return None
    prefix, _, rest = secret.removeprefix(API_KEY_PREFIX).partition("_")
    return prefix if len(prefix) == 8 and rest else None


def api_key_matches(secret: str, key_hash: str) -> bool:
    return hmac.compare_digest(hash_api_key(secret), key_hash)

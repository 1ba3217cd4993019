"""Who may use the NGSI-LD API: a token or API key with a role, or anonymous where configured.

Writers: admin, operator, device, connector. Readers: those, leader and agency_staff.
``IOC_NGSILD_ANONYMOUS`` opens tenants without credentials (``default:read,city:write``),
for provinces that put the broker behind their own gateway. A verified credential is reused
for ``IOC_NGSILD_CREDENTIAL_SECONDS`` so devices do not pay a database lookup per message.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

from ioc.core.auth import ANONYMOUS, Principal, from_api_key, from_bearer
from ioc.core.config import Settings
from ioc.core.db import Database
from ioc.core.problems import Forbidden, Unauthorized

WRITERS = ("admin", "operator", "device", "connector")
READERS = (*WRITERS, "leader", "agency_staff")
CACHE_LIMIT = 10_000


@dataclass(frozen=True, slots=True)
class Credential:
    """What the request carried: a bearer token (or key as one), or an X-API-Key."""

    kind: str  # bearer | apikey
    secret: str

    @property
    def key(self) -> str:
        return hashlib.sha256(f"{self.kind}:{self.secret}".encode()).hexdigest()


class Gate:
    """Resolves credentials (cached briefly) and decides read/write access per tenant."""

    def __init__(self, database: Database, settings: Settings) -> None:
        self.database = database
        self.settings = settings
        self.anonymous = settings.ngsild_anonymous_tenants
        self.ttl = settings.ngsild_credential_seconds
        self._cache: dict[str, tuple[Principal, float]] = {}

    def cached(self, credential: Credential | None) -> Principal | None:
        """The principal if it needs no I/O to know (anonymous, or a fresh cache entry)."""
        if credential is None:
            return ANONYMOUS
        entry = self._cache.get(credential.key)
        if entry is not None and entry[1] > time.monotonic():
            return entry[0]
        return None

    def principal(self, credential: Credential | None) -> Principal:
        """Who is asking; Unauthorized for an unknown, expired or revoked credential."""
        found = self.cached(credential)
        if found is not None:
            return found
        assert credential is not None
        with self.database.sessionmaker() as session:
            if credential.kind == "apikey":
                principal = from_api_key(session, credential.secret)
            else:
                principal = from_bearer(session, self.settings, credential.secret)
            session.commit()  # a development signing key created on the way is kept
        if self.ttl > 0:
            if len(self._cache) >= CACHE_LIMIT:
                self._cache.clear()
            self._cache[credential.key] = (principal, time.monotonic() + self.ttl)
        return principal

    def check(self, principal: Principal, tenant: str, write: bool) -> None:
        """Refuse what this principal may not do on ``tenant``."""
        if principal.kind == "anonymous":
            mode = self.anonymous.get(tenant)
            if mode is None or (write and mode != "write"):
                raise Unauthorized("send a bearer token or an X-API-Key for this NGSI-LD tenant")
            return
        if not principal.has(*(WRITERS if write else READERS)):
            verb = "change" if write else "read"
            allowed = ", ".join(WRITERS if write else READERS)
            raise Forbidden(f"to {verb} NGSI-LD entities you need one of the roles: {allowed}")

"""Reference data copied into each process's memory, and the versions that say when to reload.

Places, agencies and the feedback catalogue change rarely and are read on every report. A
model that declares ``__refdata__ = "<key>"`` has a version in ``ioc_meta`` under that key;
every ORM change to its rows stamps a new version in the same transaction (the flush hook
below; bulk Core writes call :func:`bump`). A reader asks for the versions it needs in one
query and rebuilds its copy only when the version differs from the one the copy was built at.
"""

from __future__ import annotations

import uuid
import weakref
from collections.abc import Callable, Mapping
from typing import Generic, TypeVar

from sqlalchemy import Engine, bindparam, event, select
from sqlalchemy.orm import Session, UOWTransaction

from ioc.core.models import Meta

T = TypeVar("T")
Versions = Mapping[str, str | None]

_meta = Meta.__table__.c
_VERSIONS = select(_meta.key, _meta.value).where(_meta.key.in_(bindparam("keys", expanding=True)))


def versions(session: Session, *keys: str) -> dict[str, str | None]:
    """The stored versions of ``keys`` (None for one never stamped), in one query."""
    found = {key: value for key, value in session.execute(_VERSIONS, {"keys": list(keys)})}
    return {key: found.get(key) for key in keys}


def bump(session: Session, key: str) -> str:
    """Stamp a new version of ``key`` in the session's transaction; copies rebuild after it."""
    version = uuid.uuid4().hex
    meta = session.get(Meta, key)
    if meta is None:
        session.add(Meta(key=key, value=version))
    else:
        meta.value = version
    return version


@event.listens_for(Session, "before_flush")
def _stamp_changes(session: Session, flush: UOWTransaction, instances: object) -> None:
    """An ORM change to a reference-data row stamps its kind's new version."""
    keys: set[str] = set()
    for group in (session.new, session.dirty, session.deleted):
        for obj in group:
            key = getattr(type(obj), "__refdata__", None)
            if key is not None:
                keys.add(key)
    for key in sorted(keys):  # a fixed order: two writers never lock the rows crosswise
        bump(session, key)


class Cache(Generic[T]):
    """One copy of some reference data per database (engine), rebuilt when its version moves."""

    def __init__(self, key: str, build: Callable[[Session], T]) -> None:
        self.key = key
        self.build = build
        self._copies: weakref.WeakKeyDictionary[Engine, tuple[str | None, T]] = (
            weakref.WeakKeyDictionary()
        )

    def get(self, session: Session, known: Versions | None = None) -> T:
        """The copy for the session's database; ``known`` versions spare a query."""
        if known is None or self.key not in known:
            known = versions(session, self.key)
        version = known[self.key]
        engine = session.get_bind().engine
        copy = self._copies.get(engine)
        if copy is None or copy[0] != version:
            copy = self._copies[engine] = (version, self.build(session))
        return copy[1]

"""What an entity write did (``Change``) and how it is kept: an ``entity.*`` event in the
outbox and the attribute history, in the transaction of the write that made it.

One change at a time goes through the session (``publish``); a batch's go in two bulk writes
beside the entity statements that made them (``publish_many``).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import UpdateBase

from ioc.context.bulk import copy_writer
from ioc.context.entities import Attributes
from ioc.context.render import timestamp
from ioc.context.store import Appended, Store
from ioc.context.temporal_store import COLUMNS as HISTORY_COLUMNS
from ioc.context.temporal_store import HISTORY
from ioc.context.temporal_store import record as record_history
from ioc.context.temporal_store import values_of as history_values
from ioc.core.events import emit
from ioc.core.models import OutboxEvent

EVENTS = cast(Table, OutboxEvent.__table__)
EVENT_COLUMNS = ("event_id", "type", "time", "actor", "place_code", "subject", "data")


@dataclass(frozen=True, slots=True)
class Change:
    """What one write did to one entity: the seam for the temporal store and subscriptions."""

    kind: str  # created | updated | deleted
    tenant: str
    id: str
    type: str
    attributes: tuple[str, ...]  # expanded names written or removed
    at: dt.datetime
    place_code: str | None = None
    attrs: Attributes | None = None  # the entity's attributes after the change

    def event_data(self) -> dict[str, Any]:
        return {
            "tenant": self.tenant,
            "id": self.id,
            "type": self.type,
            "attributes": list(self.attributes),
        }


class ChangedMeanwhile(RuntimeError):
    """An entity a batched write names changed after it was read (its version guard held)."""


def event_ids(count: int) -> list[str]:
    """``count`` random (version 4) UUIDs as hex, as ``uuid.uuid4().hex`` makes them, from
    one read of the system's random source."""
    pool = os.urandom(16 * count)
    ids = []
    for at in range(0, 16 * count, 16):
        raw = bytearray(pool[at : at + 16])
        raw[6] = (raw[6] & 0x0F) | 0x40
        raw[8] = (raw[8] & 0x3F) | 0x80
        ids.append(raw.hex())
    return ids


def publish(session: Session, change: Change) -> Change:
    """The change's history rows and event, kept on the session for its commit."""
    record_history(session, change)
    emit(
        session,
        f"entity.{change.kind}",
        change.event_data(),
        subject=change.id[:200],
        place_code=change.place_code,
    )
    return change


def _stamp(stamps: dict[dt.datetime, str], at: dt.datetime) -> str:
    """``timestamp(at)``, made once for all the changes of a batch (they share their time)."""
    found = stamps.get(at)
    if found is None:
        found = stamps[at] = timestamp(at)
    return found


class HistoryCopy:
    """The history rows of a batch's changes sent as each change is made (PostgreSQL): one
    ``COPY`` open while the batch applies its items, so the server stores the rows of one
    entity while Python works out the next. Nothing else may use the connection meanwhile."""

    def __init__(self, write: Callable[[Sequence[Any]], None]) -> None:
        self._write = write
        self._stamps: dict[dt.datetime, str] = {}

    def add(self, change: Change) -> None:
        for values in history_values(change, _stamp(self._stamps, change.at)):
            self._write(values)


@contextmanager
def history_copy(session: Session) -> Iterator[HistoryCopy]:
    """A ``HistoryCopy`` on the session's connection, the COPY ended when the block ends."""
    with copy_writer(session.connection(), HISTORY, HISTORY_COLUMNS) as write:
        yield HistoryCopy(write)


def publish_many(
    store: Store,
    session: Session,
    changes: list[Change],
    actors: list[str] | None = None,
    writes: Sequence[tuple[UpdateBase, list[dict[str, Any]]]] = (),
    *,
    history_sent: bool = False,
) -> None:
    """``publish`` for each change (by the session's actor, or each by its own), the events
    in one INSERT and the history rows in another (keep the two alike) unless a
    ``HistoryCopy`` sent them already. The entity ``writes`` that made them go first, all in
    one round trip on PostgreSQL; each row of theirs must match one (else ChangedMeanwhile:
    the group runs job by job)."""
    if not changes:
        return
    session.flush()  # events emitted earlier through the ORM keep their place in line
    default_actor = str(session.info.get("actor", "system"))

    def appends() -> list[Appended]:
        """The events and history rows (built while the server runs the writes)."""
        actor = default_actor
        events: list[tuple[Any, ...]] = []
        history: list[tuple[Any, ...]] = []
        ids = event_ids(len(changes))
        stamps: dict[dt.datetime, str] = {}  # a batch's changes share their time
        for index, change in enumerate(changes):
            if actors is not None:
                actor = actors[index]
            if not history_sent:
                history.extend(history_values(change, _stamp(stamps, change.at)))
            events.append(
                (
                    ids[index],
                    f"entity.{change.kind}",
                    change.at,
                    actor,
                    change.place_code,
                    change.id[:200],
                    change.event_data(),
                )
            )
        return [(EVENTS, EVENT_COLUMNS, events), (HISTORY, HISTORY_COLUMNS, history)]

    conn = session.connection()
    counts = store.write_together(conn, list(writes), appends)
    for (_, wanted), count in zip(writes, counts, strict=True):
        if conn.dialect.supports_sane_multi_rowcount and count != len(wanted):
            raise ChangedMeanwhile("entities changed under a batched write; run them one by one")
    session.info["emitted"] = session.info.get("emitted", 0) + len(changes)

"""Domain events: what they look like, and how a write announces one (the outbox)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import Row, insert
from sqlalchemy.orm import Session

from ioc.core.db import Base, utcnow
from ioc.core.models import OutboxEvent

SUBJECT_PREFIX = "ioc"


@dataclass(slots=True)
class Event:
    """A fact that happened, e.g. ``feedback.created``; ``type`` is dot-separated.

    Treat one as read-only. It is not a frozen dataclass because a frozen one costs twice as
    much to build, and the relay builds one per outbox row (thousands a second); each bus
    subscriber gets its own copy (``InProcessBus``) or its own decoded message (NATS)."""

    type: str
    data: dict[str, Any] = field(default_factory=dict)
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    time: dt.datetime = field(default_factory=utcnow)
    actor: str = "system"
    place_code: str | None = None
    subject: str | None = None
    seq: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type,
            "time": self.time.isoformat(),
            "actor": self.actor,
            "place_code": self.place_code,
            "subject": self.subject,
            "seq": self.seq,
            "data": self.data,
        }

    def to_json(self) -> bytes:
        return orjson.dumps(self.to_dict())

    def copy(self, data: dict[str, Any]) -> Event:
        """The same event with ``data`` in place of its own (a subscriber's private copy)."""
        return Event(
            self.type, data, self.id, self.time, self.actor, self.place_code, self.subject, self.seq
        )

    @classmethod
    def from_json(cls, raw: bytes | str) -> Event:
        doc = orjson.loads(raw)
        return cls(
            type=doc["type"],
            data=doc.get("data") or {},
            id=doc["id"],
            time=dt.datetime.fromisoformat(doc["time"]),
            actor=doc.get("actor", "system"),
            place_code=doc.get("place_code"),
            subject=doc.get("subject"),
            seq=doc.get("seq"),
        )

    @classmethod
    def from_row(cls, row: OutboxEvent | Row[Any] | Sequence[Any]) -> Event:
        """The event an outbox row holds: an ORM object, or a row of ``ROW_COLUMNS``."""
        if isinstance(row, OutboxEvent):
            row = [getattr(row, name) for name in ROW_COLUMNS]
        seq, event_id, type_, time, actor, place_code, subject, data = tuple(row)  # C speed
        return cls(type_, data, event_id, time, actor, place_code, subject, seq)


# The columns of the rows ``Event.from_row`` takes, in their order
ROW_COLUMNS = ("id", "event_id", "type", "time", "actor", "place_code", "subject", "data")


def emit(
    session: Session,
    type: str,
    data: dict[str, Any],
    *,
    subject: str | None = None,
    place_code: str | None = None,
) -> OutboxEvent:
    """Record an event in the same transaction as the write; the relay publishes it after commit."""
    row = OutboxEvent(
        event_id=uuid.uuid4().hex,
        type=type,
        time=utcnow(),
        actor=str(session.info.get("actor", "system")),
        place_code=place_code,
        subject=subject,
        data=orjson.loads(orjson.dumps(data, default=str)),
    )
    session.add(row)
    session.info.setdefault("emitted", 0)
    session.info["emitted"] += 1
    return row


# Built once, on the table rather than the class: a plain INSERT, not an ORM bulk insert.
_INSERT_EVENT = insert(Base.metadata.tables[OutboxEvent.__tablename__])


def emit_now(
    session: Session,
    type: str,
    data: dict[str, Any],
    *,
    subject: str | None = None,
    place_code: str | None = None,
) -> None:
    """As :func:`emit`, but written at once with one INSERT, with no ORM object to track."""
    session.execute(
        _INSERT_EVENT,
        {
            "event_id": uuid.uuid4().hex,
            "type": type,
            "time": utcnow(),
            "actor": str(session.info.get("actor", "system")),
            "place_code": place_code,
            "subject": subject,
            "data": orjson.loads(orjson.dumps(data, default=str)),
        },
    )
    session.info.setdefault("emitted", 0)
    session.info["emitted"] += 1

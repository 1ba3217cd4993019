"""Domain events: what they look like, and how a write announces one (the outbox)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import Row, insert
from sqlalchemy.orm import Session

from ioc.core.db import Base, utcnow
from ioc.core.models import OutboxEvent

SUBJECT_PREFIX = "ioc"


@dataclass(frozen=True, slots=True)
class Event:
    """A fact that happened, e.g. ``feedback.created``; ``type`` is dot-separated."""

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
    def from_row(cls, row: OutboxEvent | Row[Any]) -> Event:
        """The event an outbox row holds (an ORM object or a row of the same columns)."""
        return cls(
            type=row.type,
            data=row.data,
            id=row.event_id,
            time=row.time,
            actor=row.actor,
            place_code=row.place_code,
            subject=row.subject,
            seq=row.id,
        )


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

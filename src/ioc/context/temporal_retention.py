"""How long attribute history is kept: ``IOC_NGSILD_RETENTION``, pruned hourly and by CLI.

``default=365d,Streetlight=90d``: history older than its type's period (by observedAt) is
deleted, every type not named falls under ``default``, ``forever`` exempts a type, and with
no ``default`` unnamed types are kept forever. Type names are compacted with the core
@context (``Streetlight`` is ``https://uri.etsi.org/ngsi-ld/default-context/Streetlight``);
full URIs work too. Deletes go in chunks, each its own short transaction.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from dataclasses import dataclass, field

from fastapi import FastAPI
from sqlalchemy import ColumnElement, delete, select

from ioc.context.errors import BadRequestData
from ioc.context.jsonld import CORE_TERMS
from ioc.context.temporal_store import HISTORY, H
from ioc.core.db import Database, utcnow

log = logging.getLogger(__name__)

DEFAULT = "default"
CHUNK = 5_000  # rows per DELETE: long enough to be quick, short enough not to block writers
PRUNE_EVERY = 3600.0  # seconds between rounds of the background task
FIRST_PRUNE = 60.0  # seconds after start-up: the server settles first
UNITS = {"h": dt.timedelta(hours=1), "d": dt.timedelta(days=1), "w": dt.timedelta(weeks=1)}


@dataclass(frozen=True, slots=True)
class Retention:
    """Periods by expanded type name (None: forever) and for every other type."""

    default: dt.timedelta | None = None
    by_type: dict[str, dt.timedelta | None] = field(default_factory=dict)

    @property
    def keeps_everything(self) -> bool:
        return self.default is None and all(v is None for v in self.by_type.values())


def _period(text: str, name: str) -> dt.timedelta | None:
    text = text.strip()
    if text == "forever":
        return None
    unit = UNITS.get(text[-1:])
    if unit is None or not text[:-1].isdigit() or int(text[:-1]) < 1:
        raise BadRequestData(
            f"IOC_NGSILD_RETENTION: {name}={text!r}; give a period like 90d, 12h, 2w or forever"
        )
    return unit * int(text[:-1])


def parse_retention(setting: str) -> Retention:
    """``default=365d,Streetlight=90d`` → a ``Retention``; BadRequestData when malformed."""
    default: dt.timedelta | None = None
    by_type: dict[str, dt.timedelta | None] = {}
    for item in setting.split(","):
        if not item.strip():
            continue
        name, sep, period = (p.strip() for p in item.partition("="))
        if not sep or not name:
            raise BadRequestData(f"IOC_NGSILD_RETENTION: {item.strip()!r} is not TYPE=PERIOD")
        if name == DEFAULT:
            default = _period(period, name)
        else:
            by_type[CORE_TERMS.expand(name)] = _period(period, name)
    return Retention(default, by_type)


def _delete_chunks(database: Database, condition: ColumnElement[bool]) -> int:
    deleted = 0
    while True:
        chunk = select(H.id).where(condition).limit(CHUNK).scalar_subquery()
        with database.engine.begin() as conn:
            count = int(conn.execute(delete(HISTORY).where(H.id.in_(chunk))).rowcount)
        deleted += count
        if count < CHUNK:
            return deleted


def prune(
    database: Database, retention: Retention, now: dt.datetime | None = None
) -> dict[str, int]:
    """Delete history past its retention; rows deleted by type (``default`` for the rest)."""
    now = now or utcnow()
    done: dict[str, int] = {}
    for kind, period in retention.by_type.items():
        if period is not None:
            condition = (H.entity_type == kind) & (H.observed_at < now - period)
            done[CORE_TERMS.compact(kind)] = _delete_chunks(database, condition)
    if retention.default is not None:
        others = H.observed_at < now - retention.default
        if retention.by_type:
            others = others & H.entity_type.not_in(list(retention.by_type))
        done[DEFAULT] = _delete_chunks(database, others)
    return done


async def retention_loop(app: FastAPI) -> None:
    """Every hour, prune history by ``IOC_NGSILD_RETENTION`` (nothing to do when it is empty)."""
    try:
        retention = parse_retention(app.state.settings.ngsild_retention)
    except BadRequestData as exc:
        log.error("history is not pruned: %s", exc.detail)
        return
    if retention.keeps_everything:
        return
    database: Database = app.state.database
    delay = FIRST_PRUNE
    while True:
        await asyncio.sleep(delay)
        delay = PRUNE_EVERY
        try:
            done = await asyncio.to_thread(prune, database, retention)
        except Exception:  # a failed round is logged; the next one tries again
            log.exception("pruning NGSI-LD history failed")
            continue
        if any(done.values()):
            log.info("pruned NGSI-LD history: %s", done)

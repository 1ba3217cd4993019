"""The demo step of public services: the catalogue and a year of dossiers at the seeds' volume.

Hòa Bình received ~258,000 dossiers a year and resolved ~97 % of them on time; the year is
simulated in Python (working-day due dates, supplement pauses, late and rejected cases) and
written with the importer's bulk writer, so a full year loads in seconds, not minutes.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from ioc.core.audit import record
from ioc.core.db import Base, utcnow
from ioc.core.models import Agency, Place
from ioc.core.workdays import VIETNAM_TZ, WorkCalendar, default_calendar
from ioc.demo.builder import DemoContext
from ioc.services import daily
from ioc.services.bulk import dossier_row, emit_tallies, insert_rows
from ioc.services.catalogue import seed_catalogue
from ioc.services.models import Dossier, DossierStep, ServiceProcedure
from ioc.services.service import handling_agency

SEED = 2025
PER_YEAR = 258_000
ON_TIME = 0.97
CHUNK = 20_000
STEP_DAYS = 30  # the recent dossiers get their step history written too
# How many dossiers each sector draws, relative to the others (civil status and land lead).
SECTOR_WEIGHT = {
    "HO_TICH": 24,
    "TU_PHAP": 20,
    "DAT_DAI": 22,
    "LAO_DONG": 8,
    "GTVT": 7,
    "DKKD": 5,
    "XAY_DUNG": 4,
    "Y_TE": 3,
    "GIAO_DUC": 3,
    "TNMT": 1.5,
    "DAU_TU": 0.5,
    "TTTT": 0.5,
    "VHTTDL": 1,
    "NONG_NGHIEP": 1.5,
}


@dataclass(frozen=True, slots=True)
class Proc:
    code: str
    tier: str
    agency: str
    days: int
    full_online: bool
    postal: bool


class Year:
    """Makes the dossiers received over ``days`` days before ``now``."""

    def __init__(
        self,
        session: Session,
        *,
        now: dt.datetime,
        days: int = 365,
        per_year: int = PER_YEAR,
        rng: random.Random | None = None,
        calendar: WorkCalendar | None = None,
    ) -> None:
        self.now, self.rng = now, rng or random.Random(SEED)
        self.calendar = calendar or default_calendar()
        procs = list(session.scalars(select(ServiceProcedure).where(ServiceProcedure.active)))
        sizes: dict[str, int] = {}
        for p in procs:
            sizes[p.sector] = sizes.get(p.sector, 0) + 1
        self.procs = [
            Proc(
                p.code,
                p.tier,
                p.agency_code,
                p.processing_days,
                p.online_level == "full_online",
                p.postal_return,
            )
            for p in procs
        ]
        weights = [SECTOR_WEIGHT.get(p.sector, 1) / sizes[p.sector] for p in procs]
        self.cum = list(itertools.accumulate(weights))
        self.communes = list(
            session.execute(
                select(Place.code, Place.parent_code)
                .where(Place.level == "commune")
                .order_by(Place.code)
            )
        )
        self.agencies = frozenset(session.scalars(select(Agency.code)))
        today = now.astimezone(VIETNAM_TZ).date()
        self.days = [today - dt.timedelta(days=i) for i in range(days, 0, -1)]
        self.count = round(per_year * days / 365)
        self.seq = itertools.count(1)
        # Office opening (07:30 local) of each day in UTC, and due dates by (day, working days):
        # a few thousand distinct values stand in for a million time-zone conversions.
        self.opening = {
            d: dt.datetime.combine(d, dt.time(7, 30), tzinfo=VIETNAM_TZ).astimezone(dt.UTC)
            for d in self.days
        }
        self._due: dict[tuple[dt.date, int], dt.datetime] = {}

    def due(self, day: dt.date, n: int) -> dt.datetime:
        """``n`` working days after local day ``day`` (17:00 local), memoised."""
        key = (day, n)
        found = self._due.get(key)
        if found is None:
            found = self._due[key] = self.calendar.add_working_days(self.opening[day], n)
        return found

    def _proc(self) -> Proc:
        return self.procs[bisect.bisect(self.cum, self.rng.random() * self.cum[-1])]

    def dossiers(self) -> list[dict[str, Any]]:
        """Every dossier of the span, oldest first; working days get the desk's share."""
        rng, cal = self.rng, self.calendar
        working = [d for d in self.days if cal.is_working_day(d)]
        label = {d: f"H23.{d:%y%m%d}." for d in self.days}
        made: list[tuple[dt.datetime, dt.date, dict[str, Any]]] = []
        for _ in range(self.count):
            proc = self._proc()
            channel = (
                "online"
                if rng.random() < (0.7 if proc.full_online else 0.2)
                else ("post" if rng.random() < 0.04 else "one_stop_desk")
            )
            days = self.days if channel == "online" and rng.random() < 0.1 else working
            day = days[int(rng.random() * len(days))]
            received = self.opening[day] + dt.timedelta(minutes=int(rng.random() * 540))
            made.append((received, day, self._one(proc, channel, day, received)))
        made.sort(key=lambda m: m[0])
        out = [r for _, _, r in made]
        for (_, day, r), n in zip(made, self.seq, strict=False):
            r["code"] = f"{label[day]}{n:06d}"
        return out

    def _one(self, proc: Proc, channel: str, day: dt.date, received: dt.datetime) -> dict[str, Any]:
        rng = self.rng
        commune, district = self.communes[int(rng.random() * len(self.communes))]
        agency = handling_agency(proc.tier, proc.agency, commune, district)
        if agency not in self.agencies:
            agency = proc.agency
        paused = 1 + int(rng.random() * 5) if rng.random() < 0.05 else 0
        due = self.due(day, proc.days + paused)
        late = rng.random() > ON_TIME
        took = (
            proc.days + paused + 1 + int(rng.random() * 5)
            if late
            else int(rng.random() * (proc.days + paused + 1))
        )
        done_day = self.due(day, took)
        finished = max(
            received + dt.timedelta(minutes=20),
            done_day - dt.timedelta(minutes=int(rng.random() * 480)),
        )
        roll = rng.random()
        status = "rejected" if roll < 0.015 else ("withdrawn" if roll < 0.02 else "completed")
        rating = delivery = None
        done: dt.datetime | None = finished
        if finished > self.now:
            status, done = ("supplement_requested" if paused else "processing"), None
        elif status == "completed":
            delivery = (
                "post"
                if proc.postal and rng.random() < 0.24
                else ("online" if channel == "online" and rng.random() < 0.5 else "desk")
            )
            rating = rng.choice((5, 5, 5, 4, 4, 3, 2)) if rng.random() < 0.3 else None
        return dossier_row(
            code="", procedure_code=proc.code, agency=agency, place_code=commune,
            district_code=district, channel=channel, status=status, received_at=received,
            due_at=due, paused_days=paused, completed_at=done, delivery=delivery, rating=rating,
        )  # fmt: skip


def _steps(session: Session, since: dt.datetime) -> int:
    """Receipt and result steps of the dossiers received since ``since``."""
    rows: list[dict[str, Any]] = []
    for d in session.execute(
        select(
            Dossier.id,
            Dossier.agency_code,
            Dossier.received_at,
            Dossier.status,
            Dossier.completed_at,
        ).where(Dossier.received_at >= since)
    ):
        rows.append(
            {
                "dossier_id": d.id,
                "at": d.received_at,
                "action": "receive",
                "from_agency": None,
                "to_agency": d.agency_code,
                "status_from": None,
                "status_to": "received",
                "note": "",
                "actor": "demo",
            }
        )
        if d.completed_at is not None:
            rows.append(
                {
                    "dossier_id": d.id,
                    "at": d.completed_at,
                    "action": d.status,
                    "from_agency": None,
                    "to_agency": None,
                    "status_from": "processing",
                    "status_to": d.status,
                    "note": "",
                    "actor": "demo",
                }
            )
    if rows:
        session.execute(insert(Base.metadata.tables[DossierStep.__tablename__]), rows)
    return len(rows)


def build_year(
    session: Session, *, now: dt.datetime | None = None, days: int = 365, per_year: int = PER_YEAR
) -> int:
    """Seed the catalogue and write ``days`` of dossiers at ``per_year``; returns how many."""
    now = now or utcnow()
    seed_catalogue(session)
    rows = Year(session, now=now, days=days, per_year=per_year).dossiers()
    stamp = utcnow()
    for i in range(0, len(rows), CHUNK):
        chunk: Sequence[dict[str, Any]] = rows[i : i + CHUNK]
        insert_rows(session, [r | {"updated_at": stamp} for r in chunk])
        emit_tallies(session, list(chunk))
        daily.apply(session, chunk)
    _steps(session, now - dt.timedelta(days=STEP_DAYS))
    record(session, "demo", "dossiers", "year", after={"dossiers": len(rows), "days": days})
    return len(rows)


def services_step(ctx: DemoContext) -> None:
    """A year of dossiers for the full demo; the short test demo builds as many days as feedback."""
    days = 365 if ctx.feedback_days >= 183 else ctx.feedback_days
    with ctx.database.session("demo") as session:
        n = build_year(session, days=days)
    ctx.notes.append(f"public services: {n:,} dossiers over {days} days")

"""Simulated reports played through the reception workflow, as rows ready for a bulk insert.

The rates follow the seed articles: ~150 reports a day (Bình Phước IOC), about 97 % settled on
time, 469 of 600 settled and confirmed by the citizen, 96.19 % of them satisfied (Đồng Xoài IOC).
Each request's timeline is what ``ioc.feedback.service`` would have written at each step.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import random
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ioc.core.workdays import WorkCalendar, default_calendar
from ioc.feedback import demo_text as words
from ioc.feedback.models import OPEN_STATUSES
from ioc.feedback.service import PROVINCE_AGENCY
from ioc.feedback.simulated import Commune, World
from ioc.feedback.tasks import ESCALATION_ACTOR

PER_DAY = 150.0
WEEKDAY = (1.2, 1.12, 1.1, 1.1, 1.08, 0.72, 0.58)  # Monday … Sunday
HOLIDAY = 0.6  # a public holiday on a weekday
LATE = 0.03  # settled after the due moment (and escalated meanwhile)
REJECTED = 0.03
DUPLICATE = 0.05  # when an open report of the same kind came from the same commune that week
REOPENED = 0.015
RATED = 0.865  # resolved reports the citizen rates (and the IOC then closes)
SATISFIED = 4  # ratings of 4 and 5 count as satisfied
SATISFIED_ON_TIME = 0.967
SATISFIED_LATE = 0.8
OPERATOR = "user:vanhanh"
ESCALATION_EVERY = 15 * 60  # seconds between runs of the server's escalation loop
SUBMITTERS = {
    "hotline": OPERATOR,
    "petition": OPERATOR,
    "email": OPERATOR,
    "sms": "apikey:sms-gateway",
    "zalo": "apikey:zalo-oa",
    "app": "apikey:citizen-app",
    "open311": "apikey:open311-client",
    "web": "anonymous",
}
OFFICE_OPENS = dt.time(7, 30)
OFFICE_CLOSES = dt.time(17, 0)


@dataclass
class History:
    """The rows to insert, and what they add up to."""

    requests: list[dict[str, Any]] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)
    days: int = 0

    def summary(self) -> str:
        """'27,412 requests over 183 days (≈150/day), 96.9 % settled on time, …'."""
        reqs = self.requests
        settled = [r for r in reqs if r["settled_at"] is not None]
        on_time = sum(r["settled_at"] <= r["expected_at"] for r in settled)
        rated = [r["rating"] for r in reqs if r["rating"] is not None]
        happy = sum(rating >= SATISFIED for rating in rated)
        still_open = sum(r["status"] in OPEN_STATUSES for r in reqs)
        return (
            f"{len(reqs):,} requests over {self.days} days (≈{len(reqs) / max(self.days, 1):.0f}"
            f"/day), {_pct(on_time, len(settled))} settled on time, "
            f"{_pct(happy, len(rated))} of {len(rated):,} ratings satisfied, {still_open:,} open"
        )


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f} %" if whole else "n/a"


class HistoryMaker:
    """Draws reports day by day and plays each one through the workflow up to ``now``."""

    def __init__(
        self,
        world: World,
        sla: dict[str, int],
        routes: dict[tuple[str, str], str],
        agencies: dict[str, tuple[str, str | None]],
        *,
        now: dt.datetime,
        rng: random.Random,
        first_id: int = 1,
        calendar: WorkCalendar | None = None,
    ) -> None:
        self.world = world
        self.sla = sla
        self.routes = routes
        self.agencies = agencies  # code → (name, parent code)
        self.now = now
        self.rng = rng
        self.next_id = first_id
        self.calendar = calendar or default_calendar()
        self.tz = self.calendar.tz
        self._recent: dict[tuple[str, str], tuple[int, dt.datetime]] = {}

    # --- volume ---------------------------------------------------------------------------------

    def make(self, days: int) -> History:
        """``days`` days of reports ending now."""
        history = History(days=days)
        start = self.now - dt.timedelta(days=days)
        plan = list(self._days(start))
        covered = sum(share for _, _, share in plan)
        norm = sum(f * share for _, f, share in plan) / covered if covered else 1.0
        for day, factor, _share in plan:
            mu = PER_DAY * factor / norm
            count = max(0, round(self.rng.gauss(mu, 1.5 * math.sqrt(mu))))
            for moment, commune, category, channel in self._draws(day, count):
                if start <= moment <= self.now:
                    self._request(history, moment, commune, category, channel)
        return history

    def _days(self, start: dt.datetime) -> Iterator[tuple[dt.date, float, float]]:
        """Each local day of the window, how busy it is, and how much of it the window holds."""
        seasons: dict[int, float] = {}
        day, last = start.astimezone(self.tz).date(), self.now.astimezone(self.tz).date()
        while day <= last:
            begin = dt.datetime.combine(day, dt.time(), tzinfo=self.tz)
            inside = min(begin + dt.timedelta(days=1), self.now) - max(begin, start)
            share = max(inside.total_seconds(), 0.0) / 86_400
            if day.month not in seasons:
                seasons[day.month] = self.world.season(day.month)
            factor = WEEKDAY[day.weekday()] * seasons[day.month]
            if day.weekday() < 5 and not self.calendar.is_working_day(day):
                factor *= HOLIDAY
            yield day, factor, share
            day += dt.timedelta(days=1)

    def _draws(self, day: dt.date, count: int) -> list[tuple[dt.datetime, Commune, str, str]]:
        working = self.calendar.is_working_day(day)
        draws = []
        for _ in range(count):
            commune = self.world.commune(self.rng)
            category = self.world.category(self.rng, commune, day.month)
            channel = self.world.channel(self.rng, working)
            draws.append((self.world.moment(self.rng, day, channel), commune, category, channel))
        draws.sort(key=lambda d: d[0])
        return draws

    # --- one request ----------------------------------------------------------------------------

    def _request(
        self, history: History, t0: dt.datetime, commune: Commune, category: str, channel: str
    ) -> None:
        rng = self.rng
        rid, self.next_id = self.next_id, self.next_id + 1
        draft = self.world.draft(rng, commune, category, channel)
        sla = self.sla[category]
        agency = self.routes[category, commune.code]
        due = self.calendar.add_working_days(t0, sla)
        submitter = SUBMITTERS[channel]
        row: dict[str, Any] = {
            "id": rid,
            "service_code": category,
            "channel": channel,
            "description": draft.description,
            "lat": draft.lat,
            "lon": draft.lon,
            "address": draft.address,
            "address_id": None,
            "media_url": None,
            "attributes": draft.attributes,
            "place_code": commune.code,
            "agency_code": agency,
            "status": "received",
            "status_notes": None,
            "requested_at": t0,
            "updated_at": t0,
            "expected_at": due,
            "settled_at": None,
            "duplicate_of": None,
            "likely_duplicate_of": None,
            "escalation_level": 0,
            "escalated_to": None,
            "escalated_at": None,
            "rating": None,
            "rating_comment": None,
            "rated_at": None,
            "token_hash": hashlib.sha256(secrets.token_bytes(16)).hexdigest(),
            "first_name": None,
            "last_name": None,
            "email": None,
            "phone": None,
            "device_id": None,
            "account_id": None,
            "api_key_id": None,
            "created_by": submitter,
            **draft.contact,
        }
        notes = [_note(rid, t0, submitter, "status", status_to="received", agency_to=agency)]
        key = (category, commune.code)
        earlier = self._recent.get(key)
        self._recent[key] = (rid, t0)
        draw = rng.random()
        if earlier and t0 - earlier[1] <= dt.timedelta(days=7) and draw < DUPLICATE:
            row["likely_duplicate_of"] = earlier[0]
            events = self._duplicate(t0, earlier[0])
        elif rng.random() < REJECTED:
            events = self._rejected(t0)
        else:
            events = self._handled(t0, due, sla, category, agency)
        self._play(row, notes, events)
        history.requests.append(row)
        history.notes.extend(notes)

    def _duplicate(self, t0: dt.datetime, other: int) -> list[Event]:
        at = self._office_after(t0 + self._minutes(15, 300))
        note = f"Trùng nội dung với phản ánh #{other}; gộp xử lý chung."
        return [Event(at, "status", OPERATOR, status="duplicate", text=note, duplicate_of=other)]

    def _rejected(self, t0: dt.datetime) -> list[Event]:
        at = self._office_after(t0 + self._minutes(15, 300))
        reason = self.rng.choice(words.REJECTIONS)
        return [Event(at, "status", OPERATOR, status="rejected", text=reason)]

    def _handled(
        self, t0: dt.datetime, due: dt.datetime, sla: int, category: str, agency: str
    ) -> list[Event]:
        """Assigned, taken up, resolved (on time or late, escalated meanwhile), maybe rated."""
        rng = self.rng
        staff = f"user:{agency.lower()}"
        t_a = self._office_after(t0 + self._minutes(3, 60))
        t_p = self._office_after(t_a + self._minutes(10, 360))
        late = rng.random() < LATE
        if late:
            k = sla + 1 + min(int(rng.expovariate(0.4)), 15)
        else:
            # Most use a third to a half of the time allowed; a quick fix needs hours, not days.
            k_min = self.calendar.working_days_between(t0, t_p) + (sla >= 5)
            k = min(sla, k_min + round(max(sla - k_min, 0) * rng.betavariate(2, 3)))
        t_s = self.calendar.add_working_days(t0, k) - self._minutes(0, 570)
        t_s = max(t_s, t_p + self._minutes(40, 240))
        if not late and t_s > due:
            t_s = max(t_p + (due - t_p) / 2, t_p + dt.timedelta(minutes=5))
        name = self.agencies.get(agency, (agency, None))[0]
        events = [
            Event(t_a, "assign", OPERATOR, status="assigned", text=f"Chuyển {name} xử lý."),
            Event(
                t_p, "status", staff, status="in_progress", text=rng.choice(words.PROGRESS_NOTES)
            ),
        ]
        answer = rng.choice(words.ANSWERS[category])
        # Reopened only when settled on time in the end: a resolved request is not escalated.
        if not late and rng.random() < REOPENED and t_s - t_p > dt.timedelta(days=1):
            first = t_p + (t_s - t_p) * rng.uniform(0.2, 0.5)
            back = first + (t_s - first) * rng.uniform(0.2, 0.6)
            events.append(Event(first, "status", staff, status="resolved", text=answer))
            events.append(
                Event(back, "status", OPERATOR, status="in_progress", text=words.REOPEN_NOTE)
            )
            answer = rng.choice(words.ANSWERS[category])
        events.append(Event(t_s, "status", staff, status="resolved", text=answer))
        events += self._escalations(due, t_s, sla, agency)
        if rng.random() < RATED:
            rated_at = t_s + self._minutes(120, 4 * 24 * 60)
            events.append(Event(rated_at, "rate", "anonymous", rating=self._rating(late)))
            closed = rated_at + self._minutes(20, 24 * 60)
            events.append(Event(closed, "status", OPERATOR, status="closed", text=words.CLOSE_NOTE))
        return events

    def _escalations(
        self, due: dt.datetime, until: dt.datetime, sla: int, agency: str
    ) -> list[Event]:
        """What the escalation loop does to a request still open past its due moment."""
        events = []
        current, at = agency, due + dt.timedelta(seconds=self.rng.randrange(1, ESCALATION_EVERY))
        while at < until and at <= self.now and current != PROVINCE_AGENCY:
            above = self.agencies.get(current, ("", None))[1] or PROVINCE_AGENCY
            events.append(Event(at, "escalate", ESCALATION_ACTOR, agency=above))
            current = above
            at = self.calendar.add_working_days(at, sla)
            at += dt.timedelta(seconds=self.rng.randrange(1, ESCALATION_EVERY))
        return events

    def _rating(self, late: bool) -> tuple[int, str | None]:
        rng = self.rng
        if rng.random() < (SATISFIED_LATE if late else SATISFIED_ON_TIME):
            stars = 5 if rng.random() < 0.72 else 4
            comment = rng.choice(words.PRAISE) if rng.random() < 0.25 else None
        else:
            stars = rng.choices((3, 2, 1), (60, 25, 15))[0]
            comment = rng.choice(words.COMPLAINTS) if rng.random() < 0.6 else None
        return stars, comment

    def _play(self, row: dict[str, Any], notes: list[dict[str, Any]], events: list[Event]) -> None:
        """Apply the events that happened by now, in order, as the service would have."""
        rid = row["id"]
        for ev in sorted(events, key=lambda e: e.at):
            if ev.at > self.now:
                break
            row["updated_at"] = ev.at
            if ev.kind == "rate":
                row["rating"], row["rating_comment"] = ev.rating
                row["rated_at"] = ev.at
                continue
            if ev.kind == "escalate":
                current = row["escalated_to"] or row["agency_code"]
                row["escalation_level"] += 1
                row["escalated_to"], row["escalated_at"] = ev.agency, ev.at
                notes.append(
                    _note(
                        rid,
                        ev.at,
                        ev.actor,
                        "escalate",
                        f"quá hạn xử lý, chuyển {ev.agency} đôn đốc",
                        agency_from=current,
                        agency_to=ev.agency,
                    )
                )
                continue
            before = row["status"]
            row["status"] = ev.status
            if ev.kind == "assign":
                notes.append(
                    _note(
                        rid,
                        ev.at,
                        ev.actor,
                        "assign",
                        ev.text,
                        status_from=before,
                        status_to=ev.status,
                        agency_from=row["agency_code"],
                        agency_to=row["agency_code"],
                    )
                )
                continue
            if ev.status in ("resolved", "rejected", "duplicate"):
                row["settled_at"] = ev.at
            elif ev.status == "in_progress" and before == "resolved":
                row["settled_at"] = None
            if ev.duplicate_of is not None:
                row["duplicate_of"] = ev.duplicate_of
            row["status_notes"] = ev.text or row["status_notes"]
            notes.append(
                _note(
                    rid,
                    ev.at,
                    ev.actor,
                    "status",
                    ev.text,
                    public=True,
                    status_from=before,
                    status_to=ev.status,
                )
            )

    # --- time helpers ---------------------------------------------------------------------------

    def _minutes(self, low: float, high: float) -> dt.timedelta:
        return dt.timedelta(minutes=self.rng.uniform(low, high))

    def _office_after(self, moment: dt.datetime) -> dt.datetime:
        """``moment`` if offices are open then, else soon after they next open."""
        local = moment.astimezone(self.tz)
        day = local.date()
        if self.calendar.is_working_day(day):
            if OFFICE_OPENS <= local.time() < OFFICE_CLOSES:
                return moment
            if local.time() < OFFICE_OPENS:
                return self._opening(day)
        return self._opening(self.calendar.next_working_day(day))

    def _opening(self, day: dt.date) -> dt.datetime:
        opens = dt.datetime.combine(day, OFFICE_OPENS, tzinfo=self.tz).astimezone(dt.UTC)
        return opens + self._minutes(0, 45)


@dataclass(frozen=True, slots=True)
class Event:
    """One planned step of a request's life; applied only if it happens by now."""

    at: dt.datetime
    kind: str  # status, assign, escalate, rate
    actor: str
    status: str = ""
    text: str = ""
    agency: str = ""
    duplicate_of: int | None = None
    rating: tuple[int, str | None] = (0, None)


def _note(
    request_id: int,
    at: dt.datetime,
    actor: str,
    kind: str,
    text: str = "",
    *,
    public: bool = False,
    status_from: str | None = None,
    status_to: str | None = None,
    agency_from: str | None = None,
    agency_to: str | None = None,
) -> dict[str, Any]:
    return {
        "request_id": request_id,
        "at": at,
        "actor": actor,
        "kind": kind,
        "public": public,
        "text": text,
        "status_from": status_from,
        "status_to": status_to,
        "agency_from": agency_from,
        "agency_to": agency_to,
    }

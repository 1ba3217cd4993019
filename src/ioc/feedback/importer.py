"""Bulk import of SMS, Zalo and e-mail messages and petitions from CSV or JSON; no HTTP.

``import_files`` reads the file into rows; this module validates and stores them.

Each row becomes one request through ``service.submit``, so it is validated, located and routed
like any other; a row is stored whole or not at all, and each bad row is reported with its
number (1 = the first row after the header, or the first element of a JSON array), the column
and the reason. Rows carrying an ``external_id`` are imported once per channel: importing the
same file again stores nothing new.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from sqlalchemy import select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ioc.core.db import utcnow
from ioc.core.problems import Invalid, Problem
from ioc.core.workdays import VIETNAM_TZ
from ioc.feedback import service
from ioc.feedback.import_files import Record, parse
from ioc.feedback.models import FeedbackRequest

CHANNELS = ("hotline", "sms", "zalo", "email", "petition")
# submit() names fields as Open311 clients send them; an import names its own columns.
FIELD_NAMES = {"long": "lon", "address_string": "address"}
PHONE = re.compile(r"^\+?[0-9 ().-]+$")
DATE_FORMATS = ("%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y")
CLOCK_SKEW = dt.timedelta(minutes=5)
CHUNK = 500


@dataclass(frozen=True)
class RowError:
    row: int
    field: str
    message: str


@dataclass(frozen=True)
class Stored:
    row: int
    id: int | None  # None in a dry run: nothing was kept
    token: str | None


@dataclass(frozen=True)
class Skipped:
    """A row whose (channel, external_id) is already stored, or repeated in the file."""

    row: int
    id: int | None


@dataclass
class ImportReport:
    received: int
    dry_run: bool
    stored: list[Stored] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        return len({e.row for e in self.errors})


# --- one row → one Submission -------------------------------------------------------------------


class _Row:
    """Reads a record's cells, collecting every problem instead of stopping at the first."""

    def __init__(self, record: Record) -> None:
        self.values = record.values
        self.errors: list[tuple[str, str]] = []

    def text(self, name: str) -> str | None:
        value = self.values.get(name)
        if value is None:
            return None
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)  # a JSON number where text is meant, e.g. an id
        if not isinstance(value, str):
            self.errors.append((name, "must be text"))
            return None
        return value.strip() or None

    def number(self, name: str) -> float | None:
        value = self.values.get(name)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        raw = self.text(name)
        if raw is None:
            return None
        if "," in raw and "." not in raw:
            raw = raw.replace(",", ".")  # 20,85 written with a Vietnamese decimal comma
        try:
            return float(raw)
        except ValueError:
            self.errors.append((name, f"not a number: {raw!r}"))
            return None

    def moment(self, name: str, now: dt.datetime) -> dt.datetime | None:
        raw = self.text(name)
        if raw is None:
            return None
        parsed = _parse_moment(raw)
        if parsed is None:
            self.errors.append(
                (
                    name,
                    f"not a date and time: {raw!r} "
                    "(write 2026-02-13T08:30+07:00 or 13/02/2026 08:30)",
                )
            )
            return None
        if parsed > now + CLOCK_SKEW:
            self.errors.append((name, "is in the future"))
            return None
        return parsed


def _parse_moment(raw: str) -> dt.datetime | None:
    """ISO 8601 or day/month/year; without a zone it is Vietnam time."""
    parsed: dt.datetime | None = None
    try:
        parsed = dt.datetime.fromisoformat(raw)
    except ValueError:
        for fmt in DATE_FORMATS:
            try:
                parsed = dt.datetime.strptime(raw, fmt)
                break
            except ValueError:
                continue
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=VIETNAM_TZ)
    return parsed.astimezone(dt.UTC)


def _channel(record: Record, default: str | None) -> str | None:
    value = record.values.get("channel")
    if isinstance(value, str) and value.strip():
        return value.strip().lower()
    return default


def _submission(
    record: Record, default_channel: str | None, now: dt.datetime
) -> tuple[service.Submission | None, list[tuple[str, str]]]:
    """The submission a row describes, or every problem found in it."""
    row = _Row(record)
    channel = _channel(record, default_channel)
    if channel is None:
        row.errors.append(("channel", "is required (or give a default channel for the file)"))
    elif channel not in CHANNELS:
        row.errors.append(("channel", f"choose from {', '.join(CHANNELS)}"))
    service_code = row.text("service_code")
    if service_code is None:
        row.errors.append(("service_code", "is required"))
    description = row.text("description")
    if description is None:
        row.errors.append(("description", "is required: the message itself"))
    lat, lon = row.number("lat"), row.number("lon")
    requested_at = row.moment("requested_at", now)
    email, phone = row.text("email"), row.text("phone")
    if email is not None and (" " in email or not re.match(r"^[^@]+@[^@]+\.[^@]+$", email)):
        row.errors.append(("email", f"not an e-mail address: {email!r}"))
    if phone is not None and (not PHONE.match(phone) or sum(c.isdigit() for c in phone) < 6):
        row.errors.append(("phone", f"not a phone number: {phone!r}"))
    sub = service.Submission(
        service_code=service_code or "",
        description=description or "",
        channel=channel or "",
        lat=lat,
        lon=lon,
        address=row.text("address"),
        attributes=record.attributes,
        first_name=row.text("first_name"),
        last_name=row.text("last_name"),
        email=email,
        phone=phone,
        requested_at=requested_at or now,
        external_id=row.text("external_id"),
    )
    return (None if row.errors else sub), row.errors


# --- storing -------------------------------------------------------------------------------------


def _existing(session: Session, keys: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """Ids of the requests already stored under these (channel, external_id) pairs."""
    found: dict[tuple[str, str], int] = {}
    pairs = sorted(keys)
    for i in range(0, len(pairs), CHUNK):
        chunk = pairs[i : i + CHUNK]
        rows = session.execute(
            select(FeedbackRequest.channel, FeedbackRequest.external_id, FeedbackRequest.id).where(
                tuple_(FeedbackRequest.channel, FeedbackRequest.external_id).in_(chunk)
            )
        )
        found.update({(c, e): rid for c, e, rid in rows if e is not None})
    return found


def _key(record: Record, default_channel: str | None) -> tuple[str, str] | None:
    channel = _channel(record, default_channel)
    external = record.values.get("external_id")
    if isinstance(external, int | float) and not isinstance(external, bool):
        external = str(external)
    if channel and isinstance(external, str) and external.strip():
        return channel, external.strip()
    return None


def _store(
    session: Session,
    records: list[Record],
    channel: str | None,
    dry_run: bool,
    rule: service.DuplicateRule | None,
    now: dt.datetime,
) -> ImportReport:
    report = ImportReport(received=len(records), dry_run=dry_run)
    keys = {k for r in records if (k := _key(r, channel)) is not None}
    known: dict[tuple[str, str], int | None] = dict(_existing(session, keys))
    for record in records:
        if record.problem is not None:
            report.errors.append(RowError(record.row, "row", record.problem))
            continue
        key = _key(record, channel)
        if key is not None and key in known:
            report.skipped.append(Skipped(record.row, known[key]))
            continue
        sub, errors = _submission(record, channel, now)
        if sub is None:
            report.errors += [RowError(record.row, f, m) for f, m in errors]
            continue
        try:
            done = service.submit(session, sub, rule)
        except Problem as exc:  # submit writes nothing when it refuses a row
            first = exc.errors[0] if exc.errors else {"field": "row", "message": exc.detail}
            name = str(first["field"])
            report.errors.append(
                RowError(record.row, FIELD_NAMES.get(name, name), first["message"])
            )
            continue
        report.stored.append(Stored(record.row, done.request.id, done.token))
        if key is not None:
            known[key] = done.request.id
    if dry_run:
        session.rollback()
        stored_ids = {s.id for s in report.stored}
        report.stored = [Stored(s.row, None, None) for s in report.stored]
        report.skipped = [
            Skipped(s.row, None if s.id in stored_ids else s.id) for s in report.skipped
        ]
    return report


def run(
    session: Session,
    records: list[Record],
    *,
    channel: str | None = None,
    dry_run: bool = False,
    rule: service.DuplicateRule | None = None,
    now: dt.datetime | None = None,
) -> ImportReport:
    """Validate and store the rows (the caller commits); a dry run rolls the session back.

    Run it on a session with nothing else pending: a dry run, or a second importer racing this
    one for the same messages, rolls the whole session back.
    """
    if channel is not None and channel not in CHANNELS:
        raise Invalid("channel", f"choose from {', '.join(CHANNELS)}")
    now = now or utcnow()
    try:
        return _store(session, records, channel, dry_run, rule, now)
    except IntegrityError:
        # Another import stored some of these messages since we looked: start again, and this
        # time they are found and skipped.
        session.rollback()
        return _store(session, records, channel, dry_run, rule, now)


def import_file(
    session: Session,
    data: bytes,
    fmt: str,
    *,
    channel: str | None = None,
    dry_run: bool = False,
    rule: service.DuplicateRule | None = None,
) -> ImportReport:
    """Parse and import one file's bytes."""
    return run(session, parse(data, fmt), channel=channel, dry_run=dry_run, rule=rule)

"""Import dossiers from a one-stop-shop export: idempotent by code, every bad row reported.

Valid rows go in, invalid ones do not; a code already stored is updated when the row says
something new and skipped when it does not, so uploading the same file again changes nothing.
Rows are validated in Python against reference data loaded once, then written in chunks with
bulk Core statements (``COPY`` on PostgreSQL for new rows). Each chunk emits one
``dossier.imported`` event carrying tallies of the rows it changed (before and after), which is
what the indicators capability needs, and the import is audited once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ioc.core.audit import record
from ioc.core.db import utcnow
from ioc.core.models import Agency, Place
from ioc.core.scope import Scope
from ioc.core.workdays import VIETNAM_TZ, WorkCalendar, default_calendar
from ioc.services import daily, import_files
from ioc.services.bulk import dossier_row, emit_tallies, write_chunk
from ioc.services.models import (
    CHANNELS,
    CODE_LENGTH,
    DELIVERIES,
    FINAL_STATUSES,
    STATUSES,
    ServiceProcedure,
)
from ioc.services.service import handling_agency

REQUIRED = ("code", "procedure_code", "place_code", "channel", "received_at", "status")
OPTIONAL = ("agency_code", "due_at", "completed_at", "paused_days", "delivery", "rating")
COLUMNS = REQUIRED + OPTIONAL
CHUNK = 5_000
VN_FORMATS = ("%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y")


@dataclass(frozen=True, slots=True)
class RowError:
    row: int
    field: str
    message: str


@dataclass
class ImportReport:
    received: int = 0
    created: int = 0
    updated: int = 0
    skipped: int = 0
    dry_run: bool = False
    errors: list[RowError] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        return len({e.row for e in self.errors})


class _Bad(Exception):
    def __init__(self, field: str, message: str) -> None:
        self.field, self.message = field, message


def _when(value: Any, name: str) -> dt.datetime:
    """ISO 8601 or dd/mm/yyyy [hh:mm[:ss]]; a time with no zone is Vietnam's local time."""
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime.combine(value, dt.time())
    else:
        text = str(value).strip()
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            for fmt in VN_FORMATS:
                try:
                    moment = dt.datetime.strptime(text, fmt)
                    break
                except ValueError:
                    continue
            else:
                raise _Bad(name, f"not a date or time: {text[:40]!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=VIETNAM_TZ)
    return moment.astimezone(dt.UTC)


def _int(value: Any, name: str, low: int, high: int) -> int:
    if isinstance(value, bool):
        raise _Bad(name, "not a whole number")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str):
        value = value.strip()
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise _Bad(name, f"not a whole number: {str(value)[:40]!r}") from None
    if not low <= number <= high:
        raise _Bad(name, f"must be from {low} to {high}")
    return number


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


class Validator:
    """Turns raw rows into dossier values, with reference data loaded once per import."""

    def __init__(
        self, session: Session, calendar: WorkCalendar, scope: Scope | None = None
    ) -> None:
        self.calendar = calendar
        scope = scope or Scope.everywhere()
        self.places = (
            None if scope.place_path is None else frozenset(session.scalars(scope.places()))
        )
        self.agency_scope = scope.agency_codes
        self.procedures = {p.code: p for p in session.scalars(select(ServiceProcedure))}
        self.communes = dict(
            session.execute(
                select(Place.code, Place.parent_code).where(Place.level == "commune")
            ).all()
        )
        self.agencies = frozenset(session.scalars(select(Agency.code)))

    def row(self, raw: dict[str, Any]) -> dict[str, Any]:
        for name in REQUIRED:
            if _blank(raw.get(name)):
                raise _Bad(name, "required")
        code = str(raw["code"]).strip()
        if len(code) > CODE_LENGTH:
            raise _Bad("code", f"at most {CODE_LENGTH} characters")
        procedure = self.procedures.get(str(raw["procedure_code"]).strip())
        if procedure is None:
            raise _Bad("procedure_code", f"unknown procedure {raw['procedure_code']!r}")
        place = raw["place_code"]
        # A spreadsheet turns "04447" into the number 4447: GSO commune codes have 5 digits.
        place = str(int(place)).zfill(5) if isinstance(place, int | float) else str(place).strip()
        if place not in self.communes:
            raise _Bad("place_code", f"unknown commune {raw['place_code']!r}")
        district = self.communes[place]
        agency = raw.get("agency_code")
        agency = (
            handling_agency(procedure.tier, procedure.agency_code, place, district)
            if _blank(agency)
            else str(agency).strip()
        )
        if agency not in self.agencies:
            raise _Bad("agency_code", f"unknown agency {agency!r}")
        if self.places is not None and place not in self.places:
            raise _Bad("place_code", f"commune {place!r} is outside your scope")
        if self.agency_scope is not None and agency not in self.agency_scope:
            raise _Bad("agency_code", f"agency {agency!r} is outside your scope")
        channel = str(raw["channel"]).strip()
        if channel not in CHANNELS:
            raise _Bad("channel", f"one of {', '.join(CHANNELS)}")
        status = str(raw["status"]).strip()
        if status not in STATUSES:
            raise _Bad("status", f"one of {', '.join(STATUSES)}")
        received = _when(raw["received_at"], "received_at")
        paused = (
            0
            if _blank(raw.get("paused_days"))
            else _int(raw["paused_days"], "paused_days", 0, 3650)
        )
        if _blank(raw.get("due_at")):
            due = self.calendar.add_working_days(received, procedure.processing_days + paused)
        else:
            due = _when(raw["due_at"], "due_at")
        completed = (
            None if _blank(raw.get("completed_at")) else _when(raw["completed_at"], "completed_at")
        )
        if status in FINAL_STATUSES and completed is None:
            raise _Bad("completed_at", f"required for a {status} dossier")
        if status not in FINAL_STATUSES and completed is not None:
            raise _Bad("completed_at", f"a {status} dossier has no completion time")
        if completed is not None and completed < received:
            raise _Bad("completed_at", "before the dossier was received")
        delivery = None if _blank(raw.get("delivery")) else str(raw["delivery"]).strip()
        if delivery is not None and delivery not in DELIVERIES:
            raise _Bad("delivery", f"one of {', '.join(DELIVERIES)}")
        rating = None if _blank(raw.get("rating")) else _int(raw["rating"], "rating", 1, 5)
        return dossier_row(
            code=code, procedure_code=procedure.code, agency=agency, place_code=place,
            district_code=district, channel=channel, status=status, received_at=received,
            due_at=due, paused_days=paused, completed_at=completed, delivery=delivery,
            rating=rating,
        )  # fmt: skip


def _check_columns(table: import_files.Table, report: ImportReport) -> bool:
    header = table.first_row - 1
    for name in table.columns:
        if name not in COLUMNS:
            report.errors.append(RowError(header, name, "unknown column"))
    for name in REQUIRED:
        if name not in table.columns:
            report.errors.append(RowError(header, name, "missing column"))
    return not report.errors


def validate(
    session: Session,
    table: import_files.Table,
    report: ImportReport,
    calendar: WorkCalendar,
    scope: Scope | None = None,
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (row, values) of the good rows; record the bad ones, and repeats within the file."""
    checker = Validator(session, calendar, scope)
    seen: dict[str, int] = {}
    width = len(table.columns)
    for n, raw in table.rows:
        if "__problem__" in raw:
            report.errors.append(RowError(n, "", str(raw["__problem__"])))
            continue
        if raw.pop("__width__", width) > width:
            report.errors.append(RowError(n, "", "more values than columns"))
            continue
        try:
            values = checker.row(raw)
        except _Bad as bad:
            report.errors.append(RowError(n, bad.field, bad.message))
            continue
        first = seen.setdefault(values["code"], n)
        if first != n:
            report.errors.append(RowError(n, "code", f"duplicate of row {first} in this file"))
            continue
        yield n, values


Progress = Callable[[int], None]


def import_rows(
    session: Session,
    table: import_files.Table,
    *,
    dry_run: bool = False,
    calendar: WorkCalendar | None = None,
    progress: Progress | None = None,
    chunk: int = CHUNK,
    scope: Scope | None = None,
) -> ImportReport:
    """Validate every row, then create, update or skip the good ones chunk by chunk."""
    report = ImportReport(received=len(table.rows), dry_run=dry_run)
    if not _check_columns(table, report):
        report.errors.extend(RowError(n, "", "file refused: wrong columns") for n, _ in table.rows)
        return report
    batch: list[dict[str, Any]] = []
    done = 0
    summary = daily.Deltas()  # written once at the end: each (day, commune) upserted once
    for _, values in validate(session, table, report, calendar or default_calendar(), scope):
        batch.append(values)
        if len(batch) >= chunk:
            done += _flush(session, batch, report, dry_run, summary)
            batch = []
            if progress:
                progress(done)
    if batch:
        done += _flush(session, batch, report, dry_run, summary)
    if not dry_run:
        summary.write(session)
    if progress:
        progress(report.received)
    if not dry_run and (report.created or report.updated):
        record(
            session,
            "import",
            "dossiers",
            utcnow().isoformat(),
            after={
                "created": report.created,
                "updated": report.updated,
                "skipped": report.skipped,
                "rejected": report.rejected,
            },
        )
    return report


def _flush(
    session: Session,
    batch: list[dict[str, Any]],
    report: ImportReport,
    dry_run: bool,
    summary: daily.Deltas,
) -> int:
    created, updated, before = write_chunk(session, batch, dry_run=dry_run)
    report.created += len(created)
    report.updated += len(updated)
    report.skipped += len(batch) - len(created) - len(updated)
    if not dry_run and (created or updated):
        emit_tallies(session, created + updated, before)
        summary.add(created)
        summary.add(updated)
        summary.add(before, -1)
    return len(batch)


def import_file(
    session: Session,
    data: bytes,
    fmt: str,
    *,
    dry_run: bool = False,
    progress: Progress | None = None,
    scope: Scope | None = None,
) -> ImportReport:
    """Read then import a CSV, XLSX or JSON export; rows outside ``scope`` are rejected."""
    table = import_files.read(data, fmt)
    return import_rows(session, table, dry_run=dry_run, progress=progress, scope=scope)

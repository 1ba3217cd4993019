"""Uploads of reported values (CSV or XLSX) and of the document register (CSV), row by row.

Every bad row is reported with its line and why; good rows go in; uploading the same file
again changes nothing (a row equal to what is stored is counted as unchanged).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from ioc.core.auth import Principal
from ioc.core.events import emit
from ioc.core.models import Agency
from ioc.core.problems import Invalid, Problem
from ioc.indicators import values
from ioc.indicators.models import OfficialDocument

VALUE_COLUMNS = ("indicator_code", "place_code", "period", "value")
DOCUMENT_COLUMNS = ("number", "issued_on", "agency_code", "signed", "signature_verified")
TRUE = {"1", "true", "yes", "có", "x"}
FALSE = {"0", "false", "no", "không", ""}


@dataclass
class UploadReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)

    def reject(self, line: int, message: str) -> None:
        self.errors.append({"line": line, "message": message})


def read_rows(content: bytes, filename: str) -> list[dict[str, str]]:
    """The rows of a CSV or XLSX file as text dicts keyed by the header's lower-cased names."""
    if filename.lower().endswith(".xlsx"):
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        sheet = book.worksheets[0]
        raw = [
            ["" if c is None else str(c) for c in row] for row in sheet.iter_rows(values_only=True)
        ]
    else:
        text = content.decode("utf-8-sig")
        raw = [row for row in csv.reader(io.StringIO(text))]
    if not raw:
        raise Invalid("file", "the file is empty")
    header = [h.strip().lower() for h in raw[0]]
    return [dict(zip(header, (c.strip() for c in row), strict=False)) for row in raw[1:]]


def _columns(rows: list[dict[str, str]], wanted: tuple[str, ...]) -> None:
    present = set(rows[0]) if rows else set()
    missing = [c for c in wanted if c not in present]
    if rows and missing:
        raise Invalid("file", f"missing columns: {', '.join(missing)}; need {', '.join(wanted)}")


def upload_values(
    session: Session, principal: Principal, rows: list[dict[str, str]]
) -> UploadReport:
    """Enter each row as a draft value; a row the caller may not enter is rejected, not fatal."""
    _columns(rows, VALUE_COLUMNS)
    report = UploadReport()
    seen: set[tuple[str, str, str]] = set()
    for line, row in enumerate(rows, start=2):
        key = (row.get("indicator_code", ""), row.get("place_code", ""), row.get("period", ""))
        if key in seen:
            report.reject(line, f"duplicate of an earlier row for {' '.join(key)}")
            continue
        seen.add(key)
        try:
            number = float(row.get("value", "").replace(",", "."))
        except ValueError:
            report.reject(line, f"value: {row.get('value')!r} is not a number")
            continue
        try:
            with session.begin_nested():
                _, outcome = values.enter(session, principal, *key, number, row.get("note", ""))
        except Problem as exc:
            report.reject(line, exc.detail)
            continue
        setattr(report, outcome, getattr(report, outcome) + 1)
    return report


def _flag(raw: str, name: str) -> bool:
    low = raw.strip().lower()
    if low in TRUE:
        return True
    if low in FALSE:
        return False
    raise Invalid(name, f"{raw!r} is not yes/no")


def import_documents(session: Session, rows: list[dict[str, str]]) -> UploadReport:
    """Add or update documents by (agency, number); emits which places and days changed."""
    _columns(rows, DOCUMENT_COLUMNS)
    report = UploadReport()
    agencies = {a.code: a.place_code for a in session.scalars(select(Agency))}
    touched: dict[str, set[str]] = {}
    seen: set[tuple[str, str]] = set()
    for line, row in enumerate(rows, start=2):
        key = (row.get("agency_code", ""), row.get("number", ""))
        if not key[1]:
            report.reject(line, "number: empty")
            continue
        if key in seen:
            report.reject(line, f"duplicate of an earlier row for {key[0]} {key[1]}")
            continue
        seen.add(key)
        if key[0] not in agencies:
            report.reject(line, f"agency_code: unknown agency {key[0]!r}")
            continue
        try:
            issued = dt.date.fromisoformat(row.get("issued_on", ""))
            signed = _flag(row.get("signed", ""), "signed")
            verified = _flag(row.get("signature_verified", ""), "signature_verified")
        except ValueError:
            report.reject(line, f"issued_on: {row.get('issued_on')!r} is not a date YYYY-MM-DD")
            continue
        except Invalid as exc:
            report.reject(line, exc.detail)
            continue
        fields = {
            "issued_on": issued, "signed": signed, "signature_verified": verified and signed,
            "title": row.get("title", "")[:300], "place_code": agencies[key[0]],
        }  # fmt: skip
        doc = session.scalar(
            select(OfficialDocument).where(
                OfficialDocument.agency_code == key[0], OfficialDocument.number == key[1]
            )
        )
        if doc is None:
            session.add(OfficialDocument(agency_code=key[0], number=key[1], **fields))
            report.created += 1
        elif all(getattr(doc, k) == v for k, v in fields.items()):
            report.unchanged += 1
            continue
        else:
            for k, v in fields.items():
                setattr(doc, k, v)
            report.updated += 1
        place = agencies[key[0]]
        if place:
            touched.setdefault(place, set()).add(issued.isoformat())
    session.flush()
    for place, days in touched.items():
        emit(session, "indicators.documents.changed", {"days": sorted(days)}, place_code=place)
    return report

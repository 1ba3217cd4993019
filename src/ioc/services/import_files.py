"""Reading a one-stop-shop export: CSV, XLSX or JSON bytes into header + raw rows; no validation.

Rows are numbered as a person opening the file sees them: in CSV and XLSX the header is row 1
and the first record row 2; in JSON the first array element is row 1.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from typing import Any

import orjson

from ioc.core import uploads
from ioc.core.problems import Invalid

FORMATS = ("csv", "xlsx", "json")


@dataclass(frozen=True, slots=True)
class Table:
    columns: list[str]
    rows: list[tuple[int, dict[str, Any]]]  # (row number in the file, column -> raw value)
    first_row: int  # the number of the first data row (for the header's own errors: first - 1)


def detect_format(name: str | None, content_type: str | None, data: bytes) -> str:
    """csv, xlsx or json: from the file name, then the media type, then the first bytes."""
    return uploads.detect_format(name, content_type, data, FORMATS)


def read(data: bytes, fmt: str) -> Table:
    """The file's header and rows; a file that cannot be read at all is refused whole."""
    if fmt == "csv":
        return _csv(data)
    if fmt == "xlsx":
        return _xlsx(data)
    if fmt == "json":
        return _json(data)
    raise Invalid("format", f"choose from {', '.join(FORMATS)}")


def _clean(name: Any) -> str:
    return str(name or "").strip().lower()


def _csv(data: bytes) -> Table:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Invalid("file", "a CSV file must be UTF-8") from exc
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None:
        raise Invalid("file", "the file is empty")
    columns = [_clean(c) for c in header]
    rows = [
        (n, dict(zip(columns, values, strict=False)) | {"__width__": len(values)})
        for n, values in enumerate(reader, start=2)
        if any(v.strip() for v in values)
    ]
    return Table(columns, rows, 2)


def _xlsx(data: bytes) -> Table:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise Invalid("file", "not a readable XLSX workbook") from exc
    try:
        sheet = book.worksheets[0]
        it = sheet.iter_rows(values_only=True)
        header = next(it, None)
        if header is None:
            raise Invalid("file", "the first sheet is empty")
        columns = [_clean(c) for c in header]
        rows = []
        for n, values in enumerate(it, start=2):
            if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
                continue
            width = max(i + 1 for i, v in enumerate(values) if v is not None)
            rows.append((n, dict(zip(columns, values, strict=False)) | {"__width__": width}))
        return Table(columns, rows, 2)
    finally:
        book.close()


def _json(data: bytes) -> Table:
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise Invalid("file", f"not JSON: {exc}") from exc
    if isinstance(doc, dict) and isinstance(doc.get("dossiers"), list):
        doc = doc["dossiers"]
    if not isinstance(doc, list):
        raise Invalid("file", "send an array of dossier objects")
    columns: list[str] = []
    rows: list[tuple[int, dict[str, Any]]] = []
    for n, item in enumerate(doc, start=1):
        if not isinstance(item, dict):
            rows.append((n, {"__problem__": "not an object"}))
            continue
        values = {_clean(k): v for k, v in item.items()}
        columns.extend(k for k in values if k not in columns)
        rows.append((n, values))
    return Table(columns, rows, 1)

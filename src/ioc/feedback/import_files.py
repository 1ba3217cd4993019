"""Reading an import file: CSV or JSON bytes into rows of raw values; no validation of values.

A file that cannot be read at all (not UTF-8, not JSON, an unknown column) is refused whole
with ``Invalid("file", …)``; a row that cannot be read as a record carries its ``problem``.
Rows are numbered from 1: the first row after the CSV header, or the first array element.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

from ioc.core import uploads
from ioc.core.problems import Invalid

FORMATS = ("csv", "json")
COLUMNS = (
    "service_code",
    "channel",
    "description",
    "lat",
    "lon",
    "address",
    "requested_at",
    "first_name",
    "last_name",
    "phone",
    "email",
    "external_id",
)
ATTRIBUTE = re.compile(r"^attribute\[([a-z0-9_]+)\]$")


@dataclass(frozen=True)
class Record:
    """One row as read from the file, before validation."""

    row: int
    values: dict[str, Any]
    attributes: dict[str, Any] = field(default_factory=dict)
    problem: str | None = None  # the row could not even be read as a record


def detect_format(name: str | None, content_type: str | None, data: bytes) -> str:
    """csv or json, from the file name, then the media type, then the first character."""
    return uploads.detect_format(name, content_type, data, FORMATS)


def parse(data: bytes, fmt: str) -> list[Record]:
    """The file's rows; a file that cannot be read at all is refused as a whole."""
    if fmt == "csv":
        return _parse_csv(data)
    if fmt == "json":
        return _parse_json(data)
    raise Invalid("format", f"choose from {', '.join(FORMATS)}")


def _check_columns(names: Iterable[str]) -> None:
    unknown = sorted({n for n in names if n not in COLUMNS and not ATTRIBUTE.match(n)})
    if unknown:
        raise Invalid(
            "file",
            f"unknown column {unknown[0]!r}; the columns are {', '.join(COLUMNS)} "
            "and attribute[CODE] for a service's attributes",
        )


def _split(row: int, raw: dict[str, Any]) -> Record:
    values: dict[str, Any] = {}
    attributes: dict[str, Any] = {}
    for name, value in raw.items():
        match = ATTRIBUTE.match(name)
        if match:
            if value not in (None, ""):
                attributes[match.group(1)] = value
        elif name == "attributes":
            if not isinstance(value, dict):
                return Record(row, {}, problem="attributes must be an object")
            attributes.update({k: v for k, v in value.items() if v not in (None, "")})
        else:
            values[name] = value
    return Record(row, values, attributes)


def _parse_csv(data: bytes) -> list[Record]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid("file", "the file is not UTF-8 text; save it as 'CSV UTF-8'") from None
    first = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first.count)  # Excel in a Vietnamese locale may write ';'
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = next(reader, None)
    if not header or not any(h.strip() for h in header):
        raise Invalid("file", "the file is empty; the first line names the columns")
    names = [h.strip().lower() for h in header]
    _check_columns(n for n in names if n)
    records: list[Record] = []
    try:
        for number, cells in enumerate(reader, start=1):
            if not any(c.strip() for c in cells):
                continue  # blank lines, or a spreadsheet's trailing ";;;;" rows
            if len(cells) > len(names) and any(c.strip() for c in cells[len(names) :]):
                records.append(Record(number, {}, problem="more values than columns"))
                continue
            raw = {n: c for n, c in zip(names, cells, strict=False) if n}
            records.append(_split(number, raw))
    except csv.Error as exc:
        raise Invalid("file", f"cannot read the CSV after row {len(records)}: {exc}") from None
    return records


def _parse_json(data: bytes) -> list[Record]:
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise Invalid("file", f"the file is not valid JSON: {exc}") from None
    if isinstance(doc, dict) and isinstance(doc.get("rows"), list):
        doc = doc["rows"]
    if not isinstance(doc, list):
        raise Invalid("file", 'send a JSON array of objects, or {"rows": [...]}')
    _check_columns(
        str(k).lower() for item in doc if isinstance(item, dict) for k in item if k != "attributes"
    )
    records: list[Record] = []
    for number, item in enumerate(doc, start=1):
        if not isinstance(item, dict):
            records.append(Record(number, {}, problem="each row must be a JSON object"))
            continue
        records.append(_split(number, {str(k).lower(): v for k, v in item.items()}))
    return records

"""Open311 GeoReport v2 bodies in JSON and XML: services, requests, notices and errors.

Both formats are built from plain dicts in the spec's field order: JSON with orjson, XML with
ElementTree (lists become a container element holding one element per item, as the spec's
examples do: ``<attributes><attribute>…``). Rows of ``GET requests`` go straight from the
database row to the dict, with no model in between, so a list of 1,000 stays cheap.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import orjson
from fastapi.exceptions import RequestValidationError
from sqlalchemy.engine import Row
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException
from starlette.responses import Response

from ioc.core.http import BUSY
from ioc.core.problems import (
    Forbidden,
    Invalid,
    MalformedBody,
    NotFound,
    PayloadTooLarge,
    Problem,
    Unauthorized,
)
from ioc.core.workdays import VIETNAM_TZ
from ioc.feedback.models import OPEN_STATUSES, FeedbackService

log = logging.getLogger("ioc.open311")

Format = Literal["json", "xml"]
FORMATS: tuple[Format, ...] = ("json", "xml")
MEDIA_TYPES: dict[Format, str] = {
    "json": "application/json; charset=utf-8",
    "xml": "text/xml; charset=utf-8",
}
XML_DECLARATION = b'<?xml version="1.0" encoding="utf-8"?>\n'
# The element each item of a list gets inside its container element.
ITEM_ELEMENTS = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "endpoints": "endpoint",
    "formats": "format",
    "attributes": "attribute",
    "values": "value",
}
# Characters XML 1.0 cannot carry, even escaped; a description pasted from elsewhere may hold them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def format_of(value: str | None) -> Format:
    """The format named by a path's suffix; XML (the spec's required format) for anything else."""
    return "json" if value == "json" else "xml"


def format_of_path(path: str) -> Format:
    """The format a URL asks for by its last segment's suffix (``requests/7.json``)."""
    last = path.rpartition("/")[2]
    return format_of(last.rpartition(".")[2] if "." in last else None)


def iso(value: dt.datetime | None) -> str | None:
    """ISO 8601 in Vietnam's time, with its +07:00 offset as the spec asks."""
    return value.astimezone(VIETNAM_TZ).isoformat(timespec="seconds") if value else None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if value is True or value is False:
        return "true" if value else "false"
    text = value if isinstance(value, str) else str(value)
    return _NOT_XML.sub("", text) if _NOT_XML.search(text) else text


def _fill(parent: ET.Element, data: Mapping[str, Any]) -> None:
    sub = ET.SubElement
    for key, value in data.items():
        child = sub(parent, key)
        if isinstance(value, list):
            item_name = ITEM_ELEMENTS[key]
            for item in value:
                if isinstance(item, Mapping):
                    _fill(sub(child, item_name), item)
                else:
                    sub(child, item_name).text = _text(item)
        elif isinstance(value, Mapping):
            _fill(child, value)
        else:
            child.text = _text(value)


def to_xml(root: str, data: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> bytes:
    """``data`` under ``<root>``: a dict's keys as children, or a list's items as items."""
    element = ET.Element(root)
    if isinstance(data, Mapping):
        _fill(element, data)
    else:
        item_name = ITEM_ELEMENTS[root]
        for item in data:
            _fill(ET.SubElement(element, item_name), item)
    body: bytes = ET.tostring(element, encoding="utf-8")
    return XML_DECLARATION + body


def respond(
    fmt: Format,
    root: str,
    data: Mapping[str, Any] | Sequence[Mapping[str, Any]],
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """A JSON or XML response; ``root`` names the XML root element (JSON has none)."""
    body = orjson.dumps(data) if fmt == "json" else to_xml(root, data)
    return Response(body, status_code=status, headers=headers, media_type=MEDIA_TYPES[fmt])


# --- errors ------------------------------------------------------------------------------


def error_response(
    fmt: Format, status: int, description: str, headers: Mapping[str, str] | None = None
) -> Response:
    """The spec's error shape: ``[{code, description}]`` or ``<errors><error>…``."""
    return respond(fmt, "errors", [{"code": status, "description": description}], status, headers)


def _open311_status(exc: Problem) -> int:
    if isinstance(exc, Invalid | MalformedBody):
        return 400
    if isinstance(exc, Unauthorized | Forbidden):
        return 403  # the spec answers a missing or bad api_key with 403
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, PayloadTooLarge):
        return 413
    return exc.status


def problem_response(fmt: Format, exc: Problem) -> Response:
    """A typed ioc error in the Open311 shape; the description names the field at fault."""
    status = _open311_status(exc)
    description = exc.detail
    if status == 403 and not description.startswith("api_key"):
        description = f"api_key: {description}"
    headers = {k: v for k, v in exc.headers.items() if k.lower() != "www-authenticate"}
    return error_response(fmt, status, description, headers)


def _validation_description(exc: RequestValidationError) -> str:
    parts = []
    for error in list(exc.errors())[:5]:
        loc = [str(p) for p in error.get("loc", ()) if p not in ("query", "path", "body", "form")]
        parts.append(f"{'.'.join(loc) or 'request'}: {error.get('msg', 'is not valid')}")
    return "; ".join(parts) or "the request is not valid"


def exception_response(fmt: Format, exc: Exception) -> Response:
    """Any error met while answering an Open311 call, in the Open311 shape (one place)."""
    if isinstance(exc, HTTPException) and isinstance(exc.__cause__, Problem):
        exc = exc.__cause__  # FastAPI wraps errors raised while it reads the body
    if isinstance(exc, Problem):
        return problem_response(fmt, exc)
    if isinstance(exc, RequestValidationError):
        return error_response(fmt, 400, _validation_description(exc))
    if isinstance(exc, HTTPException):
        detail = exc.detail if isinstance(exc.detail, str) else "the request cannot be served"
        return error_response(fmt, exc.status_code, detail, exc.headers)
    if isinstance(exc, OperationalError):
        log.error("database error on an Open311 call: %s", exc)
        return error_response(fmt, 503, "the database is not answering; try again")
    if isinstance(exc, PoolTimeout):
        log.warning("no database connection free for an Open311 call: %s", exc)
        return problem_response(fmt, BUSY)
    log.exception("unhandled error on an Open311 call", exc_info=exc)
    return error_response(fmt, 500, "something went wrong on our side; the error has been logged")


# --- services ------------------------------------------------------------------------------


def service_dict(service: FeedbackService, lang: str) -> dict[str, Any]:
    """One entry of ``GET services``; names in Vietnamese, or English when ``lang`` is en."""
    en = lang == "en"
    return {
        "service_code": service.code,
        "service_name": (service.name_en if en else service.name) or service.name,
        "description": (service.description_en if en else service.description) or "",
        "metadata": bool(service.attributes),
        "type": "realtime",
        "keywords": service.keywords,
        "group": (service.group_en if en else service.group) or service.group,
    }


def _attribute_dict(spec: Mapping[str, Any]) -> dict[str, Any]:
    out = {
        "variable": bool(spec.get("variable", True)),
        "code": spec["code"],
        "datatype": spec["datatype"],
        "required": bool(spec.get("required", False)),
        "datatype_description": spec.get("datatype_description") or "",
        "order": int(spec.get("order", 1)),
        "description": spec.get("description", ""),
    }
    if spec["datatype"] in ("singlevaluelist", "multivaluelist"):
        out["values"] = [{"key": v["key"], "name": v["name"]} for v in spec.get("values", [])]
    return out


def definition_dict(service: FeedbackService) -> dict[str, Any]:
    """``GET services/{code}``: the attributes a client asks for, in their order."""
    attributes = sorted(service.attributes, key=lambda a: (int(a.get("order", 1)), a["code"]))
    return {"service_code": service.code, "attributes": [_attribute_dict(a) for a in attributes]}


# --- requests ------------------------------------------------------------------------------


def notice(expected: dt.datetime | None, duplicate_of: int | None = None) -> str:
    """A short Vietnamese + English notice: the due date, and a likely duplicate if any."""
    parts = []
    if expected is not None:
        day = expected.astimezone(VIETNAM_TZ).date()
        parts.append(
            f"Đã tiếp nhận, hạn giải quyết {day:%d/%m/%Y}. Received; due by {day.isoformat()}."
        )
    else:
        parts.append("Đã tiếp nhận. Received.")
    if duplicate_of is not None:
        parts.append(
            f"Có thể trùng phản ánh số {duplicate_of}. Possibly a duplicate of request "
            f"{duplicate_of}."
        )
    return " ".join(parts)


def request_dict(row: Row[Any]) -> dict[str, Any]:
    """One request of ``GET requests`` from a row of ``open311_query.request_columns``.

    Contact details (names, email, phone, device and account ids) are not selected at all.
    """
    return {
        "service_request_id": row.id,
        "status": "open" if row.status in OPEN_STATUSES else "closed",
        "status_notes": row.status_notes,
        "service_name": row.service_name,
        "service_code": row.service_code,
        "description": row.description,
        "agency_responsible": row.agency_responsible,
        "service_notice": notice(row.expected_at, row.likely_duplicate_of),
        "requested_datetime": iso(row.requested_at),
        "updated_datetime": iso(row.updated_at),
        "expected_datetime": iso(row.expected_at),
        "address": row.address,
        "address_id": row.address_id,
        "zipcode": None,
        "lat": row.lat,
        "long": row.lon,
        "media_url": row.media_url,
    }

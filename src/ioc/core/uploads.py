"""Import files sent over HTTP: a multipart form field ``file`` or the raw request body.

Every capability that imports rows (feedback messages, dossiers…) reads its upload the same
way and names the format the same way, so one client script serves them all: the file name's
extension wins, then the media type, then a look at the first bytes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request

from ioc.core.problems import Invalid, Problem

CSV_MEDIA = ("text/csv", "application/csv", "application/vnd.ms-excel")
XLSX_MEDIA = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_BOM_AND_SPACE = b"\xef\xbb\xbf \t\r\n"


class UnsupportedMediaType(Problem):
    status = 415
    slug = "unsupported-media-type"
    title = "Unsupported media type"


@dataclass(frozen=True, slots=True)
class Upload:
    """The bytes of an import and the format they were read as (csv, json, xlsx)."""

    data: bytes
    fmt: str


def detect_format(
    name: str | None, content_type: str | None, data: bytes, formats: tuple[str, ...]
) -> str:
    """One of ``formats``: from the file name, then the media type, then the first bytes."""
    lowered = (name or "").lower()
    for fmt in formats:
        if lowered.endswith("." + fmt):
            return fmt
    media = (content_type or "").split(";")[0].strip().lower()
    if "xlsx" in formats and (media == XLSX_MEDIA or data[:2] == b"PK"):  # a zip: a workbook
        return "xlsx"
    if media.endswith("json"):
        return "json"
    if media in CSV_MEDIA:
        return "csv"
    return "json" if data.lstrip(_BOM_AND_SPACE)[:1] in (b"[", b"{") else "csv"


def _raw_media(formats: tuple[str, ...]) -> dict[str, str]:
    known = {"application/json": "json", XLSX_MEDIA: "xlsx"} | dict.fromkeys(CSV_MEDIA, "csv")
    return {media: fmt for media, fmt in known.items() if fmt in formats}


def upload_reader(formats: tuple[str, ...]) -> Callable[[Request], Awaitable[Upload]]:
    """A FastAPI dependency reading an upload in one of ``formats``; 415 for any other body."""
    raw = _raw_media(formats)
    names = "/".join(f.upper() for f in formats)

    async def read_upload(request: Request) -> Upload:
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media == "multipart/form-data":
            async with request.form() as form:  # closes the spooled file
                file = form.get("file")
                if not isinstance(file, UploadFile):
                    raise Invalid("file", "send the file in a form field named 'file'")
                data = await file.read()
                return Upload(data, detect_format(file.filename, file.content_type, data, formats))
        if media in raw:
            return Upload(await request.body(), raw[media])
        raise UnsupportedMediaType(
            f"send multipart/form-data with a 'file' field, or a {names} body"
        )

    return read_upload


def openapi_body(formats: tuple[str, ...]) -> dict[str, Any]:
    """The ``openapi_extra`` describing what :func:`upload_reader` accepts."""
    content: dict[str, Any] = {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary"}},
                "required": ["file"],
            }
        }
    }
    schemas = {
        "json": {"type": "array", "items": {"type": "object"}},
        "csv": {"type": "string"},
        "xlsx": {"type": "string", "format": "binary"},
    }
    for media, fmt in _raw_media(formats).items():
        if media not in CSV_MEDIA[1:]:  # one CSV media type is enough for a description
            content[media] = {"schema": schemas[fmt]}
    return {"requestBody": {"required": True, "content": content}}

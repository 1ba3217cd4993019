"""Citizens' photos: stored as files under ``IOC_WEB_MEDIA_DIR``, named by their SHA-256, served
back at ``/ui/media/<name>``; the report then carries that address as its Open311 ``media_url``.

Only JPEG, PNG and WebP are taken, recognised by their first bytes rather than by what the
browser claims; a photo already stored keeps its name, so sending it twice stores it once.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from ioc.core.config import Settings
from ioc.core.problems import Invalid, NotFound
from ioc.web.api import citizen_limiter

router = APIRouter(tags=["feedback: citizens"])
MAX_PHOTO_BYTES = 5 * 1024 * 1024
NAME = re.compile(r"^[0-9a-f]{64}\.(jpg|png|webp)$")


class PhotoOut(BaseModel):
    media_url: str
    bytes: int


def kind_of(data: bytes) -> str | None:
    """The photo's extension from its magic bytes, or None if it is not JPEG, PNG or WebP."""
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def media_dir(settings: Settings) -> Path:
    return Path(settings.web_media_dir)


def store(folder: Path, data: bytes) -> str:
    """Write the photo once under its hash; returns its file name."""
    kind = kind_of(data)
    if kind is None:
        raise Invalid("file", "send a JPEG, PNG or WebP photo")
    name = f"{hashlib.sha256(data).hexdigest()}.{kind}"
    target = folder / name
    if not target.exists():
        folder.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".part")
        partial.write_bytes(data)
        partial.replace(target)  # readers never see half a photo
    return name


@router.post("/api/v1/web/citizen/photos", status_code=201)
async def upload_photo(request: Request) -> PhotoOut:
    """A photo for a report (multipart field ``file``, at most 5 MB); returns its media_url."""
    settings: Settings = request.app.state.settings
    citizen_limiter(request, settings).check(
        request.client.host if request.client else "?", "address"
    )
    async with request.form(max_files=1, max_fields=1) as form:
        file = form.get("file")
        if not isinstance(file, UploadFile):
            raise Invalid("file", "send the photo in a multipart field named 'file'")
        data = await file.read(MAX_PHOTO_BYTES + 1)
    if len(data) > MAX_PHOTO_BYTES:
        raise Invalid("file", f"a photo may be at most {MAX_PHOTO_BYTES // (1024 * 1024)} MB")
    name = await run_in_threadpool(store, media_dir(settings), data)
    return PhotoOut(media_url=str(request.url_for("photo", name=name)), bytes=len(data))


@router.get("/ui/media/{name}", name="photo", include_in_schema=False)
def photo(name: str, request: Request) -> FileResponse:
    """A stored photo; names are hashes, so it never changes and may be cached for long."""
    path = media_dir(request.app.state.settings) / name
    if not NAME.match(name) or not path.is_file():
        raise NotFound("no such photo")
    return FileResponse(path, headers={"Cache-Control": "public, max-age=31536000, immutable"})

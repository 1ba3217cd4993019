"""Typed errors raised by services, and their RFC 9457 problem+json rendering."""

from __future__ import annotations

from typing import Any

PROBLEM_BASE = "https://ioc.example/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"


class Problem(Exception):
    """A failure a client can act on; carries its HTTP status and a stable type slug."""

    status = 400
    slug = "bad-request"
    title = "Bad request"

    def __init__(
        self,
        detail: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []
        self.headers = headers or {}
        self.extra = extra

    def to_dict(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": PROBLEM_BASE + self.slug,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        if self.errors:
            body["errors"] = self.errors
        body.update(self.extra)
        return body


class Invalid(Problem):
    """A value the client sent is wrong; ``field`` names it (dotted path)."""

    status = 422
    slug = "invalid-field"
    title = "Invalid field"

    def __init__(self, field: str, message: str, **extra: Any) -> None:
        super().__init__(
            f"{field}: {message}", errors=[{"field": field, "message": message}], **extra
        )
        self.field = field


class MalformedBody(Problem):
    status = 400
    slug = "malformed-body"
    title = "Malformed request body"


class Unauthorized(Problem):
    status = 401
    slug = "unauthorized"
    title = "Authentication required"

    def __init__(self, detail: str = "log in or send an API key", **extra: Any) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"}, **extra)


class Forbidden(Problem):
    status = 403
    slug = "forbidden"
    title = "Not allowed"


class NotFound(Problem):
    status = 404
    slug = "not-found"
    title = "Not found"


class Conflict(Problem):
    status = 409
    slug = "conflict"
    title = "Conflict"


class PayloadTooLarge(Problem):
    status = 413
    slug = "payload-too-large"
    title = "Request body too large"


class ServiceUnavailable(Problem):
    status = 503
    slug = "unavailable"
    title = "Service unavailable"

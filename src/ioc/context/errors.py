"""NGSI-LD ProblemDetails: the error types of ETSI GS CIM 009 and their HTTP status codes."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

from ioc.core.problems import Problem

ERRORS_BASE = "https://uri.etsi.org/ngsi-ld/errors/"
MEDIA_TYPE = "application/json"  # the spec answers errors as plain JSON ProblemDetails


class NgsiError(Problem):
    """An error with an ETSI-defined type URI; ``slug`` is the type's last segment."""

    def to_dict(self, instance: str | None = None) -> dict[str, Any]:
        body = super().to_dict(instance)
        body["type"] = ERRORS_BASE + self.slug
        return body


class InvalidRequest(NgsiError):
    """The request is not well formed: the body is not JSON, a parameter cannot be parsed."""

    status = 400
    slug = "InvalidRequest"
    title = "Invalid request"


class BadRequestData(NgsiError):
    """Well-formed, but the content is wrong: an attribute's shape, an id, a geometry…"""

    status = 400
    slug = "BadRequestData"
    title = "Bad request data"


class ResourceNotFound(NgsiError):
    status = 404
    slug = "ResourceNotFound"
    title = "Resource not found"


class NonexistentTenant(NgsiError):
    status = 404
    slug = "NonexistentTenant"
    title = "Nonexistent tenant"


class AlreadyExists(NgsiError):
    status = 409
    slug = "AlreadyExists"
    title = "Already exists"


class OperationNotSupported(NgsiError):
    status = 422
    slug = "OperationNotSupported"
    title = "Operation not supported"


class TooComplexQuery(NgsiError):
    status = 403
    slug = "TooComplexQuery"
    title = "Too complex query"


class TooManyResults(NgsiError):
    status = 403
    slug = "TooManyResults"
    title = "Too many results"


class LdContextNotAvailable(NgsiError):
    status = 503
    slug = "LdContextNotAvailable"
    title = "JSON-LD @context not available"


class InternalError(NgsiError):
    status = 500
    slug = "InternalError"
    title = "Internal error"


def problem_details(exc: Problem, instance: str | None = None) -> dict[str, Any]:
    """The ProblemDetails body of any typed error (core problems keep their own type URI)."""
    return exc.to_dict(instance)


def error_response(exc: Problem, instance: str | None = None) -> Response:
    """An error as the spec answers it: ``application/json`` ProblemDetails."""
    return Response(
        orjson.dumps(problem_details(exc, instance)),
        status_code=exc.status,
        headers=exc.headers or None,
        media_type=MEDIA_TYPE,
    )


class NotAcceptable(Problem):
    """No representation the client accepts (the spec fixes the status, not a type)."""

    status = 406
    slug = "not-acceptable"
    title = "Not acceptable"


class UnsupportedMediaType(Problem):
    status = 415
    slug = "unsupported-media-type"
    title = "Unsupported media type"


class MethodNotAllowed(Problem):
    status = 405
    slug = "method-not-allowed"
    title = "Method not allowed"

"""Open311 GeoReport v2 at ``/open311/v2/``, in JSON and XML (``.json`` / ``.xml`` suffix).

Names are Vietnamese unless ``?lang=en`` (or ``Accept-Language: en``) asks for English.
``POST requests`` needs an ioc API key (``api_key`` form field) and is rate-limited per key
and per client address. Contact details sent with a request are stored for staff only and
never appear in an Open311 response. Every error leaves in the spec's shape.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from functools import partial
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session
from starlette.responses import Response
from starlette.routing import Route

from ioc.core.admission import Gate
from ioc.core.auth import from_api_key
from ioc.core.config import Settings
from ioc.core.db import utcnow
from ioc.core.deps import SessionDep, SettingsDep
from ioc.core.group_writer import GroupWriter
from ioc.core.http import register_error_shape
from ioc.core.problems import Invalid, NotFound, Problem, Unauthorized
from ioc.core.ratelimit import SlidingWindowLimiter
from ioc.feedback import open311_query as query
from ioc.feedback.open311_format import (
    FORMATS,
    Format,
    definition_dict,
    exception_response,
    format_of_path,
    iso,
    notice,
    problem_response,
    request_dict,
    respond,
    service_dict,
)
from ioc.feedback.service import DuplicateRule, Submitted, by_token, submit

PREFIX = "/open311/v2"
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# ``POST requests`` hands reports to one writer thread that stores those waiting together in
# one transaction (``ioc.core.group_writer``). At most POST_SLOTS are in its line at once; the
# rest wait on the event loop, and one still waiting after POST_WAIT_SECONDS is answered 503
# with Retry-After at once, rather than queueing past what a client would wait for.
POST_SLOTS = 64
POST_WAIT_SECONDS = 1.0


class Open311Route(APIRoute):
    """A route whose every error is answered in the Open311 shape and the URL's format."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def answer(request: Request) -> Response:
            try:
                return await handler(request)
            except Exception as exc:  # one place turns every error into the spec's shape
                return exception_response(format_of_path(request.url.path), exc)

        return answer


def _oversized(path: str, exc: Problem) -> Response:
    return problem_response(format_of_path(path), exc)


# The body limit answers before any route runs: give it the Open311 shape under our prefix.
register_error_shape(PREFIX + "/", _oversized)


async def jurisdiction(
    settings: SettingsDep,
    jurisdiction_id: Annotated[
        str | None, Query(description="accepted everywhere; must match IOC_OPEN311_JURISDICTION")
    ] = None,
) -> None:
    check_jurisdiction(settings, jurisdiction_id)


def check_jurisdiction(settings: Settings, value: str | None) -> None:
    """When the server names its jurisdiction, another one is not found here."""
    expected = settings.open311_jurisdiction
    if expected and value and value.strip() != expected:
        raise NotFound(f"jurisdiction_id: {value!r} is not served here (this is {expected!r})")


router = APIRouter(
    prefix=PREFIX,
    tags=["open311"],
    route_class=Open311Route,
    dependencies=[Depends(jurisdiction)],
)


async def path_format(fmt: Annotated[str, Path(description="json or xml")]) -> Format:
    for known in FORMATS:
        if fmt == known:
            return known
    raise NotFound(f"unknown format {fmt!r}: end the path with .json or .xml")


def preferred_language(header: str) -> str:
    """``en`` when English is the Accept-Language header's first choice, else ``vi``."""
    best, best_q = "", 0.0
    for part in header.split(","):
        tag, _, params = part.partition(";")
        q = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                q = float(params[2:])
            except ValueError:
                q = 0.0
        if tag.strip() and q > best_q:
            best, best_q = tag.strip().lower(), q
    return "en" if best.startswith("en") else "vi"


async def language(
    request: Request,
    lang: Annotated[
        str | None, Query(description="vi (default) or en; else the Accept-Language header")
    ] = None,
) -> str:
    if lang:
        return "en" if lang.strip().lower().startswith("en") else "vi"
    return preferred_language(request.headers.get("accept-language", ""))


Fmt = Annotated[Format, Depends(path_format)]
Lang = Annotated[str, Depends(language)]


@router.get("/discovery.{fmt}")
def discovery(fmt: Fmt, request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    """Service discovery: where this endpoint is, its formats, and whom to ask for a key."""
    # The catalogue's last change tells clients to refresh their cached services.
    changeset = iso(query.catalogue_changed(session)) or "2025-01-01T00:00:00+07:00"
    province = settings.province_name
    data = {
        "changeset": changeset,
        "contact": f"Trung tâm Điều hành thông minh tỉnh {province} / {province} IOC",
        "key_service": "Xin API key tại quản trị IOC / Ask the IOC administrator for an API key",
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": str(request.base_url).rstrip("/") + PREFIX,
                "changeset": changeset,
                "type": "production" if settings.environment == "production" else "test",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
    return respond(fmt, "discovery", data)


@router.get("/services.{fmt}")
def services(fmt: Fmt, lang: Lang, session: SessionDep) -> Response:
    """The categories citizens can report under; ``metadata`` true when they have attributes."""
    rows = query.active_services(session)
    return respond(fmt, "services", [service_dict(s, lang) for s in rows])


@router.get("/services/{service_code}.{fmt}")
def service_definition(fmt: Fmt, service_code: str, session: SessionDep) -> Response:
    """A service's attributes (questions), with the allowed values of list attributes."""
    return respond(
        fmt, "service_definition", definition_dict(query.active_service(session, code=service_code))
    )


@dataclass(frozen=True)
class PostLimits:
    """The ``POST requests`` limiters of one app (per process, see ioc.core.ratelimit)."""

    per_key: SlidingWindowLimiter
    per_address: SlidingWindowLimiter
    gate: Gate
    writer: GroupWriter


def post_limits(request: Request, settings: Settings) -> PostLimits:
    state = request.app.state
    limits: PostLimits | None = getattr(state, "open311_post_limits", None)
    if limits is None:
        limits = PostLimits(
            SlidingWindowLimiter(settings.open311_posts_per_minute_key),
            SlidingWindowLimiter(settings.open311_posts_per_minute_ip),
            Gate(POST_SLOTS, POST_WAIT_SECONDS, "reports"),
            GroupWriter(request.app.state.database.sessionmaker, name="open311-writer"),
        )
        state.open311_post_limits = limits
    return limits


def _store(
    session: Session,
    secret: str,
    posted: query.PostedForm,
    per_key: SlidingWindowLimiter,
    rule: DuplicateRule,
) -> Submitted:
    """Check the key, count it, and store the request: one job of the writer's group.

    Nothing is written before every check has passed, so a refused report (a ``Problem``)
    leaves the others of its group to commit.
    """
    principal = from_api_key(session, secret)
    key_id = principal.id
    if key_id is None:  # never for a key; keeps the type checker and the reader sure
        raise Unauthorized("api_key: not an API key")
    per_key.check(key_id, "API key")
    session.info["actor"] = principal.actor
    return submit(session, query.submission(posted, key_id), rule)


POST_FIELDS = (
    "api_key",
    "jurisdiction_id",
    "service_code",
    "lat",
    "long",
    "address_string",
    "address_id",
    "email",
    "device_id",
    "account_id",
    "first_name",
    "last_name",
    "phone",
    "description",
    "media_url",
)
POST_FORM = {
    "type": "object",
    "required": ["api_key", "service_code"],
    "properties": {name: {"type": "string"} for name in POST_FIELDS},
    "additionalProperties": {"type": "string", "description": "attribute[code], attribute[code][]"},
}


@router.post(
    "/requests.{fmt}",
    openapi_extra={
        "requestBody": {"content": {"application/x-www-form-urlencoded": {"schema": POST_FORM}}}
    },
)
async def post_request(fmt: Fmt, request: Request, settings: SettingsDep) -> Response:
    """Report something (form fields of the spec, ``attribute[code]`` / ``attribute[code][]``)."""
    return await _post_report(request, fmt, settings)


FORM_URLENCODED = "application/x-www-form-urlencoded"
MAX_FORM_FIELDS = 200  # far more than the spec's fields and any service's attributes


async def _read_posted(request: Request) -> query.PostedForm:
    """The posted fields: a urlencoded body parsed at once, anything else by Starlette."""
    media = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media != FORM_URLENCODED:  # multipart (files are refused by read_form), or nothing
        async with request.form() as form:
            return query.read_form(form.multi_items())
    body = await request.body()
    try:
        pairs = parse_qsl(
            body.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS
        )
    except UnicodeDecodeError:
        raise Invalid("body", "the form must be UTF-8 (percent-encoded)") from None
    except ValueError:
        raise Invalid("body", f"at most {MAX_FORM_FIELDS} form fields") from None
    return query.read_form(pairs)


async def _post_report(request: Request, fmt: Format, settings: Settings) -> Response:
    """The work of ``POST requests``, whichever route (``post_route`` or the router's) took it."""
    limits = post_limits(request, settings)
    limits.per_address.check(request.client.host if request.client else "?", "address")
    posted = await _read_posted(request)
    check_jurisdiction(settings, posted.text("jurisdiction_id"))
    secret = posted.text("api_key")
    if secret is None:
        raise Unauthorized("api_key: an ioc API key is required to submit a request")
    rule = DuplicateRule(settings.feedback_duplicate_radius_m, settings.feedback_duplicate_days)
    request_id = getattr(request.state, "request_id", None)
    async with limits.gate.enter():
        submitted = await limits.writer.run(
            partial(_store, secret=secret, posted=posted, per_key=limits.per_key, rule=rule),
            "open311",
            request_id,
        )
    req = submitted.request
    duplicate = req.likely_duplicate_of
    item = {
        "service_request_id": req.id,
        "token": submitted.token,
        "service_notice": notice(req.expected_at, duplicate),
        "account_id": None,  # the spec's field; a citizen's account id is never echoed back
    }
    return respond(fmt, "service_requests", [item])


async def _lean_post(request: Request) -> Response:
    """``POST requests`` with the checks the router's dependencies make, done by hand."""
    try:
        fmt = await path_format(request.path_params["fmt"])
        settings: Settings = request.app.state.settings
        check_jurisdiction(settings, request.query_params.get("jurisdiction_id"))
        return await _post_report(request, fmt, settings)
    except Exception as exc:  # as Open311Route does: every error in the spec's shape
        return exception_response(format_of_path(request.scope["path"]), exc)


# Tried before the routers (``ioc.app.MOUNTS``): the busiest Open311 call skips FastAPI's route
# scanning and dependency solving, which cost more than the rest of its work on the event loop.
# Other methods on the path go on to the router, whose ``post_request`` describes this one.
post_route = Route(PREFIX + "/requests.{fmt}", _lean_post, methods=["POST"])


@router.get("/tokens/{token}.{fmt}")
def token_request(fmt: Fmt, token: str, session: SessionDep) -> Response:
    """The request id behind the token a ``POST requests`` answer gave."""
    req = by_token(session, token)
    return respond(fmt, "service_requests", [{"service_request_id": req.id, "token": token}])


@router.get("/requests.{fmt}")
def get_requests(
    fmt: Fmt,
    lang: Lang,
    session: SessionDep,
    service_request_id: str | None = None,
    service_code: str | None = None,
    start_date: str | None = None,
    end_date: str | None = None,
    status: str | None = None,
) -> Response:
    """Requests, newest first, at most 1,000; the last 90 days unless dates say otherwise.

    ``service_request_id`` (comma list) overrides every other filter; ``service_code`` and
    ``status`` (open, closed) take comma lists; a date window may span at most 90 days.
    """
    flt = query.parse_filter(
        session,
        utcnow(),
        service_request_id=service_request_id,
        service_code=service_code,
        start_date=start_date,
        end_date=end_date,
        status=status,
    )
    rows = query.find_requests(session, flt, lang)
    return respond(fmt, "service_requests", [request_dict(r) for r in rows])


@router.get("/requests/{service_request_id}.{fmt}")
def get_request(fmt: Fmt, service_request_id: str, lang: Lang, session: SessionDep) -> Response:
    """One request, as a list of one (the spec's shape)."""
    row = query.find_request(session, service_request_id, lang)
    return respond(fmt, "service_requests", [request_dict(row)])


@router.api_route(
    "/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False
)
async def unknown(rest: str) -> Response:
    """Anything else under the prefix: an Open311 404 rather than problem+json."""
    raise NotFound(
        f"no Open311 resource {rest!r}: see {PREFIX}/discovery.json; paths end in .json or .xml"
    )

"""OGC API – Features Part 1 (Core, GeoJSON, HTML, OAS 3.0) at ``/ogcapi``.

Reading layers needs no login (they are the province's open map data); parcels show holders
only to authorised users inside their scope (``ioc.gis.land_sources``). Bad parameters are
400 problem+json naming the parameter, as the standard asks (not 422).
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from ioc.core.deps import MaybePrincipal, SessionDep
from ioc.core.problems import Invalid
from ioc.gis import html, query
from ioc.gis.collections import Source, get_source, registry

router = APIRouter(prefix="/ogcapi", tags=["OGC API – Features"])

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
]
JSON = "application/json"
GEOJSON = "application/geo+json"
HTML = "text/html"


class BadParameter(Invalid):
    """A query parameter OGC API – Features says is a 400, not a 422."""

    status = 400
    slug = "invalid-parameter"
    title = "Invalid query parameter"


def _html_wanted(request: Request) -> bool:
    f = request.query_params.get("f")
    if f is not None:
        if f not in ("json", "html"):
            raise BadParameter("f", "json or html")
        return f == "html"
    accept = request.headers.get("accept", "").lower()
    if "text/html" not in accept:
        return False
    return "json" not in accept or accept.index("text/html") < accept.index("json")


def _broker(request: Request) -> Any:
    """The app's NGSI-LD broker, through which the devices' collections are read."""
    from ioc.context.api import runtime

    return runtime(request.app).broker


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + router.prefix


def _url(request: Request, path: str, **params: Any) -> str:
    clean = {k: v for k, v in params.items() if v is not None}
    return f"{_base(request)}{path}" + (f"?{urlencode(clean)}" if clean else "")


def _links(request: Request, path: str, media: str, title: str) -> list[dict[str, str]]:
    return [
        {"href": _url(request, path, f="json"), "rel": "self", "type": media, "title": title},
        {"href": _url(request, path, f="html"), "rel": "alternate", "type": HTML, "title": title},
    ]


def _json(doc: dict[str, Any], media: str = JSON) -> Response:
    return Response(orjson.dumps(doc), media_type=media)


@router.get("", include_in_schema=False)
@router.get("/", summary="Landing page")
def landing(request: Request) -> Response:
    """Links to the API description, the conformance declaration and the collections."""
    doc = {
        "title": "ioc — GIS and land information",
        "description": "Layers, land parcels and planning zones of the province",
        "links": [
            *_links(request, "/", JSON, "this document"),
            {"href": str(request.base_url) + "openapi.json", "rel": "service-desc",
             "type": "application/vnd.oai.openapi+json;version=3.0", "title": "the API definition"},
            {"href": str(request.base_url) + "docs", "rel": "service-doc", "type": HTML,
             "title": "the API documentation"},
            {"href": _url(request, "/conformance"), "rel": "conformance", "type": JSON,
             "title": "conformance classes"},
            {"href": _url(request, "/collections"), "rel": "data", "type": JSON,
             "title": "the collections"},
        ],
    }  # fmt: skip
    return html.page("landing", doc) if _html_wanted(request) else _json(doc)


@router.get("/conformance", summary="Conformance declaration")
def conformance(request: Request) -> Response:
    doc = {"conformsTo": CONFORMANCE}
    return html.page("conformance", doc) if _html_wanted(request) else _json(doc)


def _describe(request: Request, source: Source, extent: Any) -> dict[str, Any]:
    path = f"/collections/{source.id}"
    doc: dict[str, Any] = {
        "id": source.id,
        "title": source.title,
        "description": source.description,
        "itemType": "feature",
        "crs": [CRS84],
        "links": [
            *_links(request, path, JSON, source.title),
            {"href": _url(request, path + "/items", f="json"), "rel": "items", "type": GEOJSON,
             "title": source.title},
            {"href": _url(request, path + "/items", f="html"), "rel": "items", "type": HTML,
             "title": source.title},
            {"href": _url(request, path + "/queryables"),
             "rel": "http://www.opengis.net/def/rel/ogc/1.0/queryables",
             "type": "application/schema+json", "title": "queryables"},
        ],
    }  # fmt: skip
    if extent.bbox is not None:
        doc["extent"] = {"spatial": {"bbox": [list(extent.bbox)], "crs": CRS84}}
    return doc


@router.get("/collections", summary="The collections")
def collections(request: Request, session: SessionDep) -> Response:
    sources = registry(session, _broker(request))
    doc = {
        "links": _links(request, "/collections", JSON, "collections"),
        "collections": [_describe(request, s, s.extent(session)) for s in sources.values()],
    }
    return html.page("collections", doc) if _html_wanted(request) else _json(doc)


@router.get("/collections/{collection_id}", summary="One collection")
def collection(collection_id: str, request: Request, session: SessionDep) -> Response:
    source = get_source(session, collection_id, _broker(request))
    doc = _describe(request, source, source.extent(session))
    return html.page("collection", doc) if _html_wanted(request) else _json(doc)


@router.get("/collections/{collection_id}/queryables", summary="Properties to filter items by")
def queryables(collection_id: str, request: Request, session: SessionDep) -> Response:
    source = get_source(session, collection_id, _broker(request))
    doc = {
        "$schema": "https://json-schema.org/draft/2019-09/schema",
        "$id": _url(request, f"/collections/{collection_id}/queryables"),
        "type": "object",
        "title": source.title,
        "properties": {name: {"type": kind if kind in ("integer", "number") else "string"}
                       for name, kind in source.queryables.items()},
    }  # fmt: skip
    return Response(orjson.dumps(doc), media_type="application/schema+json")


def _parse(request: Request, source: Source) -> query.ItemsQuery:
    try:
        return query.parse(dict(request.query_params), source.queryables)
    except Invalid as exc:
        raise BadParameter(exc.field, exc.errors[0]["message"]) from None


@router.get(
    "/collections/{collection_id}/items",
    summary="Features of a collection",
    description="Filters: bbox (CRS84), datetime (instant or interval), limit, offset, and "
    "any queryable property as ?name=value. Pages link to the next and previous ones.",
)
async def items(
    collection_id: str, request: Request, session: SessionDep, principal: MaybePrincipal
) -> Response:
    def work() -> tuple[bool, dict[str, Any]]:
        source = get_source(session, collection_id, _broker(request))
        wanted_html = _html_wanted(request)
        q = _parse(request, source)
        try:
            found, matched = source.items(session, principal, q)
        except BadParameter:
            raise
        except Invalid as exc:  # a parameter another capability's reader refused
            raise BadParameter(exc.field, exc.errors[0]["message"]) from None
        return wanted_html, _collection_doc(request, source, q, found, matched)

    wanted_html, doc = await run_in_threadpool(work)
    return html.page("items", doc) if wanted_html else _json(doc, GEOJSON)


def _collection_doc(
    request: Request, source: Source, q: query.ItemsQuery, found: list[Any], matched: int
) -> dict[str, Any]:
    path = f"/collections/{source.id}/items"
    params = {k: v for k, v in request.query_params.items() if k not in ("f", "offset")}
    links = [
        {"href": _url(request, path, **params, offset=q.offset or None, f="json"), "rel": "self",
         "type": GEOJSON, "title": "this page"},
        {"href": _url(request, path, **params, offset=q.offset or None, f="html"),
         "rel": "alternate", "type": HTML, "title": "this page as HTML"},
        {"href": _url(request, f"/collections/{source.id}"), "rel": "collection", "type": JSON,
         "title": source.title},
    ]  # fmt: skip
    if q.offset + len(found) < matched:
        nxt = _url(request, path, **params, offset=q.offset + q.limit, f="json")
        links.append({"href": nxt, "rel": "next", "type": GEOJSON, "title": "next page"})
    if q.offset > 0:
        prev = _url(request, path, **params, offset=max(q.offset - q.limit, 0) or None, f="json")
        links.append({"href": prev, "rel": "prev", "type": GEOJSON, "title": "previous page"})
    return {
        "type": "FeatureCollection",
        "features": found,
        "numberMatched": matched,
        "numberReturned": len(found),
        "timeStamp": dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "links": links,
        "title": source.title,
    }


@router.get("/collections/{collection_id}/items/{feature_id}", summary="One feature")
def item(
    collection_id: str, feature_id: str, request: Request, session: SessionDep,
    principal: MaybePrincipal,
) -> Response:  # fmt: skip
    source = get_source(session, collection_id, _broker(request))
    wanted_html = _html_wanted(request)
    found = source.item(session, principal, feature_id)
    path = f"/collections/{collection_id}/items/{feature_id}"
    found["links"] = [
        *_links(request, path, GEOJSON, "this feature"),
        {"href": _url(request, f"/collections/{collection_id}"), "rel": "collection",
         "type": JSON, "title": source.title},
    ]  # fmt: skip
    return html.page("item", found) if wanted_html else _json(found, GEOJSON)

"""The NGSI-LD paths in the app's OpenAPI document.

The API itself is served by ``ioc.context.api.NgsiApp``, mounted ahead of every router; these
routes exist to be described (their signatures are the parameters). Should a request ever
reach one, it is handed to the same app.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Path, Query
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from ioc.context.api import PREFIX, mount


class _Forward(Response):
    """A response that lets the NGSI-LD app answer the request instead."""

    def __init__(self) -> None:
        super().__init__()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await mount.app(scope, receive, send)


class Described(APIRoute):
    """Documented from its signature, served by the NGSI-LD app."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        async def forward(_: Request) -> Response:
            return _Forward()

        return forward


Tenant = Annotated[
    str | None,
    Header(alias="NGSILD-Tenant", description="tenant; created by its first write"),
]
Link = Annotated[
    str | None,
    Header(
        description='the @context: <URL>; rel="http://www.w3.org/ns/json-ld#context"; '
        'type="application/ld+json"'
    ),
]
Accept = Annotated[
    str | None, Header(description="application/json (default) or application/ld+json")
]
EntityId = Annotated[str, Path(description="the entity's URI (percent-encode / and #)")]
AttrId = Annotated[str, Path(description="an attribute name (a term or an IRI)")]
Attrs = Annotated[str | None, Query(description="only these attributes (comma-separated)")]
Options = Annotated[
    str | None,
    Query(description="keyValues, concise, sysAttrs (retrieval); noOverwrite (append)"),
]
Format = Annotated[str | None, Query(description="normalized, keyValues or concise")]
Entity = Annotated[
    dict[str, Any],
    Body(description="an NGSI-LD entity: id (URI), type, and attributes by name"),
]
Fragment = Annotated[dict[str, Any], Body(description="attributes by name")]
Entities = Annotated[list[Any], Body(description="entities (ids for delete)")]
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "BadRequestData or InvalidRequest (ProblemDetails)"},
    401: {"description": "no credentials for this tenant"},
    404: {"description": "ResourceNotFound, NonexistentTenant"},
    503: {"description": "LdContextNotAvailable: the @context is neither cached nor reachable"},
}

router = APIRouter(prefix=PREFIX, tags=["ngsi-ld"], route_class=Described, responses=ERRORS)


@router.get("/entities", summary="Query entities")
def query_entities(
    type: Annotated[str | None, Query(description="types: A,B or A|B")] = None,
    id: Annotated[str | None, Query(description="entity ids, comma-separated")] = None,
    idPattern: Annotated[str | None, Query(description="a regular expression on ids")] = None,
    q: Annotated[str | None, Query(description='NGSI-LD query, e.g. speed>50;status=="on"')] = None,
    attrs: Attrs = None,
    georel: Annotated[str | None, Query(description="near;maxDistance==M, within…")] = None,
    geometry: Annotated[str | None, Query(description="Point, Polygon, LineString…")] = None,
    coordinates: Annotated[str | None, Query(description="GeoJSON coordinates")] = None,
    geoproperty: Annotated[str | None, Query(description="default: location")] = None,
    limit: Annotated[int | None, Query(description="at most 1000; default 20")] = None,
    offset: Annotated[int | None, Query()] = None,
    count: Annotated[bool | None, Query(description="NGSILD-Results-Count header")] = None,
    options: Options = None,
    format: Format = None,
    ngsild_tenant: Tenant = None,
    link: Link = None,
    accept: Accept = None,
) -> list[dict[str, Any]]:
    """Entities matching type, id, idPattern, q, attrs and a geo-query, by id, one page."""
    raise NotImplementedError


@router.post("/entities", status_code=201, summary="Create an entity")
def create_entity(entity: Entity, ngsild_tenant: Tenant = None, link: Link = None) -> None:
    """201 with Location; 409 AlreadyExists if the id is taken."""


@router.get("/entities/{entityId}", summary="Retrieve an entity")
def retrieve_entity(
    entityId: EntityId,
    attrs: Attrs = None,
    options: Options = None,
    format: Format = None,
    ngsild_tenant: Tenant = None,
    link: Link = None,
    accept: Accept = None,
) -> dict[str, Any]:
    """The entity, names compacted with the request's @context."""
    raise NotImplementedError


@router.put("/entities/{entityId}", status_code=204, summary="Replace an entity")
def replace_entity(
    entityId: EntityId, entity: Entity, ngsild_tenant: Tenant = None, link: Link = None
) -> None:
    """Every attribute replaced (and the type, if given)."""


@router.delete("/entities/{entityId}", status_code=204, summary="Delete an entity")
def delete_entity(entityId: EntityId, ngsild_tenant: Tenant = None) -> None:
    """Gone, with an entity.deleted event."""


@router.post("/entities/{entityId}/attrs", status_code=204, summary="Append attributes")
def append_attributes(
    entityId: EntityId,
    attributes: Fragment,
    options: Options = None,
    ngsild_tenant: Tenant = None,
    link: Link = None,
) -> None:
    """204, or 207 with the attributes kept by options=noOverwrite."""


@router.patch("/entities/{entityId}/attrs", status_code=204, summary="Update attributes")
def update_attributes(
    entityId: EntityId, attributes: Fragment, ngsild_tenant: Tenant = None, link: Link = None
) -> None:
    """Only attributes the entity has; 207 names the others."""


@router.patch(
    "/entities/{entityId}/attrs/{attrId}", status_code=204, summary="Partial attribute update"
)
def patch_attribute(
    entityId: EntityId,
    attrId: AttrId,
    fragment: Fragment,
    ngsild_tenant: Tenant = None,
    link: Link = None,
) -> None:
    """Merge the fragment into the instance its datasetId names (the default one without)."""


@router.put("/entities/{entityId}/attrs/{attrId}", status_code=204, summary="Replace attribute")
def replace_attribute(
    entityId: EntityId,
    attrId: AttrId,
    fragment: Fragment,
    ngsild_tenant: Tenant = None,
    link: Link = None,
) -> None:
    """The instance (by datasetId) replaced."""


@router.delete(
    "/entities/{entityId}/attrs/{attrId}", status_code=204, summary="Delete an attribute"
)
def delete_attribute(
    entityId: EntityId,
    attrId: AttrId,
    datasetId: Annotated[str | None, Query(description="that instance only")] = None,
    deleteAll: Annotated[bool | None, Query(description="every instance")] = None,
    ngsild_tenant: Tenant = None,
    link: Link = None,
) -> None:
    """The default instance, the datasetId's, or all of them."""


@router.post("/entityOperations/{operation}", summary="Batch create, upsert, update, delete")
def entity_operation(
    operation: Annotated[str, Path(description="create, upsert, update or delete")],
    entities: Entities,
    options: Annotated[
        str | None, Query(description="upsert: replace|update; update: noOverwrite")
    ] = None,
    ngsild_tenant: Tenant = None,
    link: Link = None,
) -> Any:
    """201 with the created ids, 204, or 207 with success and per-entity errors."""
    raise NotImplementedError


@router.get("/types", summary="Entity types")
def list_types(
    details: Annotated[bool | None, Query()] = None, ngsild_tenant: Tenant = None, link: Link = None
) -> Any:
    """EntityTypeList, or EntityType details."""
    raise NotImplementedError


@router.get("/types/{type}", summary="One entity type")
def type_info(type: str, ngsild_tenant: Tenant = None, link: Link = None) -> dict[str, Any]:
    """EntityTypeInfo: how many entities, their attributes and attribute types."""
    raise NotImplementedError


@router.get("/attributes", summary="Attributes")
def list_attributes(
    details: Annotated[bool | None, Query()] = None, ngsild_tenant: Tenant = None, link: Link = None
) -> Any:
    """AttributeList, or Attribute details."""
    raise NotImplementedError


@router.get("/attributes/{attrId}", summary="One attribute")
def attribute_info(
    attrId: AttrId, ngsild_tenant: Tenant = None, link: Link = None
) -> dict[str, Any]:
    """Attribute: instance count, attribute types, entity types."""
    raise NotImplementedError


@router.get("/jsonldContexts", summary="Cached and hosted @contexts")
def list_contexts(
    details: Annotated[bool | None, Query()] = None,
    kind: Annotated[str | None, Query(description="Hosted or Cached")] = None,
) -> list[Any]:
    """The URLs (or details) of the @contexts this broker has without the network."""
    raise NotImplementedError


@router.post("/jsonldContexts", status_code=201, summary="Host or preload an @context")
def add_context(
    document: Annotated[dict[str, Any] | None, Body(description="{'@context': …}")] = None,
    url: Annotated[
        str | None,
        Query(description="preload this remote URL (body: its document, or fetched now)"),
    ] = None,
) -> None:
    """A posted document is hosted here; with ?url= it is kept as that remote context."""


@router.get("/jsonldContexts/{contextId}", summary="Serve an @context")
def serve_context(
    contextId: Annotated[str, Path(description="local id, or the URL percent-encoded")],
    details: Annotated[bool | None, Query()] = None,
) -> dict[str, Any]:
    """The document (public), or its details."""
    raise NotImplementedError


@router.delete("/jsonldContexts/{contextId}", status_code=204, summary="Delete or reload")
def delete_context(
    contextId: Annotated[str, Path()],
    reload: Annotated[bool | None, Query(description="fetch a cached one again")] = None,
) -> None:
    """The core context cannot be deleted."""


SubscriptionId = Annotated[str, Path(description="the subscription's URI")]
SubscriptionBody = Annotated[
    dict[str, Any],
    Body(
        description="type Subscription; entities and/or watchedAttributes, q, geoQ, "
        "notification {endpoint {uri, accept, receiverInfo}, format, attributes}, "
        "throttling, expiresAt, isActive"
    ),
]


@router.post("/subscriptions", status_code=201, summary="Create a subscription")
def create_subscription(
    subscription: SubscriptionBody, ngsild_tenant: Tenant = None, link: Link = None
) -> None:
    """201 with Location; admin, operator or connector; notifications go to http(s) or mqtt."""


@router.get("/subscriptions", summary="List subscriptions")
def list_subscriptions(
    limit: Annotated[int | None, Query(description="at most 1000; default 20")] = None,
    offset: Annotated[int | None, Query()] = None,
    count: Annotated[bool | None, Query(description="NGSILD-Results-Count header")] = None,
    ngsild_tenant: Tenant = None,
    link: Link = None,
    accept: Accept = None,
) -> list[dict[str, Any]]:
    """The caller's subscriptions (an admin's: all of the tenant's), by id, with their status."""
    raise NotImplementedError


@router.get("/subscriptions/{subscriptionId}", summary="Retrieve a subscription")
def retrieve_subscription(
    subscriptionId: SubscriptionId,
    ngsild_tenant: Tenant = None,
    link: Link = None,
    accept: Accept = None,
) -> dict[str, Any]:
    """With notification.timesSent, lastNotification, lastSuccess, lastFailure, status."""
    raise NotImplementedError


@router.patch("/subscriptions/{subscriptionId}", status_code=204, summary="Update a subscription")
def update_subscription(
    subscriptionId: SubscriptionId,
    fragment: Annotated[dict[str, Any], Body(description="the members to replace")],
    ngsild_tenant: Tenant = None,
    link: Link = None,
) -> None:
    """Members named replace the stored ones (notification's are merged)."""


@router.delete("/subscriptions/{subscriptionId}", status_code=204, summary="Delete a subscription")
def delete_subscription(subscriptionId: SubscriptionId, ngsild_tenant: Tenant = None) -> None:
    """No more notifications."""


# -- temporal ----------------------------------------------------------------------------

TimeRel = Annotated[str | None, Query(description="before, after or between")]
TimeAt = Annotated[str | None, Query(description="ISO 8601 date-time; needed with timerel")]
EndTimeAt = Annotated[str | None, Query(description="ISO 8601; needed with between")]
TimeProperty = Annotated[
    str | None, Query(description="observedAt (default), modifiedAt or createdAt")
]
LastN = Annotated[int | None, Query(description="the last N instances (or periods) only")]
TemporalOptions = Annotated[
    str | None, Query(description="temporalValues, aggregatedValues, sysAttrs")
]
AggrMethods = Annotated[
    str | None,
    Query(description="totalCount, distinctCount, sum, avg, min, max, stddev, sumsq"),
]
AggrPeriod = Annotated[
    str | None, Query(description="ISO 8601 duration: PT1H, P1D, P1W, P1M, P1Y (default: all)")
]
TemporalEntity = Annotated[
    dict[str, Any],
    Body(description="id, type, and each attribute as an array of instances with observedAt"),
]


@router.get("/temporal/entities", summary="Query temporal evolution of entities")
def query_temporal(
    type: Annotated[str | None, Query(description="types: A,B or A|B")] = None,
    id: Annotated[str | None, Query(description="entity ids, comma-separated")] = None,
    idPattern: Annotated[str | None, Query(description="a regular expression on ids")] = None,
    q: Annotated[str | None, Query(description="on the entities' current state")] = None,
    attrs: Attrs = None,
    georel: Annotated[str | None, Query(description="on the current location")] = None,
    geometry: Annotated[str | None, Query()] = None,
    coordinates: Annotated[str | None, Query()] = None,
    timerel: TimeRel = None,
    timeAt: TimeAt = None,
    endTimeAt: EndTimeAt = None,
    timeproperty: TimeProperty = None,
    lastN: LastN = None,
    aggrMethods: AggrMethods = None,
    aggrPeriodDuration: AggrPeriod = None,
    options: TemporalOptions = None,
    limit: Annotated[int | None, Query(description="entities per page, at most 1000")] = None,
    offset: Annotated[int | None, Query()] = None,
    count: Annotated[bool | None, Query(description="NGSILD-Results-Count header")] = None,
    ngsild_tenant: Tenant = None,
    link: Link = None,
) -> list[dict[str, Any]]:
    """Temporal entities by id, one page; 206 with Content-Range when instances were cut."""
    raise NotImplementedError


@router.post("/temporal/entities", status_code=201, summary="Create or add to temporal entity")
def create_temporal(
    entity: TemporalEntity, ngsild_tenant: Tenant = None, link: Link = None
) -> None:
    """201 for a new temporal entity, 204 when its history grew."""


@router.get("/temporal/entities/{entityId}", summary="Temporal evolution of an entity")
def retrieve_temporal(
    entityId: EntityId,
    attrs: Attrs = None,
    timerel: TimeRel = None,
    timeAt: TimeAt = None,
    endTimeAt: EndTimeAt = None,
    timeproperty: TimeProperty = None,
    lastN: LastN = None,
    aggrMethods: AggrMethods = None,
    aggrPeriodDuration: AggrPeriod = None,
    options: TemporalOptions = None,
    ngsild_tenant: Tenant = None,
    link: Link = None,
) -> dict[str, Any]:
    """Every instance kept (normalized), values over time, or aggregates per period."""
    raise NotImplementedError


@router.delete("/temporal/entities/{entityId}", status_code=204, summary="Delete history")
def delete_temporal(entityId: EntityId, ngsild_tenant: Tenant = None) -> None:
    """The entity's whole history (the entity itself stays)."""


@router.post("/temporal/entities/{entityId}/attrs", status_code=204, summary="Add to history")
def append_temporal(
    entityId: EntityId, fragment: TemporalEntity, ngsild_tenant: Tenant = None, link: Link = None
) -> None:
    """Instances of attributes, each with its observedAt."""


@router.delete(
    "/temporal/entities/{entityId}/attrs/{attrId}", status_code=204, summary="Delete attr history"
)
def delete_temporal_attribute(
    entityId: EntityId,
    attrId: AttrId,
    datasetId: Annotated[str | None, Query()] = None,
    deleteAll: Annotated[bool | None, Query()] = None,
    ngsild_tenant: Tenant = None,
    link: Link = None,
) -> None:
    """The default instance's history, a datasetId's, or all (deleteAll=true)."""

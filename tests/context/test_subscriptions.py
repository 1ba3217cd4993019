"""NGSI-LD subscriptions over HTTP: create, list, retrieve, update, delete; validation; access."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from ioc.context.subscription_models import Subscription
from ioc.core.models import AuditEntry, OutboxEvent, Place
from ioc.core.users import create_api_key
from tests.context.conftest import (
    CORE,
    DEFAULT,
    Ngsi,
    NgsiFactory,
    assert_error,
    link,
    make_key,
)

RECEIVER = "http://127.0.0.1:9/notify"


def subscription(**extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "Subscription",
        "entities": [{"type": "Streetlight"}],
        "watchedAttributes": ["dimmingLevel"],
        "notification": {"endpoint": {"uri": RECEIVER}},
    }
    body.update(extra)
    return body


def create(ngsi: Ngsi, body: dict[str, Any], **kw: Any) -> str:
    kw.setdefault("headers", ngsi.manager)
    response = ngsi.post("/subscriptions", json=body, **kw)
    assert response.status_code == 201, response.text
    location = response.headers["Location"]
    assert location.startswith("/ngsi-ld/v1/subscriptions/urn:ngsi-ld:Subscription:")
    return location.rsplit("/", 1)[1]


def test_create_retrieve_list_patch_delete(ngsi: Ngsi) -> None:
    sid = create(
        ngsi,
        subscription(
            id="urn:ngsi-ld:Subscription:lights",
            subscriptionName="dimmed lights",
            q="dimmingLevel<50",
            throttling=5,
            notification={
                "format": "keyValues",
                "attributes": ["dimmingLevel", "powerState"],
                "endpoint": {
                    "uri": RECEIVER,
                    "accept": "application/ld+json",
                    "receiverInfo": [{"key": "X-Token", "value": "s3cret"}],
                },
            },
        ),
    )
    assert sid == "urn:ngsi-ld:Subscription:lights"
    got = ngsi.get(f"/subscriptions/{sid}", headers=ngsi.manager)
    assert got.status_code == 200, got.text
    assert CORE in got.headers["Link"]
    body = got.json()
    assert body["id"] == sid and body["type"] == "Subscription"
    assert body["entities"] == [{"type": "Streetlight"}]
    assert body["watchedAttributes"] == ["dimmingLevel"]
    assert body["q"] == "dimmingLevel<50" and body["throttling"] == 5
    assert body["isActive"] is True and body["status"] == "active"
    notification = body["notification"]
    assert notification["format"] == "keyValues"
    assert notification["attributes"] == ["dimmingLevel", "powerState"]
    assert notification["endpoint"]["receiverInfo"] == [{"key": "X-Token", "value": "s3cret"}]
    assert notification["timesSent"] == 0 and "status" not in notification

    # The same id again is AlreadyExists; the list pages by id and counts.
    again = ngsi.post("/subscriptions", json=subscription(id=sid), headers=ngsi.manager)
    assert_error(again, 409, "AlreadyExists")
    for n in range(3):
        create(ngsi, subscription(id=f"urn:ngsi-ld:Subscription:z{n}"))
    page = ngsi.get(
        "/subscriptions", params={"limit": 2, "offset": 1, "count": "true"}, headers=ngsi.manager
    )
    assert page.status_code == 200, page.text
    assert page.headers["NGSILD-Results-Count"] == "4"
    assert [s["id"] for s in page.json()] == [
        "urn:ngsi-ld:Subscription:z0",
        "urn:ngsi-ld:Subscription:z1",
    ]

    # PATCH replaces the members it names; notification members merge one level down.
    patched = ngsi.patch(
        f"/subscriptions/{sid}",
        json={"isActive": False, "notification": {"format": "concise"}, "q": "dimmingLevel<30"},
        headers=ngsi.manager,
    )
    assert patched.status_code == 204, patched.text
    body = ngsi.get(f"/subscriptions/{sid}", headers=ngsi.manager).json()
    assert body["isActive"] is False and body["status"] == "paused"
    assert body["q"] == "dimmingLevel<30"
    assert body["notification"]["format"] == "concise"
    assert body["notification"]["attributes"] == ["dimmingLevel", "powerState"]
    assert body["notification"]["endpoint"]["accept"] == "application/ld+json"

    # Every change is an event and an audit row whose receiverInfo is hidden.
    with ngsi.database.session() as session:
        kinds = session.scalars(
            select(OutboxEvent.type).where(OutboxEvent.subject == sid).order_by(OutboxEvent.id)
        ).all()
        audit = session.scalars(
            select(AuditEntry).where(AuditEntry.entity == "ngsi_subscriptions")
        ).first()
    assert kinds == ["context.subscription.created", "context.subscription.updated"]
    assert audit is not None and "s3cret" not in str(audit.after)

    assert ngsi.delete(f"/subscriptions/{sid}", headers=ngsi.manager).status_code == 204
    gone = ngsi.get(f"/subscriptions/{sid}", headers=ngsi.manager)
    assert_error(gone, 404, "ResourceNotFound")
    assert_error(
        ngsi.delete(f"/subscriptions/{sid}", headers=ngsi.manager), 404, "ResourceNotFound"
    )


def test_names_follow_the_context(ngsi: Ngsi) -> None:
    """Stored expanded: a client with another @context reads the names as it calls them."""
    ctx = {"@context": {"Light": "https://example.org/Light", "level": "https://example.org/lv"}}
    ngsi.post("/jsonldContexts?url=https://example.org/ctx.jsonld", json=ctx, headers=ngsi.manager)
    sid = create(
        ngsi,
        subscription(entities=[{"type": "Light"}], watchedAttributes=["level"], q="level>3"),
        headers={**ngsi.manager, "Link": link("https://example.org/ctx.jsonld")},
    )
    core = ngsi.get(f"/subscriptions/{sid}", headers=ngsi.manager).json()
    assert core["entities"] == [{"type": "https://example.org/Light"}]
    assert core["watchedAttributes"] == ["https://example.org/lv"]
    ld = ngsi.get(
        f"/subscriptions/{sid}", headers={**ngsi.manager, "Accept": "application/ld+json"}
    ).json()
    assert ld["@context"] == CORE
    # A PATCH without a context of its own speaks the subscription's, q included.
    response = ngsi.patch(f"/subscriptions/{sid}", json={"q": "level>4"}, headers=ngsi.manager)
    assert response.status_code == 204, response.text
    with ngsi.database.session() as session:
        row = session.get(Subscription, ("default", sid))
        assert row is not None
        assert row.document["@context"] == "https://example.org/ctx.jsonld"
        assert row.document["watchedAttributes"] == ["https://example.org/lv"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"type": "Subscriptions"}, "type"),
        ({"entities": []}, "entities"),
        ({"entities": [{"id": "urn:x:1"}]}, "entities[0].type"),
        ({"entities": [{"type": "Streetlight", "id": "not a uri"}]}, "entities[0].id"),
        ({"entities": [{"type": "Streetlight", "idPattern": "(["}]}, "entities[0].idPattern"),
        ({"entities": None, "watchedAttributes": None}, "entities"),
        ({"watchedAttributes": []}, "watchedAttributes"),
        ({"watchedAttributes": ["bad name"]}, "watchedAttributes[0]"),
        ({"q": "dimmingLevel<<3"}, "q"),
        (
            {
                "geoQ": {
                    "geometry": "Point",
                    "coordinates": [200, 20],
                    "georel": "near;maxDistance==5",
                }
            },
            "geoQ.coordinates",
        ),
        (
            {"geoQ": {"geometry": "Point", "coordinates": [105, 20], "georel": "nearby"}},
            "geoQ.georel",
        ),
        ({"geoQ": {"geometry": "Point", "coordinates": [105, 20]}}, "geoQ.georel"),
        ({"throttling": 0}, "throttling"),
        ({"throttling": "5"}, "throttling"),
        ({"isActive": "yes"}, "isActive"),
        ({"expiresAt": "tomorrow"}, "expiresAt"),
        ({"expiresAt": "2020-01-01T00:00:00Z"}, "expiresAt"),
        ({"notificationTrigger": ["entityTouched"]}, "notificationTrigger[0]"),
        ({"notification": None}, "notification"),
        ({"notification": {}}, "notification.endpoint"),
        ({"notification": {"endpoint": {"uri": "ftp://x/y"}}}, "notification.endpoint.uri"),
        (
            {"notification": {"endpoint": {"uri": "mqtt://127.0.0.1:1883"}}},
            "notification.endpoint.uri",
        ),
        (
            {"notification": {"endpoint": {"uri": RECEIVER, "accept": "text/plain"}}},
            "notification.endpoint.accept",
        ),
        (
            {"notification": {"endpoint": {"uri": RECEIVER, "receiverInfo": [{"key": "A"}]}}},
            "notification.endpoint.receiverInfo[0]",
        ),
        (
            {
                "notification": {
                    "endpoint": {
                        "uri": RECEIVER,
                        "notifierInfo": [{"key": "MQTT-QoS", "value": "3"}],
                    }
                }
            },
            "notification.endpoint.notifierInfo[0]",
        ),
        ({"notification": {"format": "xml", "endpoint": {"uri": RECEIVER}}}, "notification.format"),
        (
            {"notification": {"attributes": "x", "endpoint": {"uri": RECEIVER}}},
            "notification.attributes",
        ),
        ({"watchedAttribute": ["x"]}, "watchedAttribute"),
    ],
)
def test_bad_subscriptions_name_the_field(ngsi: Ngsi, change: dict[str, Any], field: str) -> None:
    body = subscription()
    for name, value in change.items():
        if value is None:
            body.pop(name, None)
        else:
            body[name] = value
    response = ngsi.post("/subscriptions", json=body, headers=ngsi.manager)
    problem = assert_error(response, 400, "BadRequestData")
    assert problem["detail"].startswith(field), problem


def test_unsupported_and_malformed(ngsi: Ngsi) -> None:
    periodic = ngsi.post("/subscriptions", json=subscription(timeInterval=60), headers=ngsi.manager)
    assert_error(periodic, 422, "OperationNotSupported")
    deleted_attrs = ngsi.post(
        "/subscriptions",
        json=subscription(notificationTrigger=["attributeDeleted"]),
        headers=ngsi.manager,
    )
    assert_error(deleted_attrs, 422, "OperationNotSupported")
    raw = ngsi.post(
        "/subscriptions",
        content="{",
        headers={**ngsi.manager, "Content-Type": "application/json"},
    )
    assert_error(raw, 400, "InvalidRequest")
    sid = create(ngsi, subscription())
    bad_patch = ngsi.patch(f"/subscriptions/{sid}", json={"throttling": -1}, headers=ngsi.manager)
    assert_error(bad_patch, 400, "BadRequestData")
    other_id = ngsi.patch(f"/subscriptions/{sid}", json={"id": "urn:x:other"}, headers=ngsi.manager)
    assert_error(other_id, 400, "BadRequestData")
    assert_error(
        ngsi.get("/subscriptions", params={"limit": 5000}, headers=ngsi.manager),
        403,
        "TooManyResults",
    )
    assert_error(
        ngsi.get("/subscriptions", params={"limit": "x"}, headers=ngsi.manager),
        400,
        "BadRequestData",
    )
    assert ngsi.put(f"/subscriptions/{sid}", json={}, headers=ngsi.manager).status_code == 405
    not_uri = ngsi.get("/subscriptions/not%20a%20uri", headers=ngsi.manager)
    assert_error(not_uri, 400, "BadRequestData")


def test_expired_and_patched_expiry(ngsi: Ngsi) -> None:
    soon = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
    sid = create(ngsi, subscription(expiresAt=soon))
    body = ngsi.get(f"/subscriptions/{sid}", headers=ngsi.manager).json()
    assert body["status"] == "active" and body["expiresAt"].endswith("Z")
    with ngsi.database.session() as session:
        row = session.get(Subscription, ("default", sid))
        assert row is not None
        row.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    assert ngsi.get(f"/subscriptions/{sid}", headers=ngsi.manager).json()["status"] == "expired"
    # Other changes leave a passed expiry alone; a new one must lie ahead.
    assert (
        ngsi.patch(
            f"/subscriptions/{sid}", json={"throttling": 2}, headers=ngsi.manager
        ).status_code
        == 204
    )
    past = ngsi.patch(
        f"/subscriptions/{sid}", json={"expiresAt": "2001-01-01T00:00:00Z"}, headers=ngsi.manager
    )
    assert_error(past, 400, "BadRequestData")
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).isoformat()
    assert (
        ngsi.patch(
            f"/subscriptions/{sid}", json={"expiresAt": later}, headers=ngsi.manager
        ).status_code
        == 204
    )
    assert ngsi.get(f"/subscriptions/{sid}", headers=ngsi.manager).json()["status"] == "active"


def test_who_may_subscribe_and_see(ngsi: Ngsi) -> None:
    db = ngsi.database
    operator = {"X-API-Key": make_key(db, "operator", "ops")}
    admin = {"X-API-Key": make_key(db, "admin", "root")}
    leader = {"X-API-Key": make_key(db, "leader", "boss")}
    # Devices and read-only roles cannot make the server call out; nobody anonymously.
    for headers in ({}, leader):
        response = ngsi.post("/subscriptions", json=subscription(), headers=headers)
        assert response.status_code in (401, 403), response.text
    device = ngsi.post("/subscriptions", json=subscription())  # the default key is a device's
    assert device.status_code == 403, device.text
    unauth = ngsi.get("/subscriptions", auth=False)
    assert unauth.status_code == 401 and unauth.json()["title"]

    mine = create(ngsi, subscription(), headers=operator)
    theirs = create(ngsi, subscription())  # the connector's
    assert [s["id"] for s in ngsi.get("/subscriptions", headers=operator).json()] == [mine]
    assert_error(ngsi.get(f"/subscriptions/{theirs}", headers=operator), 404, "ResourceNotFound")
    assert_error(ngsi.delete(f"/subscriptions/{theirs}", headers=operator), 404, "ResourceNotFound")
    patch = ngsi.patch(f"/subscriptions/{theirs}", json={"isActive": False}, headers=operator)
    assert_error(patch, 404, "ResourceNotFound")
    everyone = {s["id"] for s in ngsi.get("/subscriptions", headers=admin).json()}
    assert everyone == {mine, theirs}
    assert ngsi.delete(f"/subscriptions/{mine}", headers=admin).status_code == 204


def test_tenants_keep_their_own(ngsi: Ngsi) -> None:
    sid = create(ngsi, subscription(), headers={**ngsi.manager, "NGSILD-Tenant": "city"})
    city = ngsi.get("/subscriptions", headers={**ngsi.manager, "NGSILD-Tenant": "city"})
    assert [s["id"] for s in city.json()] == [sid]
    assert ngsi.get("/subscriptions", headers=ngsi.manager).json() == []
    assert_error(ngsi.get(f"/subscriptions/{sid}", headers=ngsi.manager), 404, "ResourceNotFound")
    nowhere = ngsi.get("/subscriptions", headers={**ngsi.manager, "NGSILD-Tenant": "nowhere"})
    assert_error(nowhere, 404, "NonexistentTenant")


def test_default_vocabulary_expansion(ngsi: Ngsi) -> None:
    sid = create(ngsi, subscription())
    with ngsi.database.session() as session:
        row = session.get(Subscription, ("default", sid))
        assert row is not None
        assert row.document["entities"] == [{"type": DEFAULT + "Streetlight"}]
        assert row.owner.startswith("apikey:")


def test_ld_json_listing_and_openapi(ngsi: Ngsi) -> None:
    create(ngsi, subscription())
    listed = ngsi.get("/subscriptions", headers={**ngsi.manager, "Accept": "application/ld+json"})
    assert listed.headers["content-type"].startswith("application/ld+json")
    assert [s["@context"] for s in listed.json()] == [CORE]
    paths = ngsi.client.get("/openapi.json").json()["paths"]
    assert set(paths["/ngsi-ld/v1/subscriptions"]) == {"get", "post"}
    assert set(paths["/ngsi-ld/v1/subscriptions/{subscriptionId}"]) == {"get", "patch", "delete"}


def test_place_scoped_and_anonymous_callers_cannot_subscribe(ngsi_factory: NgsiFactory) -> None:
    ngsi = ngsi_factory(ngsild_anonymous="default:write")
    with ngsi.database.session("test") as session:
        session.add(
            Place(
                code="148",
                tree="legacy",
                level="district",
                kind="Huyện",
                name="Huyện Đà Bắc",
                short_name="Đà Bắc",
                search_key="da bac",
                path="17/148",
            )
        )
    with ngsi.database.session("test") as session:
        _, secret = create_api_key(session, "district feed", ["connector"], place_code="148")
    scoped = ngsi.post("/subscriptions", json=subscription(), headers={"X-API-Key": secret})
    assert scoped.status_code == 403 and "place" in scoped.json()["detail"]
    # The tenant is open to anonymous writes, but a subscription still needs a credential.
    anonymous = ngsi.post("/subscriptions", json=subscription(), auth=False)
    assert anonymous.status_code == 401, anonymous.text
    assert ngsi.get("/entities", params={"type": "X"}, auth=False).status_code == 200

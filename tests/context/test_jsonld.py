"""JSON-LD: @context from Link or body, names expanded in storage and compacted on the way out."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from sqlalchemy import text

from tests.context.conftest import CORE, DEFAULT, JSONLD_REL, Ngsi, NgsiFactory, assert_error, link

SDM = "https://smartdatamodels.org/dataModel.Streetlighting/"
CONTEXT_URL = "https://contexts.example.vn/hoabinh/streetlighting.jsonld"
CONTEXT = {
    "@context": {
        "sdm": SDM,
        "schema": "https://schema.org/",
        "Streetlight": "sdm:Streetlight",
        "powerState": "sdm:powerState",
        "dimming": {"@id": "sdm:dimmingLevel", "@type": "@id"},
        "name": "schema:name",
    }
}
LIGHT = "urn:ngsi-ld:Streetlight:hb-1"
ENTITY = {
    "id": LIGHT,
    "type": "Streetlight",
    "powerState": {"type": "Property", "value": "on"},
    "dimming": {"type": "Property", "value": 70},
    "name": {"type": "Property", "value": "Đèn số 1"},
    "colour": {"type": "Property", "value": "warm"},
}


def preload(ngsi: Ngsi, url: str = CONTEXT_URL, document: Any = CONTEXT) -> None:
    response = ngsi.post(
        "/jsonldContexts", params={"url": url}, json=document, headers=ngsi.manager
    )
    assert response.status_code == 201, response.text


def stored(ngsi: Ngsi) -> tuple[str, set[str]]:
    with ngsi.database.engine.connect() as conn:
        row = conn.execute(
            text("SELECT type, attrs FROM ngsi_entities WHERE id = :id"), {"id": LIGHT}
        ).one()
    attrs = row.attrs if isinstance(row.attrs, dict) else orjson.loads(row.attrs)
    return row.type, set(attrs)


def test_link_context_expands_for_storage_and_compacts_answers(ngsi: Ngsi) -> None:
    preload(ngsi)
    headers = {"Link": link(CONTEXT_URL)}
    ngsi.create(ENTITY, headers=headers)
    assert stored(ngsi) == (
        SDM + "Streetlight",
        {SDM + "powerState", SDM + "dimmingLevel", "https://schema.org/name", DEFAULT + "colour"},
    )
    got = ngsi.get(f"/entities/{LIGHT}", headers=headers)
    assert got.json() == ENTITY
    assert got.headers["link"] == link(CONTEXT_URL)

    # with the core context alone, the names are full IRIs (or vocabulary-relative ones)
    bare = ngsi.entity(LIGHT)
    assert bare["type"] == SDM + "Streetlight"
    assert set(bare) == {
        "id",
        "type",
        SDM + "powerState",
        SDM + "dimmingLevel",
        "https://schema.org/name",
        "colour",
    }
    # queries, attrs and q speak the caller's terms too
    assert ngsi.ids(type="Streetlight", headers=headers) == [LIGHT]
    assert ngsi.ids(type=SDM + "Streetlight") == [LIGHT]
    assert ngsi.ids(type="Streetlight") == []  # a different type without that context
    assert ngsi.ids(type="Streetlight", q="dimming>60", headers=headers) == [LIGHT]
    partial = ngsi.get(f"/entities/{LIGHT}", params={"attrs": "name"}, headers=headers).json()
    assert set(partial) == {"id", "type", "name"}
    patched = ngsi.patch(f"/entities/{LIGHT}/attrs/dimming", json={"value": 10}, headers=headers)
    assert patched.status_code == 204
    assert ngsi.entity(LIGHT)[SDM + "dimmingLevel"]["value"] == 10


def test_ld_json_body_carries_its_own_context(ngsi: Ngsi) -> None:
    body = {**ENTITY, "@context": [CONTEXT["@context"], CORE]}
    response = ngsi.post(
        "/entities", content=orjson.dumps(body), headers={"Content-Type": "application/ld+json"}
    )
    assert response.status_code == 201, response.text
    assert stored(ngsi)[0] == SDM + "Streetlight"
    batch = [
        {
            "id": "urn:ngsi-ld:Streetlight:hb-2",
            "type": "Streetlight",
            "@context": CONTEXT["@context"],
        },
        {"id": "urn:ngsi-ld:Streetlight:hb-3", "type": "Streetlight", "@context": CORE},
    ]
    created = ngsi.post(
        "/entityOperations/create",
        content=orjson.dumps(batch),
        headers={"Content-Type": "application/ld+json"},
    )
    assert created.status_code == 201, created.text
    assert ngsi.ids(type=SDM + "Streetlight") == [LIGHT, "urn:ngsi-ld:Streetlight:hb-2"]
    assert ngsi.ids(type="Streetlight") == ["urn:ngsi-ld:Streetlight:hb-3"]


def test_accept_negotiation(ngsi: Ngsi) -> None:
    ngsi.create(ENTITY)
    as_ld = ngsi.get(f"/entities/{LIGHT}", headers={"Accept": "application/ld+json"})
    assert as_ld.status_code == 200
    assert as_ld.headers["content-type"] == "application/ld+json"
    assert "link" not in as_ld.headers
    assert as_ld.json()["@context"] == CORE
    many = ngsi.get(
        "/entities", params={"type": "Streetlight"}, headers={"Accept": "application/ld+json"}
    )
    assert [e["@context"] for e in many.json()] == [CORE]
    preferred = ngsi.get(
        f"/entities/{LIGHT}",
        headers={"Accept": "text/html;q=0.9, application/ld+json;q=0.8, application/json;q=0.5"},
    )
    assert preferred.headers["content-type"] == "application/ld+json"
    anything = ngsi.get(f"/entities/{LIGHT}", headers={"Accept": "*/*"})
    assert anything.headers["content-type"] == "application/json"
    assert anything.headers["link"] == f'<{CORE}>; rel="{JSONLD_REL}"; type="application/ld+json"'
    refused = ngsi.get(f"/entities/{LIGHT}", headers={"Accept": "text/html, application/xml"})
    assert refused.status_code == 406
    assert refused.headers["content-type"] == "application/json"


def test_context_rules_of_the_request(ngsi: Ngsi) -> None:
    body = orjson.dumps({**ENTITY, "@context": CORE})
    both = ngsi.post(
        "/entities",
        content=body,
        headers={"Content-Type": "application/ld+json", "Link": link(CORE)},
    )
    assert_error(both, 400, "BadRequestData")
    json_with_context = ngsi.post(
        "/entities", content=body, headers={"Content-Type": "application/json"}
    )
    assert_error(json_with_context, 400, "BadRequestData")
    ld_without = ngsi.post(
        "/entities", content=orjson.dumps(ENTITY), headers={"Content-Type": "application/ld+json"}
    )
    assert_error(ld_without, 400, "BadRequestData")
    two_links = ngsi.get(
        f"/entities/{LIGHT}", headers={"Link": f"{link(CORE)}, {link(CONTEXT_URL)}"}
    )
    assert_error(two_links, 400, "BadRequestData")
    bad_context = orjson.dumps({**ENTITY, "@context": 42})
    assert_error(
        ngsi.post(
            "/entities", content=bad_context, headers={"Content-Type": "application/ld+json"}
        ),
        400,
        "BadRequestData",
    )


def test_unknown_context_is_not_available_at_once(ngsi: Ngsi) -> None:
    start = time.monotonic()
    response = ngsi.get(
        f"/entities/{LIGHT}", headers={"Link": link("https://nowhere.example/c.jsonld")}
    )
    body = assert_error(response, 503, "LdContextNotAvailable")
    assert "https://nowhere.example/c.jsonld" in body["detail"]
    assert time.monotonic() - start < 1.0
    inline = {**ENTITY, "@context": ["https://nowhere.example/c.jsonld"]}
    posted = ngsi.post(
        "/entities", content=orjson.dumps(inline), headers={"Content-Type": "application/ld+json"}
    )
    assert_error(posted, 503, "LdContextNotAvailable")


class _Contexts(http.server.BaseHTTPRequestHandler):
    hits = 0

    def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
        type(self).hits += 1
        body = orjson.dumps(CONTEXT)
        self.send_response(200)
        self.send_header("Content-Type", "application/ld+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def context_server() -> Iterator[str]:
    """A local HTTP server handing out CONTEXT, on a free port of 127.0.0.1."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Contexts)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Contexts.hits = 0
    yield f"http://127.0.0.1:{server.server_address[1]}/streetlighting.jsonld"
    server.shutdown()
    server.server_close()
    thread.join()


def test_fetching_is_off_unless_allowed(ngsi_factory: NgsiFactory, context_server: str) -> None:
    closed = ngsi_factory()
    assert_error(
        closed.get(
            "/entities", params={"type": "Streetlight"}, headers={"Link": link(context_server)}
        ),
        503,
        "LdContextNotAvailable",
    )
    assert _Contexts.hits == 0
    opened = ngsi_factory(ngsild_fetch_contexts=True)
    opened.create(ENTITY, headers={"Link": link(context_server)})
    assert stored(opened)[0] == SDM + "Streetlight"
    assert opened.entity(LIGHT, headers={"Link": link(context_server)}) == ENTITY
    assert _Contexts.hits == 1  # kept after the first fetch
    kept = opened.get("/jsonldContexts", params={"details": "true"}).json()
    assert {c["URL"]: c["kind"] for c in kept}[context_server] == "Cached"


def test_an_unreachable_context_fails_within_the_timeout(ngsi_factory: NgsiFactory) -> None:
    ngsi = ngsi_factory(ngsild_fetch_contexts=True, ngsild_context_timeout=0.5)
    start = time.monotonic()
    response = ngsi.get(
        "/entities", params={"type": "T"}, headers={"Link": link("http://127.0.0.1:9/none.jsonld")}
    )
    assert_error(response, 503, "LdContextNotAvailable")
    assert time.monotonic() - start < 2.0


def test_hosted_contexts(ngsi: Ngsi) -> None:
    response = ngsi.post("/jsonldContexts", json=CONTEXT, headers=ngsi.manager)
    assert response.status_code == 201, response.text
    location = response.headers["location"]
    local_id = location.rsplit("/", 1)[1]
    served = ngsi.get(f"/jsonldContexts/{local_id}", auth=False)
    assert served.status_code == 200 and served.json() == CONTEXT
    assert served.headers["content-type"] == "application/ld+json"
    url = "http://testserver" + location
    details = ngsi.get(f"/jsonldContexts/{local_id}", params={"details": "true"}).json()
    assert details["URL"] == url and details["kind"] == "Hosted" and details["localId"] == local_id

    ngsi.create(ENTITY, headers={"Link": link(url)})
    assert stored(ngsi)[0] == SDM + "Streetlight"
    listed = ngsi.get("/jsonldContexts").json()
    assert listed == [CORE, url]
    assert ngsi.get("/jsonldContexts", params={"kind": "Hosted"}).json() == [url]

    assert ngsi.delete(f"/jsonldContexts/{local_id}", headers=ngsi.manager).status_code == 204
    assert_error(ngsi.get(f"/jsonldContexts/{local_id}"), 404, "ResourceNotFound")
    assert_error(
        ngsi.get(f"/entities/{LIGHT}", headers={"Link": link(url)}), 503, "LdContextNotAvailable"
    )
    assert_error(ngsi.delete("/jsonldContexts/core", headers=ngsi.manager), 400, "BadRequestData")
    assert ngsi.get("/jsonldContexts/core").json()["@context"]["Property"] == "ngsi-ld:Property"


def test_preload_checks_the_document(ngsi: Ngsi) -> None:
    manager = ngsi.manager
    assert_error(
        ngsi.post(
            "/jsonldContexts", params={"url": CONTEXT_URL}, json={"terms": {}}, headers=manager
        ),
        400,
        "BadRequestData",
    )
    assert_error(
        ngsi.post("/jsonldContexts", params={"url": CORE}, json=CONTEXT, headers=manager),
        400,
        "BadRequestData",
    )
    assert_error(ngsi.post("/jsonldContexts", json=[1, 2], headers=manager), 400, "BadRequestData")
    preload(ngsi)
    preload(ngsi, document={"@context": {"Streetlight": "https://other.example/Light"}})
    ngsi.create({"id": LIGHT, "type": "Streetlight"}, headers={"Link": link(CONTEXT_URL)})
    assert stored(ngsi)[0] == "https://other.example/Light"  # the newer document counts


def test_devices_use_contexts_but_do_not_manage_them(ngsi: Ngsi) -> None:
    refused = ngsi.post("/jsonldContexts", params={"url": CONTEXT_URL}, json=CONTEXT)
    assert_error(refused, 403, "https://ioc.example/problems/forbidden")
    ok = ngsi.post(
        "/jsonldContexts", params={"url": CONTEXT_URL}, json=CONTEXT, headers=ngsi.manager
    )
    assert ok.status_code == 201
    assert ngsi.get("/jsonldContexts").json() == [CORE, CONTEXT_URL]  # devices may read the list

"""Every Open311 response, in both formats, validates against schemas written from the spec.

``georeport_v2/`` holds a JSON Schema and XSDs transcribed from the GeoReport v2 field tables
(element names, which are required, enumerations, W3C date-times, numbers in range). The
other Open311 tests check values; these check that no response strays from the spec's shapes,
including the error bodies, so any GeoReport v2 client can parse what we send.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
from lxml import etree
from starlette.testclient import TestClient

from ioc.core.db import Database
from tests.feedback.open311_support import FORMATS, TU_LY, make_key, post, seed_request, url

SCHEMAS = Path(__file__).parent / "georeport_v2"
JSON_SCHEMA = json.loads((SCHEMAS / "georeport-v2.schema.json").read_text())
XSD_OF = {"posted": "posted.xsd", "tokens": "tokens.xsd"}  # the rest: georeport-v2.xsd


def _xsd(kind: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMAS / XSD_OF.get(kind, "georeport-v2.xsd"))))


def check(response: httpx.Response, fmt: str, kind: str) -> None:
    """Validate a response body as the ``kind`` of GeoReport v2 document (JSON or XML)."""
    if fmt == "json":
        schema = {**JSON_SCHEMA, "$ref": f"#/$defs/{kind}"}
        jsonschema.validate(
            response.json(), schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
        )
        return
    document = etree.fromstring(response.content)
    xsd = _xsd(kind)
    assert xsd.validate(document), (kind, str(xsd.error_log), response.text[:400])


Call = Callable[[TestClient, str], httpx.Response]


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_answer_and_error_has_the_spec_shape(
    client: TestClient, catalogue: Database, fmt: str
) -> None:
    settled = seed_request(catalogue, "road", settle=True)
    seed_request(catalogue, "waste", at=None, address="Tổ 5, phường Tân Thịnh")  # no location
    _, key = make_key(catalogue)
    posted = post(
        client, fmt, key, service_code="road", lat=TU_LY[0], long=TU_LY[1],
        description="Ổ gà sâu trước cổng trường", media_url="https://anh.example.vn/o-ga.jpg",
        **{"attribute[road_type]": "commune"},
    )  # fmt: skip
    assert posted.status_code == 200, posted.text
    check(posted, fmt, "posted")
    token = (
        posted.json()[0]["token"]
        if fmt == "json"
        else etree.fromstring(posted.content).findtext("request/token")
    )
    cases: list[tuple[str, str, int]] = [
        ("/discovery", "discovery", 200),
        ("/services", "services", 200),
        ("/services/road", "service_definition", 200),
        ("/services/waste", "service_definition", 200),
        ("/requests", "requests", 200),
        (f"/requests/{settled}", "requests", 200),
        ("/requests?status=closed&service_code=road", "requests", 200),
        (f"/tokens/{token}", "tokens", 200),
        ("/services/no-such-service", "errors", 404),
        ("/requests/999999999", "errors", 404),
        ("/requests?start_date=yesterday", "errors", 400),
        ("/tokens/not-a-token", "errors", 404),
    ]
    for path, kind, status in cases:
        base, _, query = path.partition("?")
        response = client.get(url(f"{base}.{fmt}") + (f"?{query}" if query else ""))
        assert response.status_code == status, (path, response.text[:300])
        check(response, fmt, kind)
    for fields, status in (({}, 403), ({"service_code": "road"}, 400)):
        refused = post(client, fmt, key if fields else None, **fields)
        assert refused.status_code == status, refused.text
        check(refused, fmt, "errors")


@pytest.mark.parametrize(
    ("fmt", "body", "kind"),
    [
        ("json", [{"service_request_id": 1, "status": "pending", "service_code": "road",
                   "requested_datetime": "2025-01-01T08:00:00+07:00"}], "requests"),
        ("json", [{"service_request_id": 1, "status": "open", "service_code": "road",
                   "requested_datetime": "2025-01-01 08:00"}], "requests"),
        ("json", [{"code": "404", "description": "x"}], "errors"),
        ("xml", "<services><service><service_code>a</service_code></service></services>",
         "services"),
        ("xml", "<service_requests><request><service_request_id>1</service_request_id>"
                "<status>open</status><service_name>a</service_name><service_code>a"
                "</service_code><requested_datetime>2025-01-01T08:00:00</requested_datetime>"
                "</request></service_requests>", "requests"),
    ],
)  # fmt: skip
def test_the_schemas_refuse_what_the_spec_does_not_allow(fmt: str, body: Any, kind: str) -> None:
    """The schemas bite: a bad status, a date-time without offset, a text code, a service
    without its name, type and metadata are refused."""
    content = json.dumps(body).encode() if fmt == "json" else body.encode()
    response = httpx.Response(200, content=content)
    with pytest.raises((jsonschema.ValidationError, AssertionError)):
        check(response, fmt, kind)

"""The push signed with Ed25519: key from a PEM file or a seed, checked by the receiver."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from typer.testing import CliRunner

from ioc.cli import app as cli
from ioc.core.config import Settings
from ioc.core.db import Database
from ioc.core.problems import Invalid
from ioc.indicators import push
from ioc.serving import serve
from tests.indicators.conftest import last_quarter

SEED = bytes(range(32))
SEED_B64 = base64.b64encode(SEED).decode()


class Receiver:
    """A national endpoint that knows ioc's public key by its id and refuses anything else."""

    def __init__(self, keys: dict[str, Ed25519PublicKey]) -> None:
        self.keys = keys
        self.accepted: list[tuple[str, dict[str, object]]] = []
        self.headers: list[dict[str, str]] = []

    async def post(self, request: Request) -> JSONResponse:
        body = await request.body()
        self.headers.append(dict(request.headers))
        try:
            kid = push.verify_ed25519(self.keys, request.headers.get(push.ED25519_HEADER), body)
        except Invalid as exc:
            return JSONResponse({"error": exc.detail}, status_code=401)
        self.accepted.append((kid, orjson.loads(body)))
        return JSONResponse({"ok": True}, status_code=202)


@pytest.fixture
def receiver() -> Iterator[tuple[str, Receiver]]:
    public = Ed25519PrivateKey.from_private_bytes(SEED).public_key()
    state = Receiver({"hoabinh-2025": public})
    app = Starlette(routes=[Route("/reports", state.post, methods=["POST"])])
    with serve(app, lifespan="off") as url:
        yield f"{url}/reports", state


def test_push_signed_with_ed25519_only_is_verified_by_the_receiver(
    demo_db: Database, receiver: tuple[str, Receiver]
) -> None:
    url, state = receiver
    settings = Settings(
        database_url=demo_db.url, report_push_url=url, report_push_ed25519_key=SEED_B64,
        report_push_key_id="hoabinh-2025", report_push_attempts=1,
    )  # fmt: skip
    delivery = push.push(demo_db, settings, last_quarter(), sleep=lambda _: None)
    assert (delivery.status, delivery.response_code) == ("delivered", 202)
    kid, doc = state.accepted[0]
    assert kid == "hoabinh-2025" and doc["period"] == last_quarter()
    assert push.SIGNATURE_HEADER.lower() not in state.headers[0]  # no HMAC without a secret
    # A key the receiver does not know is refused, and the delivery says so.
    other = settings.model_copy(
        update={"report_push_ed25519_key": base64.b64encode(b"\1" * 32).decode()}
    )
    refused = push.push(demo_db, other, last_quarter(), sleep=lambda _: None)
    assert (refused.status, refused.response_code) == ("failed", 401)
    assert "signature does not match" in refused.last_error


def test_receiver_check_refuses_a_changed_body_or_an_unknown_key(tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    pem = tmp_path / "push-key.pem"
    pem.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    loaded = push.load_key(str(pem))
    kid = push.key_id(loaded)
    assert len(kid) == 16 and push.public_pem(loaded) == push.public_pem(key)
    body = b'{"period":"2025-Q3"}'
    header = push.sign_ed25519(loaded, kid, body)
    assert header.startswith(f'keyid="{kid}", sig="')
    keys = {kid: key.public_key()}
    assert push.verify_ed25519(keys, header, body) == kid
    with pytest.raises(Invalid, match="does not match"):
        push.verify_ed25519(keys, header, body.replace(b"Q3", b"Q4"))
    with pytest.raises(Invalid, match="unknown key id"):
        push.verify_ed25519({"other": key.public_key()}, header, body)
    with pytest.raises(Invalid, match="keyid"):
        push.verify_ed25519(keys, None, body)
    with pytest.raises(Invalid, match="32 bytes"):
        push.load_key(base64.b64encode(b"short").decode())
    with pytest.raises(Invalid, match="neither"):
        push.load_key("not a key, not a file")
    both = Settings(report_push_secret="s3cret-for-hmac", report_push_ed25519_key=str(pem))
    assert set(push.signed_headers(both, body)) == {
        "Content-Type",
        push.SIGNATURE_HEADER,
        push.ED25519_HEADER,
    }


def test_cli_prints_the_public_key_for_the_receiver(
    demo_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IOC_DATABASE_URL", demo_db.url)
    monkeypatch.setenv("IOC_REPORT_PUSH_ED25519_KEY", SEED_B64)
    monkeypatch.delenv("IOC_REPORT_PUSH_KEY_ID", raising=False)
    result = CliRunner().invoke(cli, ["indicators", "public-key"])
    assert result.exit_code == 0, result.output
    key = Ed25519PrivateKey.from_private_bytes(SEED)
    assert f"key id: {push.key_id(key)}" in result.output
    assert push.public_pem(key) in result.output
    monkeypatch.setenv("IOC_REPORT_PUSH_ED25519_KEY", "")
    missing = CliRunner().invoke(cli, ["indicators", "public-key"])
    assert missing.exit_code == 2 and "IOC_REPORT_PUSH_ED25519_KEY" in missing.output

"""Pushing a period's indicator values to the national reporting endpoint, signed and logged.

The body is canonical JSON (sorted keys). It is signed by a shared secret, a private key, or
both, each in its own header:

- ``X-IOC-Signature: sha256=<hex>``: HMAC-SHA256 of the body under ``IOC_REPORT_PUSH_SECRET``;
- ``X-IOC-Signature-Ed25519: keyid="<id>", sig="<base64>"``: the Ed25519 signature of the body
  under ``IOC_REPORT_PUSH_ED25519_KEY``; the receiver holds only the public key, so a leak on
  its side cannot forge a report. :func:`verify_ed25519` is the receiver's check.

A failure (network error or non-2xx) is retried with exponential backoff; every push is one
``indicator_deliveries`` row with its attempts.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy.orm import Session

from ioc.core.config import Settings
from ioc.core.db import Database, utcnow
from ioc.core.problems import Invalid
from ioc.indicators import reports
from ioc.indicators.models import ReportDelivery

SIGNATURE_HEADER = "X-IOC-Signature"
ED25519_HEADER = "X-IOC-Signature-Ed25519"
KEY_SETTING = "IOC_REPORT_PUSH_ED25519_KEY"
_ED25519_VALUE = re.compile(r'^keyid="([^"]+)", sig="([A-Za-z0-9+/]+={0,2})"$')


def document(session: Session, period: str) -> dict[str, Any]:
    """The values of every indicator of the period, by district and for the province."""
    table = reports.build(session, period)
    return {
        "period": period,
        "province": table.province,
        "generated_at": utcnow().isoformat(),
        "indicators": [
            {
                "code": column.code,
                "name": column.name,
                "unit": column.unit,
                "province": column.province.value,
                "districts": {
                    name: row[i] for name, row in zip(table.districts, table.cells, strict=True)
                },
            }
            for i, column in enumerate(table.columns)
        ],
    }


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def load_key(setting: str) -> Ed25519PrivateKey:
    """The private key a setting names: a PEM file (PKCS#8, as ``openssl genpkey -algorithm
    ed25519`` writes it) or the base64 of the 32-byte seed."""
    path = Path(setting)
    try:
        if path.is_file():
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
            if not isinstance(key, Ed25519PrivateKey):
                raise Invalid(KEY_SETTING, f"{setting} holds a key, but not an Ed25519 one")
            return key
        seed = base64.b64decode(setting.strip(), validate=True)
    except (ValueError, TypeError, binascii.Error, OSError) as exc:
        raise Invalid(KEY_SETTING, "neither a PEM private key file nor a base64 seed") from exc
    if len(seed) != 32:
        raise Invalid(KEY_SETTING, f"an Ed25519 seed is 32 bytes, this one {len(seed)}")
    return Ed25519PrivateKey.from_private_bytes(seed)


def public_pem(key: Ed25519PrivateKey) -> str:
    """The public half, as PEM (SubjectPublicKeyInfo) for the receiver to register."""
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def key_id(key: Ed25519PrivateKey, configured: str = "") -> str:
    """The configured id, else the first 16 hex digits of the raw public key's SHA-256."""
    if configured:
        return configured
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def sign_ed25519(key: Ed25519PrivateKey, kid: str, body: bytes) -> str:
    """The ``X-IOC-Signature-Ed25519`` header value of a body."""
    return f'keyid="{kid}", sig="{base64.b64encode(key.sign(body)).decode()}"'


def verify_ed25519(keys: dict[str, Ed25519PublicKey], header: str | None, body: bytes) -> str:
    """The receiver's check: the key id whose key signed ``body``; Invalid if none did."""
    found = _ED25519_VALUE.match(header or "")
    if found is None:
        raise Invalid(ED25519_HEADER, 'expected keyid="<id>", sig="<base64>"')
    kid, sig = found.groups()
    key = keys.get(kid)
    if key is None:
        raise Invalid(ED25519_HEADER, f"unknown key id {kid!r}")
    try:
        key.verify(base64.b64decode(sig), body)
    except (InvalidSignature, binascii.Error) as exc:
        raise Invalid(ED25519_HEADER, "the signature does not match the body") from exc
    return kid


def signed_headers(settings: Settings, body: bytes) -> dict[str, str]:
    """Content type and every signature the settings provide (at least one, else Invalid)."""
    if not settings.report_push_secret and not settings.report_push_ed25519_key:
        raise Invalid(
            "IOC_REPORT_PUSH_SECRET",
            f"set a secret (or {KEY_SETTING}) to sign the pushed reports",
        )
    headers = {"Content-Type": "application/json"}
    if settings.report_push_secret:
        headers[SIGNATURE_HEADER] = sign(settings.report_push_secret, body)
    if settings.report_push_ed25519_key:
        key = load_key(settings.report_push_ed25519_key)
        kid = key_id(key, settings.report_push_key_id)
        headers[ED25519_HEADER] = sign_ed25519(key, kid, body)
    return headers


def push(
    database: Database,
    settings: Settings,
    period: str,
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> ReportDelivery:
    """Send the period's document, retrying with backoff; returns the logged delivery."""
    if not settings.report_push_url:
        raise Invalid("IOC_REPORT_PUSH_URL", "no national reporting endpoint is configured")
    signed_headers(settings, b"")  # refuse a push that could not be signed before logging it
    with database.session("system:report-push") as session:
        body = orjson.dumps(document(session, period), option=orjson.OPT_SORT_KEYS)
        delivery = ReportDelivery(
            period=period,
            target_url=settings.report_push_url,
            digest=hashlib.sha256(body).hexdigest(),
            status="pending",
            attempts=0,
        )
        session.add(delivery)
    headers = signed_headers(settings, body)
    wait = settings.report_push_backoff_seconds
    with httpx.Client(timeout=10.0) as client:
        for attempt in range(1, settings.report_push_attempts + 1):
            code: int | None = None
            try:
                response = client.post(settings.report_push_url, content=body, headers=headers)
                code = response.status_code
                error = "" if response.is_success else response.text[:500]
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"
            done = code is not None and 200 <= code < 300
            last = attempt == settings.report_push_attempts
            with database.session("system:report-push") as session:
                row = session.get(ReportDelivery, delivery.id)
                assert row is not None
                row.attempts, row.response_code, row.last_error = attempt, code, error
                row.status = "delivered" if done else ("failed" if last else "retrying")
                if done:
                    row.delivered_at = utcnow()
                session.flush()
                session.expunge(row)
                delivery = row
            if done or last:
                return delivery
            sleep(wait)
            wait *= 2
    return delivery

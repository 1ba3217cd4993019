"""Pushing a period's indicator values to the national reporting endpoint, signed and logged.

The body is canonical JSON (sorted keys); ``X-IOC-Signature: sha256=<hex>`` is its
HMAC-SHA256 under ``IOC_REPORT_PUSH_SECRET``. A failure (network error or non-2xx) is retried
with exponential backoff; every push is one ``indicator_deliveries`` row with its attempts.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from typing import Any

import httpx
import orjson
from sqlalchemy.orm import Session

from ioc.core.config import Settings
from ioc.core.db import Database, utcnow
from ioc.core.problems import Invalid
from ioc.indicators import reports
from ioc.indicators.models import ReportDelivery

SIGNATURE_HEADER = "X-IOC-Signature"


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
    if not settings.report_push_secret:
        raise Invalid("IOC_REPORT_PUSH_SECRET", "set a secret to sign the pushed reports")
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
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: sign(settings.report_push_secret, body),
    }
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

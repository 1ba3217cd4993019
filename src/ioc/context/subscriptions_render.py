"""Stored subscriptions → what GET answers: names compacted, status and counters added."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ioc.context.jsonld import TermMap
from ioc.context.render import timestamp
from ioc.context.subscription_models import Subscription


def status(row: Subscription, now: dt.datetime) -> str:
    """active, paused (isActive false) or expired."""
    if row.expires_at is not None and row.expires_at <= now:
        return "expired"
    return "active" if row.is_active else "paused"


def render(
    row: Subscription, terms: TermMap, now: dt.datetime, sys_attrs: bool = False
) -> dict[str, Any]:
    """A stored subscription with its status, names compacted with ``terms``."""
    doc = row.document
    out: dict[str, Any] = {"id": row.id, "type": "Subscription"}
    for name in ("subscriptionName", "description"):
        if name in doc:
            out[name] = doc[name]
    if "entities" in doc:
        out["entities"] = [{**s, "type": terms.compact(s["type"])} for s in doc["entities"]]
    if "watchedAttributes" in doc:
        out["watchedAttributes"] = [terms.compact(n) for n in doc["watchedAttributes"]]
    for name in ("notificationTrigger", "q"):
        if name in doc:
            out[name] = doc[name]
    if "geoQ" in doc:
        out["geoQ"] = {**doc["geoQ"], "geoproperty": terms.compact(doc["geoQ"]["geoproperty"])}
    out["isActive"] = row.is_active
    out["status"] = status(row, now)
    if row.expires_at is not None:
        out["expiresAt"] = timestamp(row.expires_at)
    for name in ("throttling", "jsonldContext"):
        if name in doc:
            out[name] = doc[name]
    out["notification"] = _render_notification(row, terms)
    if sys_attrs:
        out["createdAt"] = timestamp(row.created_at)
        out["modifiedAt"] = timestamp(row.modified_at)
    return out


def _render_notification(row: Subscription, terms: TermMap) -> dict[str, Any]:
    spec = row.document["notification"]
    out: dict[str, Any] = {}
    if "attributes" in spec:
        out["attributes"] = [terms.compact(n) for n in spec["attributes"]]
    out["format"] = spec["format"]
    if "sysAttrs" in spec:
        out["sysAttrs"] = spec["sysAttrs"]
    endpoint = dict(spec["endpoint"])
    if row.receiver_info:
        endpoint["receiverInfo"] = row.receiver_info
    out["endpoint"] = endpoint
    out["timesSent"] = row.times_sent
    out["timesFailed"] = row.times_failed
    if row.last_notification is not None:
        out["status"] = "failed" if failed(row) else "ok"
        out["lastNotification"] = timestamp(row.last_notification)
    for name, value in (("lastSuccess", row.last_success), ("lastFailure", row.last_failure)):
        if value is not None:
            out[name] = timestamp(value)
    if row.last_error and failed(row):
        out["lastErrorReason"] = row.last_error
    return out


def failed(row: Subscription) -> bool:
    """The last notification failed (after its retries)."""
    if row.last_failure is None:
        return False
    return row.last_success is None or row.last_failure >= row.last_success

"""/subscriptions: create, list, retrieve, update and delete NGSI-LD subscriptions.

Who: admin, operator and connector (a subscription makes the server call out, so devices
and read-only roles cannot make one), never anonymously, never with a place-scoped
credential (entities carry no place yet, so such a subscription could only leak). Each
caller sees and changes the subscriptions they made; an admin sees all of the tenant's.
Anyone else's is ResourceNotFound, as though it did not exist.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, true
from sqlalchemy.orm import Session
from starlette.responses import Response

from ioc.context import subscriptions as subs
from ioc.context.endpoints import Runtime
from ioc.context.entities import entity_id
from ioc.context.errors import AlreadyExists, BadRequestData, ResourceNotFound, TooManyResults
from ioc.context.http import JSON_LD, RESULTS_COUNT, Call, no_content
from ioc.context.subscription_models import Subscription
from ioc.context.subscriptions_render import render
from ioc.core import audit
from ioc.core.auth import Principal
from ioc.core.db import utcnow
from ioc.core.events import emit
from ioc.core.problems import Forbidden, Unauthorized

MANAGERS = ("admin", "operator", "connector")
TABLE = Subscription.__tablename__
ENTITY_ID_LENGTH = 120  # audit_log.entity_id
DEFAULT_LIMIT = 20
MAX_LIMIT = 1000


def _subscriber(call: Call, rt: Runtime) -> Principal:
    principal = rt.allow(call, write=False)
    if principal.kind == "anonymous":
        raise Unauthorized("NGSI-LD subscriptions need a bearer token or an X-API-Key")
    principal.require(*MANAGERS)
    if principal.scope.place_path is not None:
        raise Forbidden(
            "a place-scoped key or user cannot subscribe yet: entities carry no place until "
            "place derivation arrives"
        )
    return principal


def _visible(principal: Principal) -> Any:
    """The condition on subscriptions this caller may see (admins: every one)."""
    return true() if principal.is_admin else Subscription.owner == principal.actor


def _find(session: Session, call: Call, principal: Principal, sid: str) -> Subscription:
    row = session.get(Subscription, (call.tenant, sid))
    if row is None or not (principal.is_admin or row.owner == principal.actor):
        raise ResourceNotFound(f"no subscription {sid}")
    return row


def _changed(call: Call, session: Session, kind: str, row: Subscription) -> None:
    """Audited (``receiverInfo`` left out: it may carry credentials) and announced."""
    sid = row.id
    after = None
    if kind != "deleted":
        doc = {k: v for k, v in row.document.items() if k != "@context"}
        endpoint = doc["notification"]["endpoint"]
        endpoint = {**endpoint, "uri": subs.redact(endpoint["uri"])}
        doc["notification"] = {**doc["notification"], "endpoint": endpoint}
        after = {"document": doc, "is_active": row.is_active, "owner": row.owner}
    action = {"created": "insert", "updated": "update", "deleted": "delete"}[kind]
    audit.record(session, action, TABLE, f"{call.tenant}:{sid}"[:ENTITY_ID_LENGTH], after=after)
    emit(
        session,
        f"context.subscription.{kind}",
        {"tenant": call.tenant, "id": sid},
        subject=sid[:200],
    )


def _invalidate(call: Call) -> None:
    """This process's notifier reloads before matching the next change (others: by event)."""
    notifier = getattr(call.request.app.state, subs.NOTIFIER_STATE, None)
    if notifier is not None:
        notifier.invalidate()


def _sid(call: Call) -> str:
    return entity_id(call.args[1], "subscriptionId")


def _int(call: Call, name: str, default: int) -> int:
    raw = call.params.get(name)
    if raw is None:
        return default
    if not raw.isdigit():
        raise BadRequestData(f"{name}: {raw!r} is not a whole number of 0 or more")
    return int(raw)


def create_subscription(call: Call, rt: Runtime) -> Response:
    principal = _subscriber(call, rt)
    context = call.context
    parsed = subs.parse(call.body, rt.terms(call), context, utcnow())
    if "jsonldContext" in parsed.document:
        rt.broker.contexts.term_map(parsed.document["jsonldContext"])  # it must be usable
    with rt.broker.writing(principal.actor, call.request_id) as session:
        rt.broker.ensure_tenant(session, call.tenant)
        if session.get(Subscription, (call.tenant, parsed.id)) is not None:
            raise AlreadyExists(f"subscription {parsed.id} already exists")
        now = utcnow()
        row = Subscription(
            tenant=call.tenant,
            id=parsed.id,
            owner=principal.actor,
            document=parsed.document,
            receiver_info=parsed.receiver_info,
            is_active=parsed.is_active,
            expires_at=parsed.expires_at,
            created_at=now,
            modified_at=now,
            times_sent=0,
            times_failed=0,
        )
        session.add(row)
        _changed(call, session, "created", row)
    _invalidate(call)
    return no_content(201, {"Location": call.location("subscriptions", parsed.id)})


def list_subscriptions(call: Call, rt: Runtime) -> Response:
    principal = _subscriber(call, rt)
    terms = rt.terms(call)
    limit, offset = _int(call, "limit", DEFAULT_LIMIT), _int(call, "offset", 0)
    if limit > MAX_LIMIT:
        raise TooManyResults(f"limit: at most {MAX_LIMIT} subscriptions per page")
    count = call.params.get("count") == "true"
    if limit == 0 and not count:
        raise BadRequestData("limit: 0 is only allowed with count=true")
    where = (Subscription.tenant == call.tenant, _visible(principal))
    with rt.broker.database.sessionmaker() as session:
        rt.broker.check_tenant(session.connection(), call.tenant)
        rows = session.scalars(
            select(Subscription).where(*where).order_by(Subscription.id).limit(limit).offset(offset)
        ).all()
        total = (
            session.scalar(select(func.count()).select_from(Subscription).where(*where))
            if count
            else None
        )
    now, sys_attrs = utcnow(), call.option("sysAttrs")
    body = [render(row, terms, now, sys_attrs) for row in rows]
    if call.accept == JSON_LD:
        body = [{**item, "@context": call.answer_context} for item in body]
    headers = {RESULTS_COUNT: str(total)} if total is not None else None
    return call.respond(body, headers=headers)


def retrieve_subscription(call: Call, rt: Runtime) -> Response:
    principal = _subscriber(call, rt)
    terms = rt.terms(call)
    with rt.broker.database.sessionmaker() as session:
        row = _find(session, call, principal, _sid(call))
    return call.respond(render(row, terms, utcnow(), call.option("sysAttrs")))


def update_subscription(call: Call, rt: Runtime) -> Response:
    """PATCH: the fragment's members replace the stored ones; the whole is checked again."""
    principal = _subscriber(call, rt)
    sid = _sid(call)
    with rt.broker.writing(principal.actor, call.request_id) as session:
        row = _find(session, call, principal, sid)
        # Without a context of its own, the PATCH speaks the subscription's (so does its q).
        context = call.context if call.context is not None else row.document.get("@context")
        terms = rt.broker.contexts.term_map(context)
        now = utcnow()
        current = render(row, terms, now)
        fragment = call.body
        if isinstance(fragment, dict):
            fragment = {k: v for k, v in fragment.items() if k != "@context"}
        merged = subs.merge(current, fragment)
        if "expiresAt" not in fragment:
            merged.pop("expiresAt", None)  # kept below as it is, even if it has passed
        parsed = subs.parse(merged, terms, context, now)
        if "jsonldContext" in parsed.document:
            rt.broker.contexts.term_map(parsed.document["jsonldContext"])
        row.document = parsed.document
        row.receiver_info = parsed.receiver_info
        row.is_active = parsed.is_active
        if "expiresAt" in fragment:
            row.expires_at = parsed.expires_at
        row.modified_at = now
        _changed(call, session, "updated", row)
    _invalidate(call)
    return no_content()


def delete_subscription(call: Call, rt: Runtime) -> Response:
    principal = _subscriber(call, rt)
    sid = _sid(call)
    with rt.broker.writing(principal.actor, call.request_id) as session:
        row = _find(session, call, principal, sid)
        session.delete(row)
        _changed(call, session, "deleted", row)
    _invalidate(call)
    return no_content()

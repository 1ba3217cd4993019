"""Batch entity operations: every entity succeeds or fails on its own, and each is reported."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from ioc.context.entities import NewEntity
from ioc.context.errors import BadRequestData
from ioc.context.service import Broker, Change
from ioc.core.problems import Problem
from ioc.core.scope import Scope

OPERATIONS = ("create", "upsert", "update", "delete")


@dataclass(frozen=True, slots=True)
class Failed:
    """An item refused before the store was touched (bad JSON-LD, a bad id…)."""

    entity_id: str | None
    problem: Problem


Item = NewEntity | str | Failed  # an entity, an id to delete, or a refusal


@dataclass(slots=True)
class BatchResult:
    """The spec's BatchOperationResult, plus which ids were created and what changed."""

    success: list[str] = field(default_factory=list)
    errors: list[tuple[str | None, Problem]] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "success": self.success,
            "errors": [
                {"entityId": eid, "error": problem.to_dict()} for eid, problem in self.errors
            ],
        }


def check(body: Any, limit: int) -> list[Any]:
    """The items of a batch body: a non-empty array no longer than ``limit``."""
    if not isinstance(body, list):
        raise BadRequestData("the body of a batch operation is a JSON array")
    if not body:
        raise BadRequestData("the batch is empty")
    if len(body) > limit:
        raise BadRequestData(
            f"the batch holds {len(body)} entities, more than the limit of {limit} "
            "(IOC_NGSILD_MAX_BATCH)"
        )
    return body


def id_of(item: Any) -> str | None:
    """The entity id an item names, for its error report."""
    if isinstance(item, dict):
        value = item.get("id", item.get("@id"))
        return value if isinstance(value, str) else None
    return item if isinstance(item, str) else None


def run(
    broker: Broker,
    session: Session,
    tenant: str,
    operation: str,
    items: list[Item],
    scope: Scope,
    options: frozenset[str] = frozenset(),
) -> BatchResult:
    """Apply ``operation`` to each item in order; an item's failure stays its own."""
    result = BatchResult()
    broker.ensure_tenant(session, tenant)
    conn = session.connection()
    for item in items:
        if isinstance(item, Failed):
            result.errors.append((item.entity_id, item.problem))
            continue
        try:
            change: Change | None
            if isinstance(item, str):
                change = broker.delete(session, tenant, item, scope)
                result.success.append(item)
                result.changes.append(change)
                continue
            if operation == "create" or (
                operation == "upsert" and not broker.exists(conn, tenant, item.id)
            ):
                change = broker.create(session, tenant, item, scope)
                result.created.append(item.id)
            elif operation == "upsert" and "update" not in options:
                change = broker.replace(session, tenant, item.id, item, scope)
            else:  # update, or upsert with options=update: append to the existing entity
                overwrite = "noOverwrite" not in options
                change, _ = broker.append(
                    session, tenant, item.id, item.attrs, scope, overwrite=overwrite
                )
            if change is not None:
                result.changes.append(change)
            result.success.append(item.id)
        except Problem as problem:
            result.errors.append((item if isinstance(item, str) else item.id, problem))
    return result

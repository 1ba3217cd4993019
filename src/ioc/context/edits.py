"""How each NGSI-LD write changes an entity's attributes: pure functions, no SQL.

Each operation becomes an ``Edit``: given the stored entity and the write's timestamp it
returns the new attributes, the names it changed and (for append and update) the spec's
UpdateResult. The broker runs it inside its optimistic read-modify-write loop.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ioc.context.entities import Attributes, Instance, NewEntity, parse_instance
from ioc.context.errors import ResourceNotFound
from ioc.context.jsonld import TermMap
from ioc.context.store import Stored


@dataclass(slots=True)
class UpdateResult:
    """The spec's UpdateResult: attributes written, and those not with the reason."""

    updated: list[str] = field(default_factory=list)
    not_updated: list[tuple[str, str]] = field(default_factory=list)


@dataclass(slots=True)
class Outcome:
    """The attributes after an edit, the names it changed, a new type if any."""

    attrs: Attributes
    changed: list[str]
    kind: str | None = None
    result: UpdateResult = field(default_factory=UpdateResult)


Edit = Callable[[Stored, str], Outcome]


def stamp(instance: Instance, now: str, created: str | None = None) -> Instance:
    """System times on an instance and its sub-attributes (createdAt kept when replaced)."""
    instance["createdAt"] = created or now
    instance["modifiedAt"] = now
    for key, value in instance.items():
        if ":" in key and isinstance(value, dict):
            stamp(value, now, value.get("createdAt"))
    return instance


def stamp_all(attrs: Attributes, now: str) -> Attributes:
    for instances in attrs.values():
        for instance in instances:
            stamp(instance, now)
    return attrs


def find(instances: list[Instance], dataset: str | None) -> int | None:
    """The position of the instance with ``dataset`` (None: the default instance)."""
    for index, instance in enumerate(instances):
        if instance.get("datasetId") == dataset:
            return index
    return None


def replace_entity(entity: NewEntity) -> Edit:
    def edit(stored: Stored, now: str) -> Outcome:
        attrs = stamp_all(entity.attrs, now)
        changed = sorted(set(stored.attrs) | set(attrs))
        return Outcome(attrs, changed, kind=entity.type or stored.type)

    return edit


def append(attrs: Attributes, *, overwrite: bool, only_existing: bool) -> Edit:
    """Append (or, ``only_existing``, update) attributes instance by instance."""

    def edit(stored: Stored, now: str) -> Outcome:
        current = {name: list(instances) for name, instances in stored.attrs.items()}
        result = UpdateResult()
        changed: list[str] = []
        for name, instances in attrs.items():
            if name not in current and only_existing:
                result.not_updated.append((name, "the entity has no such attribute"))
                continue
            have = current.setdefault(name, [])
            wrote = False
            for instance in instances:
                at = find(have, instance.get("datasetId"))
                if at is None and only_existing:
                    reason = f"no instance with datasetId {instance.get('datasetId')}"
                    result.not_updated.append((name, reason))
                elif at is not None and not overwrite:
                    result.not_updated.append((name, "the attribute exists (noOverwrite)"))
                elif at is None:
                    have.append(stamp(instance, now))
                    wrote = True
                else:
                    have[at] = stamp(instance, now, have[at].get("createdAt"))
                    wrote = True
            if not have:
                del current[name]
            if wrote:
                changed.append(name)
                result.updated.append(name)
        return Outcome(current, changed, result=result)

    return edit


def _missing(entity_id: str, name: str, dataset: str | None) -> ResourceNotFound:
    which = f" with datasetId {dataset}" if dataset else ""
    return ResourceNotFound(f"entity {entity_id} has no attribute {name}{which}")


def patch_attribute(entity_id: str, name: str, fragment: Any, terms: TermMap) -> Edit:
    """Merge a fragment into the instance its datasetId names (the default one without)."""

    def edit(stored: Stored, now: str) -> Outcome:
        instances = stored.attrs.get(name)
        dataset = fragment.get("datasetId") if isinstance(fragment, dict) else None
        at = find(instances, dataset) if instances else None
        if instances is None or at is None:
            raise _missing(entity_id, terms.compact(name), dataset)
        current = instances[at]
        patch = parse_instance(
            fragment, terms.compact(name), terms, partial=True, kind_now=current.get("type")
        )
        merged = stamp({**current, **patch}, now, current.get("createdAt"))
        attrs = dict(stored.attrs)
        attrs[name] = [*instances[:at], merged, *instances[at + 1 :]]
        return Outcome(attrs, [name])

    return edit


def replace_attribute(entity_id: str, name: str, instances: list[Instance]) -> Edit:
    def edit(stored: Stored, now: str) -> Outcome:
        have = stored.attrs.get(name)
        if have is None:
            raise _missing(entity_id, name, None)
        updated = list(have)
        for instance in instances:
            at = find(updated, instance.get("datasetId"))
            if at is None:
                updated.append(stamp(instance, now))
            else:
                updated[at] = stamp(instance, now, updated[at].get("createdAt"))
        return Outcome({**stored.attrs, name: updated}, [name])

    return edit


def delete_attribute(entity_id: str, name: str, dataset: str | None, delete_all: bool) -> Edit:
    def edit(stored: Stored, _now: str) -> Outcome:
        have = stored.attrs.get(name)
        at = find(have, dataset) if have else None
        if have is None or (at is None and not delete_all):
            raise _missing(entity_id, name, dataset)
        attrs = dict(stored.attrs)
        left = [] if delete_all else [i for n, i in enumerate(have) if n != at]
        if left:
            attrs[name] = left
        else:
            del attrs[name]
        return Outcome(attrs, [name])

    return edit

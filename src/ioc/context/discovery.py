"""GET /types and /attributes: which entity types and attributes a tenant holds, from SQL.

One grouped query per request walks every entity's attributes inside the database
(``jsonb_each`` on PostgreSQL, ``json_each`` on SQLite) and returns (type, attribute,
attribute type, instances) rows; the answers are assembled from those.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, text

from ioc.context.errors import ResourceNotFound
from ioc.context.jsonld import TermMap
from ioc.core.scope import Scope

_SQL = {
    "postgresql": """
        SELECT e.type AS type, a.key AS attr, i.value ->> 'type' AS kind, count(*) AS n
        FROM ngsi_entities e
        LEFT JOIN LATERAL jsonb_each(e.attrs) a ON true
        LEFT JOIN LATERAL jsonb_array_elements(a.value) i ON true
        WHERE e.tenant = :tenant {scope}
        GROUP BY e.type, a.key, i.value ->> 'type'
    """,
    "sqlite": """
        SELECT e.type AS type, a.key AS attr, json_extract(i.value, '$.type') AS kind,
               count(*) AS n
        FROM ngsi_entities e
        LEFT JOIN json_each(e.attrs) a
        LEFT JOIN json_each(a.value) i
        WHERE e.tenant = :tenant {scope}
        GROUP BY 1, 2, 3
    """,
}
_COUNT = (
    "SELECT type, count(*) AS n FROM ngsi_entities e WHERE e.tenant = :tenant {scope} GROUP BY type"
)
_SCOPE = "AND e.place_code IN (SELECT code FROM places WHERE path = :path OR path LIKE :under)"


@dataclass(slots=True)
class Catalogue:
    """Types with their attributes, attributes with their types, kinds and instance counts."""

    entities: dict[str, int] = field(default_factory=dict)
    type_attrs: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    attr_types: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    attr_kinds: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    attr_count: dict[str, int] = field(default_factory=lambda: defaultdict(int))


def catalogue(conn: Connection, dialect: str, tenant: str, scope: Scope) -> Catalogue:
    """What the tenant holds, within the caller's scope."""
    params: dict[str, Any] = {"tenant": tenant}
    where = ""
    if scope.place_path is not None:
        where = _SCOPE
        params.update(path=scope.place_path, under=scope.place_path + "/%")
    found = Catalogue()
    for row in conn.execute(text(_COUNT.format(scope=where)), params):
        found.entities[row.type] = row.n
    sql = _SQL["postgresql" if dialect == "postgresql" else "sqlite"]
    for row in conn.execute(text(sql.format(scope=where)), params):
        if row.attr is None:
            continue
        found.type_attrs[row.type].add(row.attr)
        found.attr_types[row.attr].add(row.type)
        if row.kind:
            found.attr_kinds[row.attr].add(row.kind)
        found.attr_count[row.attr] += row.n
    return found


def _names(iris: set[str] | list[str], terms: TermMap) -> list[str]:
    return sorted(terms.compact(i) for i in iris)


def types(found: Catalogue, terms: TermMap, details: bool) -> Any:
    if not details:
        return {
            "id": f"urn:ngsi-ld:EntityTypeList:{uuid.uuid4()}",
            "type": "EntityTypeList",
            "typeList": _names(list(found.entities), terms),
        }
    return [
        {
            "id": iri,
            "type": "EntityType",
            "typeName": terms.compact(iri),
            "attributeNames": _names(found.type_attrs.get(iri, set()), terms),
        }
        for iri in sorted(found.entities, key=terms.compact)
    ]


def type_info(found: Catalogue, terms: TermMap, iri: str) -> dict[str, Any]:
    if iri not in found.entities:
        raise ResourceNotFound(f"no entity of type {terms.compact(iri)} here")
    return {
        "id": iri,
        "type": "EntityTypeInfo",
        "typeName": terms.compact(iri),
        "entityCount": found.entities[iri],
        "attributeDetails": [
            {
                "id": attr,
                "type": "Attribute",
                "attributeName": terms.compact(attr),
                "attributeTypes": sorted(found.attr_kinds.get(attr, set())),
            }
            for attr in sorted(found.type_attrs.get(iri, set()), key=terms.compact)
        ],
    }


def attributes(found: Catalogue, terms: TermMap, details: bool) -> Any:
    if not details:
        return {
            "id": f"urn:ngsi-ld:AttributeList:{uuid.uuid4()}",
            "type": "AttributeList",
            "attributeList": _names(list(found.attr_types), terms),
        }
    return [
        attribute_info(found, terms, iri, brief=True)
        for iri in sorted(found.attr_types, key=terms.compact)
    ]


def attribute_info(
    found: Catalogue, terms: TermMap, iri: str, brief: bool = False
) -> dict[str, Any]:
    if iri not in found.attr_types:
        raise ResourceNotFound(f"no attribute {terms.compact(iri)} here")
    out: dict[str, Any] = {
        "id": iri,
        "type": "Attribute",
        "attributeName": terms.compact(iri),
        "typeNames": _names(found.attr_types[iri], terms),
    }
    if not brief:
        out["attributeCount"] = found.attr_count[iri]
        out["attributeTypes"] = sorted(found.attr_kinds.get(iri, set()))
    return out

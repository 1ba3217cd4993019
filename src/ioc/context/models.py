"""Tables of the NGSI-LD broker: entities (one row each), tenants, and the @context cache."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ioc.core.db import Base, utcnow
from ioc.core.spatial import GeometryColumn

TENANT_LENGTH = 64
ID_LENGTH = 512  # entity ids and expanded type names are URIs
# Entity ids sort byte-wise on both backends (SQLite's BINARY; "C" on PostgreSQL), so a page
# of results is the same page everywhere and the primary key serves the ORDER BY.
EntityIdType = String(ID_LENGTH).with_variant(String(ID_LENGTH, collation="C"), "postgresql")


class Tenant(Base):
    """An NGSI-LD tenant (``NGSILD-Tenant``), created by its first write."""

    __tablename__ = "ngsi_tenants"
    __audit__ = False

    name: Mapped[str] = mapped_column(String(TENANT_LENGTH), primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Entity(Base):
    """One NGSI-LD entity: expanded type, attributes in expanded normalized form, location.

    ``attrs`` maps each expanded attribute name to its instances (several with ``datasetId``).
    Not audited row by row: every change is an ``entity.*`` event, and the temporal store
    (next slice) keeps the history.
    """

    __tablename__ = "ngsi_entities"
    __audit__ = False
    __table_args__ = (
        Index("ix_ngsi_entities_type", "tenant", "type"),
        Index("ix_ngsi_entities_bbox", "tenant", "min_lon", "max_lon"),
        Index("ix_ngsi_entities_location", "location", postgresql_using="gist").ddl_if(
            dialect="postgresql"
        ),
        {"postgresql_with": {"fillfactor": 80}},  # room for in-place updates (migration 0014)
    )

    tenant: Mapped[str] = mapped_column(String(TENANT_LENGTH), primary_key=True)
    id: Mapped[str] = mapped_column(EntityIdType, primary_key=True)
    type: Mapped[str] = mapped_column(String(ID_LENGTH))
    attrs: Mapped[dict[str, Any]] = mapped_column(default=dict)
    place_code: Mapped[str | None] = mapped_column(String(10), index=True)
    location: Mapped[str | None] = mapped_column(GeometryColumn, comment="the location GeoProperty")
    min_lon: Mapped[float | None] = mapped_column(Float)
    min_lat: Mapped[float | None] = mapped_column(Float)
    max_lon: Mapped[float | None] = mapped_column(Float)
    max_lat: Mapped[float | None] = mapped_column(Float)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    modified_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class LdContext(Base):
    """A JSON-LD @context document kept so the broker never waits on the network for it.

    ``kind`` follows the NGSI-LD context API: ``Hosted`` (posted to /jsonldContexts, served
    by us under ``local_id``) or ``Cached`` (a remote URL preloaded or fetched once).
    """

    __tablename__ = "ngsi_contexts"
    __audit__ = False  # documents can be large: the context service audits a summary

    url: Mapped[str] = mapped_column(String(1024), primary_key=True)
    local_id: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    document: Mapped[dict[str, Any]] = mapped_column()
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    note: Mapped[str] = mapped_column(Text, default="")

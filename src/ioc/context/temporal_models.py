"""The NGSI-LD temporal store's table: one row per attribute instance ever written.

A row is written in the same transaction as the entity change that made it. ``value`` is the
instance's value member as JSON (NULL marks a deletion), ``number`` the same value when it is
a number (so aggregation is plain SQL), ``meta`` the rest of the instance (type, unitCode,
sub-attributes…) as JSON. ``observed_at`` is the instance's observedAt, or the write time
when the instance has none; ``recorded_at`` is always the write time.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ioc.context.models import ID_LENGTH, TENANT_LENGTH, EntityIdType
from ioc.core.db import Base

HistoryId = BigInteger().with_variant(Integer(), "sqlite")


class AttributeHistory(Base):
    """One attribute instance as written at one moment (the temporal representation's unit)."""

    __tablename__ = "ngsi_attribute_history"
    __audit__ = False  # the history is itself the record; entity.* events carry the audit
    __table_args__ = (
        Index("ix_ngsi_history_series", "tenant", "entity_id", "attr", "observed_at"),
    )

    id: Mapped[int] = mapped_column(HistoryId, primary_key=True, autoincrement=True)
    tenant: Mapped[str] = mapped_column(String(TENANT_LENGTH))
    entity_id: Mapped[str] = mapped_column(EntityIdType)
    entity_type: Mapped[str] = mapped_column(String(ID_LENGTH))
    attr: Mapped[str] = mapped_column(String(ID_LENGTH))
    dataset_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    observed_at: Mapped[dt.datetime] = mapped_column()
    recorded_at: Mapped[dt.datetime] = mapped_column()
    value: Mapped[str | None] = mapped_column(Text, comment="the value member as JSON")
    number: Mapped[float | None] = mapped_column(Float)
    meta: Mapped[str] = mapped_column(Text, comment="the rest of the instance as JSON")

"""The table of NGSI-LD subscriptions: what each one watches, where it notifies, how it fares."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Boolean, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ioc.context.models import TENANT_LENGTH, EntityIdType
from ioc.core.db import Base, utcnow
from ioc.core.models import ACTOR_LENGTH


class Subscription(Base):
    """One subscription of one tenant, kept across restarts.

    ``document`` holds what the client asked, names expanded, with the ``@context`` it was
    made with (its ``q`` and the notifications are read and written in that context). The
    endpoint's ``receiverInfo`` (headers that may carry credentials) lives apart. Changes are
    audited by the API as a summary without it; the counters and times after
    ``modified_at`` are written by the notifier.
    """

    __tablename__ = "ngsi_subscriptions"
    __audit__ = False

    tenant: Mapped[str] = mapped_column(String(TENANT_LENGTH), primary_key=True)
    id: Mapped[str] = mapped_column(EntityIdType, primary_key=True)
    owner: Mapped[str] = mapped_column(String(ACTOR_LENGTH), comment="actor who created it")
    document: Mapped[dict[str, Any]] = mapped_column()
    receiver_info: Mapped[list[Any]] = mapped_column(default=list)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    expires_at: Mapped[dt.datetime | None] = mapped_column()
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    modified_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    times_sent: Mapped[int] = mapped_column(Integer, default=0)
    times_failed: Mapped[int] = mapped_column(Integer, default=0)
    last_notification: Mapped[dt.datetime | None] = mapped_column()
    last_success: Mapped[dt.datetime | None] = mapped_column()
    last_failure: Mapped[dt.datetime | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(Text)

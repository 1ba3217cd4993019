"""Notification outcomes counted in memory, then written to the subscriptions together."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, Table, bindparam, func, update

from ioc.context.subscription_models import Subscription

TABLE: Table = Subscription.__table__  # type: ignore[assignment]
C = TABLE.c


@dataclass(slots=True)
class Count:
    """What one subscription's notifications did since the last write."""

    sent: int = 0
    failed: int = 0
    last: dt.datetime | None = None
    success: dt.datetime | None = None
    failure: dt.datetime | None = None
    error: str | None = None


# One UPDATE for every subscription in a batch (executemany): counters add up, times move
# on only where this batch has one.
_WRITE = (
    update(TABLE)
    .where(C.tenant == bindparam("p_tenant"), C.id == bindparam("p_id"))
    .values(
        times_sent=C.times_sent + bindparam("p_sent"),
        times_failed=C.times_failed + bindparam("p_failed"),
        last_notification=bindparam("p_last", type_=C.last_notification.type),
        last_success=func.coalesce(
            bindparam("p_success", type_=C.last_success.type), C.last_success
        ),
        last_failure=func.coalesce(
            bindparam("p_failure", type_=C.last_failure.type), C.last_failure
        ),
        last_error=func.coalesce(bindparam("p_error", type_=C.last_error.type), C.last_error),
    )
)


class Tally:
    """Outcomes by (tenant, subscription id), taken and written in batches."""

    def __init__(self) -> None:
        self._counts: dict[tuple[str, str], Count] = {}

    def add(self, tenant: str, sid: str, ok: bool, at: dt.datetime, error: str | None) -> None:
        count = self._counts.setdefault((tenant, sid), Count())
        count.sent += 1
        count.last = at
        if ok:
            count.success = at
        else:
            count.failed += 1
            count.failure, count.error = at, error

    def take(self) -> dict[tuple[str, str], Count]:
        counts, self._counts = self._counts, {}
        return counts

    @staticmethod
    def write(engine: Engine, counts: dict[tuple[str, str], Count]) -> None:
        """One transaction; a subscription deleted meanwhile matches no row."""
        rows: list[dict[str, Any]] = [
            {
                "p_tenant": tenant,
                "p_id": sid,
                "p_sent": c.sent,
                "p_failed": c.failed,
                "p_last": c.last,
                "p_success": c.success,
                "p_failure": c.failure,
                "p_error": c.error,
            }
            for (tenant, sid), c in counts.items()
        ]
        with engine.begin() as conn:
            conn.execute(_WRITE, rows)

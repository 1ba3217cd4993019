"""Reporting periods in Vietnam time (UTC+7 all year): in SQL for counts, in Python for energy."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from sqlalchemy import ColumnElement, func

PERIODS = ("hour", "day", "week", "month")
Period = Literal["hour", "day", "week", "month"]
VIETNAM = dt.timezone(dt.timedelta(hours=7), "ICT")  # no daylight saving: a fixed offset


def start_of(moment: dt.datetime, period: str) -> dt.datetime:
    """The start (aware, Vietnam time) of the period holding ``moment``."""
    local = moment.astimezone(VIETNAM)
    if period == "hour":
        return local.replace(minute=0, second=0, microsecond=0)
    day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "day":
        return day
    if period == "week":  # ISO weeks start on Monday
        return day - dt.timedelta(days=day.weekday())
    return day.replace(day=1)


def following(start: dt.datetime, period: str) -> dt.datetime:
    """The start of the next period."""
    if period == "hour":
        return start + dt.timedelta(hours=1)
    if period == "day":
        return start + dt.timedelta(days=1)
    if period == "week":
        return start + dt.timedelta(days=7)
    return (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def label(start: dt.datetime, period: str) -> str:
    """``2026-11-26T18:00`` for hours, ``2026-11-26`` for days, weeks and months."""
    return start.strftime("%Y-%m-%dT%H:00" if period == "hour" else "%Y-%m-%d")


def bucket(column: Any, period: str, dialect: str) -> ColumnElement[Any]:
    """A SQL expression naming the period of a UTC timestamp column, as :func:`label` does."""
    if dialect == "postgresql":
        local = func.timezone("Asia/Ho_Chi_Minh", column)
        fmt = 'YYYY-MM-DD"T"HH24:00' if period == "hour" else "YYYY-MM-DD"
        return func.to_char(func.date_trunc(period, local), fmt)
    # SQLite keeps UTC as text: shift by 7 hours, then cut to the period.
    if period == "hour":
        return func.strftime("%Y-%m-%dT%H:00", column, "+7 hours")
    if period == "day":
        return func.date(column, "+7 hours")
    if period == "week":
        return func.date(column, "+7 hours", "-6 days", "weekday 1")
    return func.strftime("%Y-%m-01", column, "+7 hours")

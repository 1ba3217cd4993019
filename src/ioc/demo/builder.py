"""Builds the demo database step by step; each capability adds its own step to DEMO_STEPS."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select

from ioc import __version__
from ioc.core.db import Database
from ioc.core.migrate import upgrade
from ioc.core.models import Meta
from ioc.core.plugins import load_object

DEMO_PROVINCE = "Hòa Bình"
DEMO_PASSWORD = "ioc-demo-2025"
FEEDBACK_DAYS = 183  # six months of citizen feedback history


@dataclass
class DemoContext:
    """What the steps share: the database, the province, and the logins to print at the end."""

    database: Database
    province: str = DEMO_PROVINCE
    province_code: str = ""
    logins: list[tuple[str, str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    feedback_days: int = FEEDBACK_DAYS  # tests build a couple of weeks to stay small
    devices: bool = False  # the simulated city fleet (``ioc demo`` asks for it; tests do not)


Step = Callable[[DemoContext], None]

# "module:function" steps, run in order; later issues append theirs (feedback, devices, …).
DEMO_STEPS: list[str] = [
    "ioc.demo.steps:places_step",
    "ioc.demo.steps:agencies_step",
    "ioc.demo.steps:users_step",
    "ioc.feedback.demo:feedback_step",
    "ioc.simulate.demo:devices_step",
    "ioc.services.demo:services_step",
    "ioc.indicators.demo:indicators_step",
    "ioc.gis.demo:gis_step",
    "ioc.alerts.demo:alerts_step",
]


def _step(path: str) -> Step:
    step: Step = load_object(path)
    return step


def is_built(database: Database) -> bool:
    with database.session() as session:
        return session.scalar(select(Meta.value).where(Meta.key == "demo_built")) is not None


def build_demo(
    database: Database,
    report: Callable[[str], None] = lambda _: None,
    *,
    feedback_days: int = FEEDBACK_DAYS,
    devices: bool = False,
) -> DemoContext:
    """Migrate and fill a fresh database with the demo province, step by step."""
    upgrade(database)
    ctx = DemoContext(database, feedback_days=feedback_days, devices=devices)
    for path in DEMO_STEPS:
        report(path.rpartition(":")[2].removesuffix("_step"))
        _step(path)(ctx)
    with database.session("demo") as session:
        session.merge(Meta(key="demo_built", value=__version__))
        session.merge(Meta(key="demo_province", value=ctx.province_code))
    return ctx

"""The core demo steps: places, agencies and one user per role."""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import select

from ioc.core import agencies, places, users
from ioc.core.db import Database
from ioc.core.models import Place, User
from ioc.demo.builder import DEMO_PASSWORD, DemoContext


class DemoUser(NamedTuple):
    username: str
    full_name: str
    roles: list[str]
    place: str | None  # a district's short name, or None for the whole province
    agencies: list[str]
    description: str


DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("admin", "Quản trị hệ thống", ["admin"], None, [], "admin: everything"),
    DemoUser("lanhdao", "Lãnh đạo UBND tỉnh", ["leader"], None, [], "leader: province-wide brief"),
    DemoUser("vanhanh", "Cán bộ vận hành IOC", ["operator"], None, [], "operator: IOC room"),
    DemoUser(
        "sotttt",
        "Cán bộ Sở TT&TT",
        ["agency_staff"],
        None,
        ["STTTT"],
        "agency staff: Department of Information and Communications",
    ),
    DemoUser(
        "dabac",
        "Quản trị huyện Đà Bắc",
        ["district_admin"],
        "Đà Bắc",
        [],
        "district admin: Đà Bắc district only",
    ),
    DemoUser("congdan", "Nguyễn Văn An", ["citizen"], None, [], "citizen"),
)


def places_step(ctx: DemoContext) -> None:
    with ctx.database.session("demo") as session:
        result = places.load_province(session, ctx.province, tree="legacy")
        ctx.province_code = result.province.code
        ctx.notes.append(f"{result.province.name}: {result.summary()}")


def agencies_step(ctx: DemoContext) -> None:
    with ctx.database.session("demo") as session:
        agencies.seed_province(session, ctx.province_code)


def users_step(ctx: DemoContext) -> None:
    with ctx.database.session("demo") as session:
        for spec in DEMO_USERS:
            if session.scalar(select(User.id).where(User.username == spec.username)):
                continue
            place_code = None
            if spec.place:
                place_code = session.scalar(
                    select(Place.code).where(
                        Place.level == "district", Place.short_name == spec.place
                    )
                )
            fields = users.UserFields(
                full_name=spec.full_name,
                roles=spec.roles,
                place_code=place_code,
                agency_codes=spec.agencies,
            )
            users.create_user(session, spec.username, DEMO_PASSWORD, fields)
            ctx.logins.append((spec.username, DEMO_PASSWORD, spec.description))


def demo_logins(ctx_database: Database) -> list[tuple[str, str, str]]:
    """(username, password, what the account is) for the demo users present in the database."""
    with ctx_database.session() as session:
        names = set(session.scalars(select(User.username)))
    return [(u.username, DEMO_PASSWORD, u.description) for u in DEMO_USERS if u.username in names]

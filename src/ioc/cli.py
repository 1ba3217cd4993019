"""``ioc``: the one command an operator needs — serve, demo, migrate, places, users, keys."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from ioc import __version__
from ioc.alerts.cli import app as alerts_app
from ioc.cli_support import actor as _actor
from ioc.cli_support import console, err, operator_errors
from ioc.cli_support import database as _database
from ioc.cli_support import migrated_database as _migrated_database
from ioc.cli_support import require_migrated as _require_migrated
from ioc.cli_support import session_for as _session
from ioc.context.cli import app as context_app
from ioc.core.config import Settings
from ioc.core.db import Database
from ioc.devices.cli import app as devices_app
from ioc.feedback.cli import app as feedback_app
from ioc.gis.cli import app as gis_app
from ioc.indicators.cli import app as indicators_app
from ioc.indicators.cli import report_command
from ioc.ingest.cli import app as ingest_app
from ioc.services.cli import app as services_app
from ioc.simulate.cli import app as simulate_app

app = typer.Typer(
    help=(
        "ioc — Intelligent Operations Centre for a province.\n\n"
        "Start with `ioc demo` (Hòa Bình, nothing else to install). For a real deployment: "
        "set IOC_DATABASE_URL, run `ioc migrate`, `ioc places load --province NAME`, "
        "`ioc user add …`, then `ioc serve`."
    ),
    no_args_is_help=True,
    rich_markup_mode="markdown",
    pretty_exceptions_enable=False,
)
places_app = typer.Typer(
    help="Administrative units (province → district → commune).", no_args_is_help=True
)
user_app = typer.Typer(help="People who log in: add, list, change.", no_args_is_help=True)
key_app = typer.Typer(help="API keys for devices and other systems.", no_args_is_help=True)
agencies_app = typer.Typer(help="Departments and people's committees.", no_args_is_help=True)
app.add_typer(places_app, name="places")
app.add_typer(user_app, name="user")
app.add_typer(key_app, name="apikey")
app.add_typer(agencies_app, name="agencies")
app.add_typer(feedback_app, name="feedback")
app.add_typer(context_app, name="context")
app.add_typer(ingest_app, name="ingest")
app.add_typer(devices_app, name="devices")
app.add_typer(simulate_app, name="simulate")
app.add_typer(services_app, name="services")
app.add_typer(indicators_app, name="indicators")
app.add_typer(gis_app, name="gis")
app.add_typer(alerts_app, name="alerts")
app.command("report")(report_command)


def version_callback(value: bool) -> None:
    if value:
        console.print(f"ioc {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=version_callback,
            is_eager=True,
            help="Print the version and exit.",
        ),
    ] = False,
) -> None:
    """ioc — Intelligent Operations Centre."""


@app.command()
@operator_errors
def migrate() -> None:
    """Create or upgrade the database schema (safe to run again)."""
    from ioc.core.migrate import upgrade

    database = _database()
    before, after = upgrade(database)
    if before == after:
        console.print(f"database already at revision [bold]{after}[/]; nothing to do")
    else:
        console.print(f"database migrated: {before or 'empty'} → [bold]{after}[/]")
    database.dispose()


@app.command()
@operator_errors
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on (IOC_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (IOC_PORT).")] = None,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
) -> None:
    """Serve the API and dashboard on IOC_DATABASE_URL / IOC_BUS_URL."""
    import uvicorn

    settings = Settings()
    database = Database(settings.database_url)
    _require_migrated(database)
    database.dispose()
    host, port = host or settings.host, port or settings.port
    console.print(f"ioc {__version__} on [bold]http://{host}:{port}[/]  (API docs: /docs)")
    uvicorn.run(
        "ioc.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=settings.log_level,
    )


@app.command()
@operator_errors
def demo(
    db: Annotated[Path, typer.Option(help="Demo database file.")] = Path("ioc-demo.db"),
    rebuild: Annotated[bool, typer.Option(help="Delete and build the demo again.")] = False,
    host: Annotated[
        str | None, typer.Option(help="Address to listen on (default IOC_HOST, 127.0.0.1).")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port (default IOC_PORT, 8000).")] = None,
    serve_it: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Start the server after building.")
    ] = True,
) -> None:
    """Build (or reuse) the Hòa Bình demo in a SQLite file and serve it."""
    from ioc.demo.builder import build_demo, is_built
    from ioc.demo.steps import demo_logins

    if rebuild:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
    url = f"sqlite:///{db.resolve()}"
    database = Database(url)
    if db.exists() and is_built(database):
        from ioc.core.migrate import upgrade

        upgrade(database)
        console.print(f"reusing the demo in [bold]{db}[/] (--rebuild to start over)")
    else:
        with console.status("building the demo…") as status:
            ctx = build_demo(database, lambda step: status.update(f"demo: {step}…"), devices=True)
        for note in ctx.notes:
            console.print(f"  • {note}")
        console.print(f"demo built in [bold]{db}[/]")
    table = Table(title="demo logins", show_lines=False)
    for column in ("username", "password", "what it is"):
        table.add_column(column)
    for row in demo_logins(database):
        table.add_row(*row)
    console.print(table)
    database.dispose()
    console.print(f"other commands on this database: [bold]export IOC_DATABASE_URL={url}[/]")
    if not serve_it:
        return
    os.environ["IOC_DATABASE_URL"] = url
    os.environ.setdefault("IOC_DEMO_SIMULATE", "true")
    os.environ.setdefault("IOC_DEVICE_SIMULATOR", "true")
    import uvicorn

    settings = Settings()
    host, port = host or settings.host, port or settings.port
    console.print(
        f"open [bold]http://{host}:{port}/ui/[/] (the IOC screen; API docs at /docs)"
        "  — Ctrl+C to stop"
    )
    uvicorn.run("ioc.app:create_app", factory=True, host=host, port=port, log_level="info")


@places_app.command("load")
@operator_errors
def places_load(
    province: Annotated[
        str | None,
        typer.Option(
            help="Name (with or without diacritics) or GSO code; default IOC_PROVINCE_NAME."
        ),
    ] = None,
    tree: Annotated[
        str, typer.Option(help="legacy (63 provinces, 3 levels) or 2025 (34 provinces, 2 levels).")
    ] = "legacy",
) -> None:
    """Load a province's administrative units from the vietnamadminunits dataset."""
    from ioc.core.audit import record
    from ioc.core.places import load_province

    province = province or Settings().province_name

    with _migrated_database() as database:
        with (
            _session(database) as session,
            Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                console=console,
                transient=True,
            ) as progress,
        ):
            task = progress.add_task("loading places", total=None)

            def advance(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            result = load_province(session, province, tree=tree, progress=advance)
            record(
                session,
                "load",
                "places",
                result.province.code,
                after={
                    "tree": tree,
                    **result.counts,
                    "inserted": result.inserted,
                    "updated": result.updated,
                },
                place_code=result.province.code,
            )
            session.commit()
        console.print(
            f"{result.province.name} ({result.province.code}, {tree} tree): {result.summary()}; "
            f"{result.inserted} added, {result.updated} updated"
        )


@places_app.command("provinces")
@operator_errors
def places_provinces(
    tree: Annotated[str, typer.Option(help="legacy or 2025.")] = "legacy",
) -> None:
    """List the provinces the dataset knows, with their codes."""
    from ioc.core.places import list_provinces

    table = Table("code", "province")
    for info in list_provinces(tree):
        table.add_row(info.code, info.name)
    console.print(table)


@agencies_app.command("seed")
@operator_errors
def agencies_seed() -> None:
    """Create the departments and every district and commune people's committee."""
    from sqlalchemy import select

    from ioc.core.agencies import seed_province
    from ioc.core.models import Place

    with _migrated_database() as database:
        with _session(database) as session:
            codes = list(session.scalars(select(Place.code).where(Place.level == "province")))
            if not codes:
                err.print("[bold red]error:[/] no province loaded: run `ioc places load` first")
                raise typer.Exit(2)
            changed = sum(seed_province(session, code) for code in codes)
            session.commit()
        console.print(f"agencies seeded ({changed} changes)")


def _read_password(password: str | None) -> str:
    if password is not None:
        return password
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    first = typer.prompt("password", hide_input=True)
    second = typer.prompt("again", hide_input=True)
    if first != second:
        err.print("[bold red]error:[/] the two passwords differ")
        raise typer.Exit(2)
    return str(first)


@user_app.command("add")
@operator_errors
def user_add(
    username: Annotated[str, typer.Option(help="Login name: lower-case, digits, . _ -")],
    role: Annotated[
        list[str],
        typer.Option(
            help="admin, leader, operator, agency_staff, "
            "district_admin or citizen; repeat for more."
        ),
    ],
    password: Annotated[str | None, typer.Option(help="Omit to be asked (or read stdin).")] = None,
    place: Annotated[
        str | None,
        typer.Option(
            help="Limit the user to this place's subtree (GSO code, e.g. 150 for Đà Bắc)."
        ),
    ] = None,
    agency: Annotated[
        list[str] | None, typer.Option(help="Limit the user to this agency; repeat for more.")
    ] = None,
    full_name: Annotated[str, typer.Option(help="Name shown in the dashboard.")] = "",
    email: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Add a user who can log in."""
    from ioc.core.users import UserFields, create_user

    with _migrated_database() as database:
        secret = _read_password(password)
        with _session(database) as session:
            user = create_user(
                session,
                username,
                secret,
                UserFields(
                    full_name=full_name,
                    email=email,
                    roles=role,
                    place_code=place,
                    agency_codes=agency or [],
                ),
            )
            session.commit()
            scope = user.place_code or "whole province"
            console.print(f"user [bold]{user.username}[/] added: {', '.join(user.roles)} — {scope}")


@user_app.command("list")
@operator_errors
def user_list() -> None:
    """Every user with roles and scope."""
    from sqlalchemy import select

    from ioc.core.models import User

    with _migrated_database() as database:
        table = Table("username", "name", "roles", "place", "agencies", "active")
        with _session(database) as session:
            for u in session.scalars(select(User).order_by(User.username)):
                table.add_row(
                    u.username,
                    u.full_name,
                    ", ".join(u.roles),
                    u.place_code or "—",
                    ", ".join(u.agency_codes) or "—",
                    "yes" if u.active else "no",
                )
        console.print(table)


@user_app.command("passwd")
@operator_errors
def user_passwd(
    username: Annotated[str, typer.Argument()],
    password: Annotated[str | None, typer.Option(help="Omit to be asked.")] = None,
) -> None:
    """Set a user's password (their open sessions end)."""
    from sqlalchemy import select

    from ioc.core.models import User
    from ioc.core.problems import NotFound
    from ioc.core.users import UserFields, update_user

    with _migrated_database() as database:
        with _session(database) as session:
            user = session.scalar(select(User).where(User.username == username.lower()))
            if user is None:
                raise NotFound(f"no user {username!r}")
            update_user(session, user, UserFields(password=_read_password(password)), by=None)
            session.commit()
        console.print(f"password of [bold]{username}[/] changed")


@key_app.command("create")
@operator_errors
def key_create(
    name: Annotated[str, typer.Option(help="What uses the key, e.g. 'streetlight gateway'.")],
    role: Annotated[list[str], typer.Option(help="device, connector or a human role.")],
    place: Annotated[str | None, typer.Option(help="Limit the key to a place subtree.")] = None,
    agency: Annotated[list[str] | None, typer.Option(help="Limit to an agency.")] = None,
) -> None:
    """Create an API key; the secret is printed once."""
    from ioc.core.users import create_api_key

    with _migrated_database() as database, _session(database) as session:
        key, secret = create_api_key(
            session, name, role, place_code=place, agency_codes=agency or []
        )
        session.commit()
        console.print(f"API key {key.id} ({key.name}); keep this secret, it is not shown again:")
        print(secret)


@key_app.command("list")
@operator_errors
def key_list() -> None:
    """Every API key (secrets are never shown)."""
    from sqlalchemy import select

    from ioc.core.models import ApiKey

    with _migrated_database() as database:
        table = Table("id", "name", "prefix", "roles", "place", "state")
        with _session(database) as session:
            for k in session.scalars(select(ApiKey).order_by(ApiKey.id)):
                state = "revoked" if k.revoked_at else "active"
                table.add_row(
                    str(k.id), k.name, k.prefix, ", ".join(k.roles), k.place_code or "—", state
                )
        console.print(table)


@key_app.command("revoke")
@operator_errors
def key_revoke(key_id: Annotated[int, typer.Argument()]) -> None:
    """Revoke an API key at once."""
    from ioc.core.auth import Principal
    from ioc.core.users import revoke_api_key

    with _migrated_database() as database:
        with _session(database) as session:
            cli = Principal("cli", None, _actor(), frozenset({"admin"}))
            revoke_api_key(session, key_id, cli)
            session.commit()
        console.print(f"API key {key_id} revoked")


def main() -> None:
    app()

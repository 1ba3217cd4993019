"""``ioc ingest``: the MQTT bridge as its own process, the device registry, dead letters."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from typing import Annotated

import orjson
import typer

from ioc.cli_support import actor, console, migrated_database, operator_errors, session_for

GC_THRESHOLD = 50_000  # container allocations between two young-generation collections

app = typer.Typer(
    help="Devices over MQTT (FIWARE IoT Agent JSON): the bridge, the registry, dead letters.",
    no_args_is_help=True,
)
device_app = typer.Typer(help="The device registry: add, list, remove.", no_args_is_help=True)
app.add_typer(device_app, name="device")


@app.command("run")
@operator_errors
def run(
    lanes: Annotated[
        int,
        typer.Option(
            min=1,
            max=16,
            help="Writers on PostgreSQL, each on a connection of its own; a device's messages "
            "all go through one, in order (SQLite: always 1).",
        ),
    ] = 4,
) -> None:
    """Run the MQTT bridge at IOC_MQTT_URL until stopped (Ctrl-C)."""
    from ioc.core.config import Settings
    from ioc.core.problems import Invalid
    from ioc.ingest.bridge import Bridge
    from ioc.ingest.lock import run_exclusive

    settings = Settings()
    if not settings.mqtt_url:
        raise Invalid("IOC_MQTT_URL", "set it to the Mosquitto broker, e.g. mqtt://127.0.0.1:1883")
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)  # its schema check chatters at INFO
    with migrated_database() as database:
        # a process of its own, allocating a few objects per message: collect cycles less
        # often (fewer young objects promoted, fewer full passes over the backlog)
        gc.freeze()
        gc.set_threshold(GC_THRESHOLD, 20, 50)
        bridge = Bridge(database, settings, lanes=lanes)
        console.print(f"bridge {settings.ingest_client_id} → {settings.mqtt_url}")
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(run_exclusive(database, bridge.client_id, bridge.run))
        console.print(f"stopped: {bridge.stored} messages taken, {bridge.dead} dead letters")


@app.command("deadletters")
@operator_errors
def deadletters(
    device: Annotated[str | None, typer.Option(help="Only this device's.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 20,
) -> None:
    """The latest messages the bridge could not take, and why."""
    from ioc.core.scope import Scope
    from ioc.ingest.service import list_dead_letters

    with migrated_database() as database, session_for(database) as session:
        letters = list_dead_letters(session, Scope.everywhere(), device, limit)
    for letter in letters:
        when = letter.received_at.isoformat(timespec="seconds")
        console.print(f"{letter.id} {when} {letter.topic}: {letter.reason}", soft_wrap=True)
        console.print(f"    {letter.payload[:200]}", soft_wrap=True, markup=False)
    if not letters:
        console.print("no dead letters")


@device_app.command("add")
@operator_errors
def add(
    device_id: Annotated[str, typer.Argument(help="The id the device uses in its topics.")],
    apikey: Annotated[str, typer.Option(help="Its service group's API key (topic prefix).")],
    entity_type: Annotated[str, typer.Option("--type", help="NGSI-LD entity type.")] = "Device",
    entity_id: Annotated[
        str | None, typer.Option("--entity", help="Entity id (default urn:ngsi-ld:TYPE:ID).")
    ] = None,
    attr: Annotated[
        list[str] | None,
        typer.Option(help="SHORT=name[:Type[:unit]], e.g. t=temperature:Number:CEL; repeats."),
    ] = None,
    command: Annotated[list[str] | None, typer.Option(help="A command it takes; repeats.")] = None,
    place: Annotated[str | None, typer.Option(help="Place code (commune or district).")] = None,
    protocol: Annotated[str, typer.Option(help="mqtt or http")] = "mqtt",
    tenant: Annotated[str, typer.Option(help="NGSI-LD tenant.")] = "default",
) -> None:
    """Register a device."""
    from ioc.core.problems import Invalid
    from ioc.core.scope import Scope
    from ioc.ingest.schemas import AttributeMap, DeviceCreate
    from ioc.ingest.service import add_device

    mapped = []
    for item in attr or []:
        short, eq, rest = item.partition("=")
        if not eq or not rest:
            raise Invalid("--attr", f"{item!r} is not SHORT=name[:Type[:unit]]")
        name, _, more = rest.partition(":")
        kind, _, unit = more.partition(":")
        mapped.append(
            AttributeMap(object_id=short, name=name, type=kind or "Number", unit_code=unit or None)
        )
    body = DeviceCreate(
        device_id=device_id,
        apikey=apikey,
        entity_id=entity_id,
        entity_type=entity_type,
        tenant=tenant,
        attributes=mapped,
        commands=command or [],
        place_code=place,
        protocol=protocol,
    )
    with migrated_database() as database, session_for(database) as session:
        device = add_device(session, body, Scope.everywhere())
        session.commit()
        console.print(f"added {device.device_id} → {device.entity_id}", soft_wrap=True)


@device_app.command("list")
@operator_errors
def list_devices() -> None:
    """Every registered device, one line each."""
    from ioc.core.scope import Scope
    from ioc.ingest.service import list_devices as listing

    with migrated_database() as database, session_for(database) as session:
        devices = listing(session, Scope.everywhere(), limit=100_000)
    for d in devices:
        attrs = ",".join(f"{a['object_id']}={a['name']}" for a in d.attributes)
        console.print(
            f"{d.device_id} key={d.apikey} {d.protocol} {d.entity_id} place={d.place_code or '-'}"
            f" attrs={attrs or '-'} commands={','.join(d.commands) or '-'}",
            soft_wrap=True,
            markup=False,
        )
    if not devices:
        console.print("no devices")


@device_app.command("remove")
@operator_errors
def remove(device_id: Annotated[str, typer.Argument(help="The device to forget.")]) -> None:
    """Forget a device (its entity stays; open commands expire)."""
    from ioc.core.scope import Scope
    from ioc.ingest.service import get_device, remove_device

    with migrated_database() as database, session_for(database) as session:
        remove_device(session, get_device(session, device_id, Scope.everywhere()))
        session.commit()
    console.print(f"removed {device_id}")


@app.command("command")
@operator_errors
def command_cmd(
    device_id: Annotated[str, typer.Argument(help="The device.")],
    name: Annotated[str, typer.Argument(help="The command, e.g. switch.")],
    value: Annotated[str, typer.Argument(help="Its value, JSON or text, e.g. on or 40.")],
) -> None:
    """Queue a command for a device (the bridge publishes it on /{apikey}/{device}/cmd)."""
    from ioc.core.config import Settings
    from ioc.ingest.commands import send_command

    try:
        parsed = orjson.loads(value)
    except orjson.JSONDecodeError:
        parsed = value
    expires = Settings().ingest_command_seconds
    with migrated_database() as database, session_for(database) as session:
        command = send_command(session, device_id, name, parsed, actor(), expires_in=expires)
        session.commit()
        console.print(f"command {command.id} {name}={value} for {device_id}: {command.status}")

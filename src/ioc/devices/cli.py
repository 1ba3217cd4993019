"""``ioc devices``: Smart Data Model schemas, validating entity files, the streetlight scan."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import orjson
import typer

from ioc.cli_support import console, err, existing_file, migrated_database, operator_errors

app = typer.Typer(
    help="Smart-city devices: Smart Data Model schemas and validation, streetlight faults.",
    no_args_is_help=True,
)


@app.command("schemas")
def schemas() -> None:
    """List the Smart Data Models whose JSON Schemas ship with ioc."""
    from ioc.devices.validation import TYPES, schema

    for name in TYPES:
        required = ", ".join(schema(name).get("required", []))
        console.print(f"{name:26} required: {required}")


@app.command("validate")
@operator_errors
def validate(
    file: Annotated[Path, typer.Argument(help="JSON entity or array.")],
    type_name: Annotated[
        str | None, typer.Option("--type", help="The model (default: each entity's type).")
    ] = None,
) -> None:
    """Check entities (keyValues or normalized) against their Smart Data Model; 1 if any fails."""
    existing_file(file)
    from ioc.core.problems import MalformedBody
    from ioc.devices.validation import TYPES, validate

    try:
        doc = orjson.loads(file.read_bytes())
    except orjson.JSONDecodeError as exc:
        raise MalformedBody(f"{file}: not JSON ({exc})") from None
    items = doc if isinstance(doc, list) else [doc]
    failed = 0
    for n, item in enumerate(items, 1):
        if not isinstance(item, dict):
            raise MalformedBody(f"{file}: item {n} is not a JSON object")
        name = type_name or str(item.get("type", ""))
        if name not in TYPES:
            raise MalformedBody(f"type: {name!r} is none of {', '.join(TYPES)}")
        found = validate(name, item)
        label = item.get("id", f"item {n}")
        if found:
            failed += 1
            for v in found:
                err.print(f"{label}: {v.path}: {v.message}", soft_wrap=True)
        else:
            console.print(f"{label}: valid {name}")
    if failed:
        raise typer.Exit(1)


@app.command("scan")
@operator_errors
def scan() -> None:
    """Scan the streetlights for faults now (the server does it every few minutes too)."""
    from ioc.context.service import Broker
    from ioc.core.config import Settings
    from ioc.devices.faults import Rules
    from ioc.devices.tasks import scan_once

    settings = Settings()
    with migrated_database() as database:
        result = scan_once(database, Broker(database, settings), Rules.of(settings))
    if result is None:
        console.print("another server is scanning right now; nothing done")
        return
    for fault in result.found:
        console.print(f"new fault  {fault.light_id} {fault.kind}: {fault.detail}", soft_wrap=True)
    for fault in result.cleared:
        console.print(f"cleared    {fault.light_id} {fault.kind}", soft_wrap=True)
    console.print(
        f"{result.lights} lights scanned: {len(result.found)} new fault(s), "
        f"{len(result.cleared)} cleared, {result.still_open} still open"
    )

"""``ioc indicators …`` and ``ioc report``: recompute, the brief, push, documents, reports."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import orjson
import typer

from ioc.cli_support import console, existing_file, migrated_database, operator_errors
from ioc.core.config import Settings
from ioc.core.problems import Invalid
from ioc.indicators import catalogue, periods, push, recompute, reports, upload

app = typer.Typer(help="Indicators: catalogue, recompute, brief, push.", no_args_is_help=True)


@app.command("catalogue")
@operator_errors
def catalogue_command() -> None:
    """Create or refresh the catalogue's indicators and targets (then recompute)."""
    with migrated_database() as database, database.session("cli:indicators") as session:
        changed = catalogue.install(session)
    console.print(f"{len(catalogue.CATALOGUE)} indicators in the catalogue, {changed} changes")


@app.command("recompute")
@operator_errors
def recompute_command(
    period: Annotated[str | None, typer.Option(help="one period, e.g. 2025-Q3")] = None,
    last: Annotated[int, typer.Option(help="else the last N quarters")] = 8,
) -> None:
    """Rebuild every computed indicator for the chosen periods from scratch."""
    keys = [period] if period else periods.previous(periods.current("quarter"), last)
    with migrated_database() as database, database.session("cli:indicators") as session:
        count = recompute.rebuild(session, keys)
    console.print(f"recomputed {count} cells over {', '.join(keys)}")


@app.command("brief")
@operator_errors
def brief_command(period: Annotated[str | None, typer.Option()] = None) -> None:
    """The leaders' brief as JSON."""
    with migrated_database() as database, database.session("cli:indicators") as session:
        doc = reports.brief(session, period or periods.current("quarter"))
    console.print_json(orjson.dumps(doc).decode())


@app.command("push")
@operator_errors
def push_command(period: Annotated[str, typer.Option(help="e.g. 2025-Q3")]) -> None:
    """Push the period's values to IOC_REPORT_PUSH_URL (signed, retried, logged)."""
    with migrated_database() as database:
        delivery = push.push(database, Settings(), period)
    console.print(
        f"{delivery.status} after {delivery.attempts} attempt(s), HTTP {delivery.response_code}"
    )
    if delivery.status != "delivered":
        raise typer.Exit(1)


@app.command("public-key")
@operator_errors
def public_key_command() -> None:
    """Print the key id and public key of IOC_REPORT_PUSH_ED25519_KEY, for the receiver."""
    settings = Settings()
    if not settings.report_push_ed25519_key:
        raise Invalid(push.KEY_SETTING, "no Ed25519 key is configured")
    key = push.load_key(settings.report_push_ed25519_key)
    console.print(f"key id: {push.key_id(key, settings.report_push_key_id)}")
    console.print(push.public_pem(key), end="", markup=False, highlight=False)


@app.command("documents")
@operator_errors
def documents_command(file: Annotated[Path, typer.Argument(help="CSV file.")]) -> None:
    """Import the register of outgoing documents from CSV (per-row report)."""
    existing_file(file)
    with migrated_database() as database, database.session("cli:indicators") as session:
        report = upload.import_documents(session, upload.read_rows(file.read_bytes(), file.name))
    console.print(
        f"created {report.created}, updated {report.updated}, unchanged {report.unchanged}"
    )
    for error in report.errors:
        console.print(f"line {error['line']}: {error['message']}")


@operator_errors
def report_command(
    period: Annotated[str, typer.Option(help="e.g. 2025-Q3")],
    format: Annotated[str, typer.Option("--format", help="xlsx or pdf")] = "xlsx",
    out: Annotated[Path | None, typer.Option(help="file to write")] = None,
    indicator: Annotated[
        list[str] | None, typer.Option(help="indicator codes (default all)")
    ] = None,
) -> None:
    """Write the period's report of indicators by district (XLSX with a chart, or PDF)."""
    if format not in ("xlsx", "pdf"):
        raise typer.BadParameter("choose xlsx or pdf", param_hint="--format")
    with migrated_database() as database, database.session("cli:report") as session:
        table = reports.build(session, period, indicator)
    data = reports.to_pdf(table) if format == "pdf" else reports.to_xlsx(table)
    target = out or Path(f"bao-cao-{period}.{format}")
    target.write_bytes(data)
    console.print(f"wrote {target} ({len(data)} bytes, {len(table.columns)} indicators)")

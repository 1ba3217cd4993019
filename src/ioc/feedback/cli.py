"""``ioc feedback``: import messages and petitions, escalate overdue requests, the catalogue."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ioc.cli_support import (
    console,
    existing_file,
    finish_import,
    migrated_database,
    operator_errors,
    require_agencies,
    session_for,
)

app = typer.Typer(
    help="Citizen feedback: bulk import, escalation of overdue requests, the catalogue.",
    no_args_is_help=True,
)


@app.command("import")
@operator_errors
def import_file(
    file: Annotated[Path, typer.Argument(help="CSV or JSON file.")],
    channel: Annotated[
        str | None,
        typer.Option(help="For rows with no channel column: sms, zalo, email, petition, hotline."),
    ] = None,
    dry_run: Annotated[bool, typer.Option(help="Check every row, store nothing.")] = False,
) -> None:
    """Import SMS/Zalo/e-mail messages or petitions; every bad row is listed (exit code 1)."""
    existing_file(file)
    from ioc.core.config import Settings
    from ioc.feedback import import_files, importer, service

    data = file.read_bytes()
    fmt = import_files.detect_format(file.name, None, data)
    settings = Settings()
    rule = service.DuplicateRule(
        settings.feedback_duplicate_radius_m, settings.feedback_duplicate_days
    )
    with migrated_database() as database, session_for(database) as session:
        report = importer.import_file(
            session, data, fmt, channel=channel, dry_run=dry_run, rule=rule
        )
        if not dry_run:
            session.commit()
    verb = "would store" if dry_run else "stored"
    summary = (
        f"{report.received} rows: {verb} [bold]{len(report.stored)}[/], "
        f"already imported {len(report.skipped)}, rejected [bold]{report.rejected}[/]"
    )
    finish_import(report.errors, file.name, summary, dry_run=dry_run)


@app.command()
@operator_errors
def escalate() -> None:
    """Raise overdue open requests to the level above, once (the server does it periodically)."""
    from ioc.feedback.service import escalate_overdue

    with migrated_database() as database, session_for(database) as session:
        raised = escalate_overdue(session)
        session.commit()
    console.print(f"{raised} overdue requests escalated")


@app.command()
@operator_errors
def catalogue() -> None:
    """Create or refresh the feedback catalogue (after `ioc agencies seed`) and list it."""
    from sqlalchemy import select

    from ioc.feedback.catalogue import seed_catalogue
    from ioc.feedback.models import FeedbackService

    with migrated_database() as database, session_for(database) as session:
        require_agencies(session)
        changed = seed_catalogue(session)
        session.commit()
        table = Table("code", "name", "agency", "handled by", "SLA (working days)")
        for s in session.scalars(select(FeedbackService).order_by(FeedbackService.position)):
            table.add_row(s.code, s.name, s.agency_code or "—", s.route_to, str(s.sla_days))
    console.print(table)
    console.print(f"catalogue seeded ({changed} changes)")

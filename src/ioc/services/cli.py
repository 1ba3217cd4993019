"""``ioc services``: import one-stop-shop exports, seed the procedure catalogue, measures."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ioc.cli_support import (
    console,
    err,
    existing_file,
    finish_import,
    migrated_database,
    operator_errors,
    require_agencies,
    session_for,
)

app = typer.Typer(
    help="Public services: dossier imports, the procedure catalogue, on-time measures.",
    no_args_is_help=True,
)


@app.command("import")
@operator_errors
def import_file(
    file: Annotated[Path, typer.Argument(help="CSV, XLSX or JSON export.")],
    dry_run: Annotated[bool, typer.Option(help="Check every row, store nothing.")] = False,
) -> None:
    """Import dossiers, idempotent by code; every rejected row is listed (exit code 1)."""
    existing_file(file)
    from ioc.services import import_files, importer

    data = file.read_bytes()
    fmt = import_files.detect_format(file.name, None, data)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with (
        migrated_database() as database,
        session_for(database) as session,
        Progress(*columns, TimeElapsedColumn(), console=err, transient=True) as progress,
    ):
        table = import_files.read(data, fmt)
        task = progress.add_task(f"importing {file.name}", total=len(table.rows))
        report = importer.import_rows(
            session,
            table,
            dry_run=dry_run,
            progress=lambda done: progress.update(task, completed=done),
        )
        if not dry_run:
            session.commit()
    verb = "would create" if dry_run else "created"
    summary = (
        f"{report.received} rows: {verb} [bold]{report.created}[/], updated {report.updated}, "
        f"unchanged {report.skipped}, rejected [bold]{report.rejected}[/]"
    )
    finish_import(report.errors, file.name, summary, dry_run=dry_run, limit=200)


@app.command()
@operator_errors
def catalogue() -> None:
    """Create the procedure catalogue (after `ioc agencies seed`) and summarise it by sector."""
    from sqlalchemy import case, func, select

    from ioc.services.catalogue import SECTOR_NAMES, seed_catalogue
    from ioc.services.models import ServiceProcedure as P

    with migrated_database() as database, session_for(database) as session:
        require_agencies(session)
        created = seed_catalogue(session)
        session.commit()
        table = Table("sector", "procedures", "full online", "agency")
        full = func.sum(case((P.online_level == "full_online", 1), else_=0))
        rows = session.execute(
            select(P.sector, func.count(), full, func.min(P.agency_code)).group_by(P.sector)
        )
        for sector, n, online, agency in rows:
            table.add_row(SECTOR_NAMES.get(sector, (sector,))[0], str(n), str(online), agency)
    console.print(table)
    console.print(f"catalogue ready ({created} procedures created)")


@app.command()
@operator_errors
def measures(
    start: Annotated[dt.datetime, typer.Option("--from", formats=["%Y-%m-%d"])],
    end: Annotated[dt.datetime, typer.Option("--to", formats=["%Y-%m-%d"])],
    by: Annotated[
        str, typer.Option(help="district, commune, agency, procedure, sector, period")
    ] = "district",
) -> None:
    """On-time %, resolved, late and in progress from --from to --to (both included)."""
    from ioc.services import measures as m

    if by not in m.BYS:
        err.print(f"[bold red]error:[/] --by is one of {', '.join(m.BYS)}")
        raise typer.Exit(2)
    with migrated_database() as database, session_for(database) as session:
        rows = m.measures(session, start.date(), end.date(), by=by)  # type: ignore[arg-type]
    table = Table(by, "name", "received", "resolved", "on time %", "late", "in progress")
    for r in rows:
        pct = "—" if r.on_time_pct is None else f"{r.on_time_pct:.2f}"
        table.add_row(
            r.key or "province",
            r.name or "",
            str(r.received),
            str(r.resolved),
            pct,
            str(r.late),
            str(r.in_progress),
        )
    console.print(table)

"""``ioc gis``: import a GeoJSON / Shapefile (zip) / GeoPackage / CSV as a layer; list layers."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Column, Table

from ioc.cli_support import (
    console,
    err,
    existing_file,
    migrated_database,
    operator_errors,
    session_for,
)

app = typer.Typer(help="GIS layers served as OGC API – Features (/ogcapi).", no_args_is_help=True)


def _print_errors(errors: list[dict[str, Any]], source: str) -> None:
    table = Table("feature", "id", "problem", title=f"features of {source} not imported")
    for e in errors[:200]:
        table.add_row(str(e["index"]), str(e["id"]), str(e["message"]))
    console.print(table)
    if len(errors) > 200:
        console.print(f"… and {len(errors) - 200} more")


@app.command("import")
@operator_errors
def import_file(
    file: Annotated[
        Path,
        typer.Argument(help="GeoJSON, .zip Shapefile, .gpkg, CSV"),
    ],
    layer: Annotated[
        str, typer.Option("--layer", help="Layer id, e.g. roads (the collection id).")
    ],
    crs: Annotated[
        str | None,
        typer.Option(help="Source CRS when the file names none: EPSG:9211, VN2000-TM3-106"),
    ] = None,
    title: Annotated[str | None, typer.Option(help="Title shown in /ogcapi/collections.")] = None,
    replace: Annotated[
        bool, typer.Option(help="Replace the features of an existing layer.")
    ] = False,
    boundaries: Annotated[
        str | None, typer.Option(help="Property with GSO place codes: polygons become boundaries.")
    ] = None,
    skip_invalid: Annotated[
        bool, typer.Option(help="Import the good features, list the bad.")
    ] = False,
    dry_run: Annotated[bool, typer.Option(help="Check every feature, store nothing.")] = False,
    source_layer: Annotated[
        str | None, typer.Option(help="The layer to read from a GeoPackage holding several.")
    ] = None,
) -> None:
    """Import FILE as layer --layer, reprojected to WGS 84, in one transaction (all or nothing)."""
    existing_file(file)
    from ioc.core.problems import Invalid
    from ioc.gis import importer

    with migrated_database() as database, session_for(database) as session:
        try:
            report = importer.import_file(
                session, file, layer, title=title, crs=crs, replace=replace,
                boundaries=boundaries, skip_invalid=skip_invalid, dry_run=dry_run,
                source_layer=source_layer,
            )  # fmt: skip
        except Invalid as exc:
            rows = [e for e in exc.errors if "index" in e]
            if rows:
                _print_errors(rows, file.name)
            err.print(f"[bold red]error:[/] {exc.detail}")
            raise typer.Exit(2) from None
        if not dry_run:
            session.commit()
    if report.errors:
        _print_errors(report.errors, file.name)
    verb = "would import" if dry_run else ("replaced with" if report.replaced else "imported")
    console.print(
        f"{layer}: {verb} [bold]{report.imported}[/] of {report.received} features "
        f"({report.format}, from {report.source_crs})"
        + (f"; {report.boundaries} place boundaries set" if report.boundaries else "")
        + (" (dry run: nothing was stored)" if dry_run else "")
    )


@app.command()
@operator_errors
def layers() -> None:
    """The layers (collections) with their feature counts and sources."""
    from sqlalchemy import select

    from ioc.gis.models import GisLayer

    with migrated_database() as database, session_for(database) as session:
        rows = list(session.scalars(select(GisLayer).order_by(GisLayer.category, GisLayer.id)))
    table = Table("features", "geometry", "title", "source")
    table.columns.insert(0, Column("layer", no_wrap=True))
    for layer in rows:
        source = f"{layer.source} ({layer.source_crs})" if layer.source_crs else layer.source
        table.add_row(
            layer.id, str(layer.feature_count), layer.geometry_type or "", layer.title, source
        )
    console.print(table)
    console.print(f"{len(rows)} layers; also built in: admin-units, parcels, planning-zones")

"""``ioc alerts``: the alerts in the database and the rules that raise them."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from ioc.cli_support import console, err, migrated_database, operator_errors, session_for

app = typer.Typer(help="Alerts: list them, and the rules that raise them.", no_args_is_help=True)


@app.command("list")
@operator_errors
def list_command(
    status: Annotated[
        list[str] | None, typer.Option(help="open, acknowledged or resolved (repeat).")
    ] = None,
    severity: Annotated[
        list[str] | None, typer.Option(help="info, warning or critical (repeat).")
    ] = None,
    place: Annotated[str | None, typer.Option(help="A place code: it and all below it.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="How many at most.")] = 50,
) -> None:
    """The newest alerts, province-wide."""
    from ioc.alerts import service
    from ioc.core.auth import Principal

    everyone = Principal("user", None, "cli", frozenset({"admin"}))
    f = service.Filter(tuple(status or ()), tuple(severity or ()), (), place)
    with migrated_database() as database, session_for(database) as session:
        rows, total = service.list_alerts(session, everyone, f, limit)
        table = Table("id", "raised (UTC)", "severity", "status", "rule", "title", "place", "×")
        for a in rows:
            table.add_row(
                str(a.id),
                a.raised_at.strftime("%Y-%m-%d %H:%M"),
                a.severity,
                a.status,
                a.rule,
                a.title,
                a.place_code or "",
                str(a.count),
            )
    console.print(table)
    console.print(f"{len(rows)} of {total} alert(s)")


@app.command("rules")
@operator_errors
def rules_command() -> None:
    """The rules: the events each follows, what raises it, what resolves it on its own."""
    from ioc.alerts.engine import enabled
    from ioc.alerts.rules import RULES, Thresholds
    from ioc.core.config import Settings

    settings = Settings()
    try:
        on = enabled(settings)
    except ValueError as exc:
        err.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(2) from None
    limits = Thresholds.of(settings)
    table = Table("rule", "on", "name", "follows", "raises", "resolves by itself")
    for r in RULES.values():
        table.add_row(
            r.code,
            "yes" if r.code in on else "no",
            r.name,
            ", ".join(r.follows),
            r.raises,
            r.clears,
        )
    console.print(table)
    levels = " / ".join(f"{v:g}" for v in limits.river_levels)
    aqi = " / ".join(f"{v:g}" for v in limits.aqi_levels)
    console.print(f"river alarm levels I/II/III: {levels} m; AQI levels: {aqi}")

"""``ioc context``: remote JSON-LD @contexts kept in the database, never fetched on a request."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import orjson
import typer

from ioc.cli_support import console, existing_file, migrated_database, operator_errors, session_for

app = typer.Typer(
    help="NGSI-LD: preload remote @contexts for offline use, list them; prune old history.",
    no_args_is_help=True,
)


@app.command("preload")
@operator_errors
def preload(
    url: Annotated[str, typer.Argument(help="The @context URL clients will send.")],
    file: Annotated[
        Path | None,
        typer.Option(
            "--file",
            help="Its document, from a file (else it is fetched now).",
        ),
    ] = None,
) -> None:
    """Keep the @context at URL (fetched now, or read from --file) for use without the network."""
    from ioc.context.contexts import ContextStore
    from ioc.context.errors import BadRequestData
    from ioc.core.config import Settings

    document = None
    if file is not None:
        try:
            document = orjson.loads(existing_file(file).read_bytes())
        except orjson.JSONDecodeError as exc:
            raise BadRequestData(f"{file}: not JSON ({exc})") from None
    settings = Settings()
    with migrated_database() as database, session_for(database) as session:
        store = ContextStore(database, fetch_remote=True, timeout=settings.ngsild_context_timeout)
        row = store.preload(session, url, document)
        session.commit()
        terms = row.document["@context"]
        size = len(terms) if isinstance(terms, dict | list) else 1
    console.print(f"kept {url} ({size} entries), local id {row.local_id}")


@app.command("list")
@operator_errors
def list_contexts() -> None:
    """The @contexts this server has without the network (the core one included)."""
    from ioc.context.contexts import ContextStore

    with migrated_database() as database, session_for(database) as session:
        store = ContextStore(database, fetch_remote=False, timeout=1.0)
        found = store.listing(session)
    for info in found:  # one line each: URLs are long and must stay whole
        since = info.created or "shipped with ioc"
        console.print(f"{info.kind:7} {info.url}  (id {info.local_id}, {since})", soft_wrap=True)


@app.command("prune")
@operator_errors
def prune_history(
    retention: Annotated[
        str | None,
        typer.Option(
            "--retention",
            help='Periods by type, e.g. "default=30d,Streetlight=90d" (else IOC_NGSILD_RETENTION).',
        ),
    ] = None,
) -> None:
    """Delete NGSI-LD attribute history older than its type's retention period."""
    from ioc.context.temporal_retention import parse_retention, prune
    from ioc.core.config import Settings

    rules = parse_retention(retention if retention is not None else Settings().ngsild_retention)
    if rules.keeps_everything:
        console.print("nothing to prune: IOC_NGSILD_RETENTION keeps all history")
        return
    with migrated_database() as database:
        done = prune(database, rules)
    for kind, count in done.items():
        console.print(f"{kind}: {count} history rows deleted", soft_wrap=True)

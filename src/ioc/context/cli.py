"""``ioc context``: remote JSON-LD @contexts kept in the database, never fetched on a request."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, ParamSpec, TypeVar

import orjson
import typer

P = ParamSpec("P")
R = TypeVar("R")

app = typer.Typer(
    help="NGSI-LD @contexts: preload remote ones for offline use, list what is kept.",
    no_args_is_help=True,
)


def _errors(fn: Callable[P, R]) -> Callable[P, R]:
    """``ioc.cli.operator_errors``, looked up when called: ``ioc.cli`` imports this module."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        from ioc.cli import operator_errors

        return operator_errors(fn)(*args, **kwargs)

    return wrapper


@app.command("preload")
@_errors
def preload(
    url: Annotated[str, typer.Argument(help="The @context URL clients will send.")],
    file: Annotated[
        Path | None,
        typer.Option(
            "--file",
            exists=True,
            dir_okay=False,
            help="Its document, from a file (else it is fetched now).",
        ),
    ] = None,
) -> None:
    """Keep the @context at URL (fetched now, or read from --file) for use without the network."""
    from ioc.cli import _migrated_database, _session, console
    from ioc.context.contexts import ContextStore
    from ioc.context.errors import BadRequestData
    from ioc.core.config import Settings

    document = None
    if file is not None:
        try:
            document = orjson.loads(file.read_bytes())
        except orjson.JSONDecodeError as exc:
            raise BadRequestData(f"{file}: not JSON ({exc})") from None
    settings = Settings()
    with _migrated_database() as database, _session(database) as session:
        store = ContextStore(database, fetch_remote=True, timeout=settings.ngsild_context_timeout)
        row = store.preload(session, url, document)
        session.commit()
        terms = row.document["@context"]
        size = len(terms) if isinstance(terms, dict | list) else 1
    console.print(f"kept {url} ({size} entries), local id {row.local_id}")


@app.command("list")
@_errors
def list_contexts() -> None:
    """The @contexts this server has without the network (the core one included)."""
    from ioc.cli import _migrated_database, _session, console
    from ioc.context.contexts import ContextStore

    with _migrated_database() as database, _session(database) as session:
        store = ContextStore(database, fetch_remote=False, timeout=1.0)
        found = store.listing(session)
    for info in found:  # one line each: URLs are long and must stay whole
        since = info.created or "shipped with ioc"
        console.print(f"{info.kind:7} {info.url}  (id {info.local_id}, {since})", soft_wrap=True)

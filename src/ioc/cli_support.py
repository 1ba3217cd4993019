"""What every ``ioc`` sub-command shares: the consoles, operator-friendly errors, the database.

Kept apart from ``ioc.cli`` (which imports every capability's commands) so that a
capability's ``cli.py`` can import it at the top, with no import cycle.
"""

from __future__ import annotations

import functools
import getpass
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import ParamSpec, Protocol, TypeVar

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from ioc.core.config import Settings
from ioc.core.db import Database
from ioc.core.problems import Invalid, Problem

P = ParamSpec("P")
R = TypeVar("R")

console = Console()
err = Console(stderr=True, soft_wrap=True)  # an error stays one greppable line


def operator_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn service errors into one red line and exit code 2, never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except Problem as exc:
            err.print(f"[bold red]error:[/] {exc.detail}")
            raise typer.Exit(2) from None
        except OperationalError as exc:
            err.print(f"[bold red]error:[/] cannot use the database: {exc.orig}")
            raise typer.Exit(2) from None

    return wrapper


def existing_file(path: Path) -> Path:
    """``path`` if it is a file; else one line naming it (typer's own check draws a usage box)."""
    if not path.exists():
        raise Invalid("file", f"{path}: no such file")
    if not path.is_file():
        raise Invalid("file", f"{path} is a folder, not a file")
    return path


def database() -> Database:
    """The database ``IOC_DATABASE_URL`` names."""
    return Database(Settings().database_url)


@contextmanager
def migrated_database() -> Iterator[Database]:
    """The configured database, refused with advice if its schema is behind; always closed."""
    found = database()
    try:
        require_migrated(found)
        yield found
    finally:
        found.dispose()


def actor() -> str:
    """Who the audit log names for a command: the operating-system user."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def session_for(db: Database) -> Session:
    """A session whose writes are audited as the command's user."""
    session = db.sessionmaker()
    session.info["actor"] = actor()
    return session


def require_migrated(db: Database) -> None:
    """Exit with advice when the schema is not the one this version of ioc needs.

    A SQLite file that does not exist is not created here: the usual cause is a command run
    without ``IOC_DATABASE_URL`` beside a demo database, and an empty file would hide that.
    """
    from sqlalchemy.engine import make_url

    from ioc.core.migrate import current_revision, head_revision

    url = make_url(db.url)
    where = f"IOC_DATABASE_URL={url.render_as_string(hide_password=True)}"
    file = url.database if url.get_backend_name() == "sqlite" else None
    if file and file != ":memory:" and not Path(file).exists():
        demo = Path("ioc-demo.db")
        hint = f" (the demo's: sqlite:///{demo.resolve()})" if demo.exists() else ""
        err.print(
            f"[bold red]error:[/] no database at {where}: point IOC_DATABASE_URL at yours"
            f"{hint}, or create it with `ioc migrate`"
        )
        raise typer.Exit(2)
    current, head = current_revision(db), head_revision()
    if current != head:
        err.print(
            f"[bold red]error:[/] the database at {where} is at revision "
            f"{current or 'none (empty)'}, this version of ioc needs {head}: run `ioc migrate`"
        )
        raise typer.Exit(2)


class RowProblem(Protocol):
    """A rejected row of an import: where, which field, why."""

    @property
    def row(self) -> int: ...
    @property
    def field(self) -> str: ...
    @property
    def message(self) -> str: ...


def print_rejected(errors: Sequence[RowProblem], source: str, limit: int | None = None) -> None:
    """The rejected rows of an import as one table (the first ``limit``, then a count)."""
    if not errors:
        return
    table = Table("row", "field", "problem", title=f"rejected rows of {source}")
    for error in errors[:limit]:
        table.add_row(str(error.row), error.field, error.message)
    console.print(table)
    if limit is not None and len(errors) > limit:
        console.print(f"… and {len(errors) - limit} more problems")


def finish_import(
    errors: Sequence[RowProblem],
    source: str,
    summary: str,
    *,
    dry_run: bool,
    limit: int | None = None,
) -> None:
    """Report an import: its rejected rows, one summary line; exit code 1 if any row was."""
    print_rejected(errors, source, limit)
    console.print(summary + (" (dry run: nothing was stored)" if dry_run else ""))
    if errors:
        raise typer.Exit(1)


def require_agencies(session: Session) -> None:
    """Catalogues name their responsible agencies: refuse, with the fix, when there are none."""
    from sqlalchemy import func, select

    from ioc.core.models import Agency

    if not session.scalar(select(func.count()).select_from(Agency)):
        err.print("[bold red]error:[/] no agencies yet: run `ioc agencies seed` first")
        raise typer.Exit(2)

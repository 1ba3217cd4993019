"""Every setting and every command an operator can use is documented in README."""

from __future__ import annotations

from pathlib import Path

import typer.main

from ioc.cli import app
from ioc.core.config import Settings

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_in_the_readme() -> None:
    missing = [
        f"IOC_{name.upper()}"
        for name in Settings.model_fields
        if f"IOC_{name.upper()}" not in README
    ]
    assert missing == [], f"document these settings in README: {missing}"


def test_every_command_is_in_the_readme() -> None:
    group = typer.main.get_command(app)
    commands: list[str] = []
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        subs = getattr(command, "commands", None)
        commands += [f"ioc {name} {sub}" for sub in subs] if subs else [f"ioc {name}"]
    missing = [c for c in commands if c not in README]
    assert missing == [], f"document these commands in README: {missing}"

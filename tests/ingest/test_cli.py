"""``ioc ingest``: the registry, commands and dead letters from the command line."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from ioc.cli import app
from ioc.core.db import Database
from ioc.ingest.service import dead_letter

runner = CliRunner()


def ioc(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, " ".join(result.output.split())


@pytest.fixture(autouse=True)
def env(monkeypatch: pytest.MonkeyPatch, db_url: str) -> None:
    monkeypatch.setenv("IOC_DATABASE_URL", db_url)


def test_device_add_list_command_remove(database: Database) -> None:
    code, out = ioc(
        "ingest", "device", "add", "lamp-9", "--apikey", "hb", "--type", "Streetlight",
        "--attr", "d=dimmingLevel:Integer:P1", "--attr", "on=powerState:Text",
        "--command", "switch",
    )  # fmt: skip
    assert code == 0, out
    assert "added lamp-9 → urn:ngsi-ld:Streetlight:lamp-9" in out
    code, out = ioc("ingest", "device", "list")
    assert "lamp-9 key=hb mqtt urn:ngsi-ld:Streetlight:lamp-9" in out
    assert "attrs=d=dimmingLevel,on=powerState commands=switch" in out
    code, out = ioc("ingest", "command", "lamp-9", "switch", "on")
    assert code == 0 and "switch=on for lamp-9: PENDING" in out
    code, out = ioc("ingest", "command", "lamp-9", "fly", "1")
    assert code == 2 and "error: name: device 'lamp-9' takes no command 'fly'" in out
    code, out = ioc("ingest", "device", "add", "lamp-9", "--apikey", "hb")
    assert code == 2 and "already registered" in out
    code, out = ioc("ingest", "device", "add", "x", "--apikey", "hb", "--attr", "nonsense")
    assert code == 2 and "--attr" in out
    code, out = ioc("ingest", "device", "add", "y", "--apikey", "hb", "--attr", "a=b:Float")
    assert code == 2 and "attributes.0.type" in out
    code, out = ioc("ingest", "device", "remove", "lamp-9")
    assert code == 0 and "removed lamp-9" in out
    code, out = ioc("ingest", "device", "remove", "lamp-9")
    assert code == 2 and "no device 'lamp-9'" in out
    assert "no devices" in ioc("ingest", "device", "list")[1]


def test_dead_letters_listed(database: Database) -> None:
    assert "no dead letters" in ioc("ingest", "deadletters")[1]
    with database.session() as session:
        dead_letter(session, "/k/ghost/attrs", b'{"t": 1}', "unknown device 'ghost'", "ghost")
        dead_letter(session, "/k/ws/attrs", b"{bad", "not JSON: unexpected character", "ws")
    code, out = ioc("ingest", "deadletters")
    assert code == 0
    assert out.index("/k/ws/attrs: not JSON") < out.index("/k/ghost/attrs: unknown device")
    assert '{"t": 1}' in out
    code, out = ioc("ingest", "deadletters", "--device", "ghost")
    assert "ghost" in out and "/k/ws/attrs" not in out


def test_run_needs_the_broker_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IOC_MQTT_URL", "")
    code, out = ioc("ingest", "run")
    assert code == 2 and "IOC_MQTT_URL" in out

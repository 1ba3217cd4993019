"""The operator's command line, run through its real entry point on a real database."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from ioc.cli import app
from ioc.core.db import Database
from ioc.core.models import AuditEntry, Place, User

runner = CliRunner()


@pytest.fixture
def ioc_env(monkeypatch: pytest.MonkeyPatch, empty_db_url: str) -> str:
    monkeypatch.setenv("IOC_DATABASE_URL", empty_db_url)
    return empty_db_url


def ioc(*args: str, input: str | None = None) -> tuple[int, str]:
    result = runner.invoke(app, list(args), input=input)
    return result.exit_code, " ".join(result.output.split())  # rich wraps long lines


def test_help_reads_well_for_an_operator() -> None:
    code, out = ioc("--help")
    assert code == 0
    for command in ("serve", "demo", "migrate", "places", "user", "apikey"):
        assert command in out
    code, out = ioc("user", "add", "--help")
    assert code == 0 and "--place" in out and "district_admin" in out


def test_migrate_an_empty_then_an_existing_database(ioc_env: str) -> None:
    code, out = ioc("migrate")
    assert code == 0, out
    assert "migrated: empty" in out
    code, out = ioc("migrate")
    assert code == 0 and "nothing to do" in out


def test_commands_refuse_a_missing_database_without_creating_it(ioc_env: str, backend: str) -> None:
    if backend != "sqlite":
        pytest.skip("a server database exists before ioc runs; only a SQLite file can be missing")
    path = Path(make_url(ioc_env).database or "")
    assert not path.exists()
    code, out = ioc("places", "load", "--province", "Hòa Bình")
    assert code == 2
    assert "no database at IOC_DATABASE_URL=" in out and "ioc migrate" in out
    assert not path.exists()  # no empty file left to hide the mistake next time


def test_commands_refuse_an_unmigrated_database(ioc_env: str, backend: str) -> None:
    if backend == "sqlite":  # an empty SQLite file: no tables, no revision
        sqlite3.connect(make_url(ioc_env).database or "").close()
    code, out = ioc("places", "load", "--province", "Hòa Bình")
    assert code == 2
    assert "revision none (empty)" in out and "ioc migrate" in out


def test_places_load_by_name_without_diacritics(ioc_env: str) -> None:
    ioc("migrate")
    code, out = ioc("places", "load", "--province", "hoa binh")
    assert code == 0, out
    assert "10 districts, 151 communes" in out
    database = Database(ioc_env)
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(Place)) == 162
        assert s.scalar(select(AuditEntry.entity_id).where(AuditEntry.entity == "places")) == "17"
    database.dispose()
    code, out = ioc("places", "load", "--province", "Hoa Binh")
    assert code == 0 and "0 added, 0 updated" in out


def test_unknown_province_lists_close_matches(ioc_env: str) -> None:
    ioc("migrate")
    code, out = ioc("places", "load", "--province", "Hoa Bin")
    assert code == 2
    assert "Hòa Bình" in out and "Traceback" not in out


def test_2025_tree_says_where_a_merged_province_went(ioc_env: str) -> None:
    ioc("migrate")
    code, out = ioc("places", "load", "--province", "Hòa Bình", "--tree", "2025")
    assert code == 2 and "Phú Thọ" in out
    code, out = ioc("places", "load", "--province", "Phu Tho", "--tree", "2025")
    assert code == 0, out
    assert "district" not in out


def test_user_add_with_scope_and_clear_errors(ioc_env: str) -> None:
    ioc("migrate")
    ioc("places", "load", "--province", "Hòa Bình")
    code, out = ioc(
        "user",
        "add",
        "--username",
        "dabac2",
        "--password",
        "secret-123",
        "--role",
        "district_admin",
        "--place",
        "150",
    )
    assert code == 0, out
    assert "dabac2" in out and "150" in out
    code, out = ioc(
        "user",
        "add",
        "--username",
        "op1",
        "--password",
        "secret-123",
        "--role",
        "operator",
        "--place",
        "99999",
    )
    assert code == 2 and "place_code" in out and "99999" in out
    code, out = ioc(
        "user", "add", "--username", "op2", "--password", "secret-123", "--role", "wizard"
    )
    assert code == 2 and "wizard" in out
    code, out = ioc(
        "user", "add", "--username", "dabac2", "--password", "secret-123", "--role", "operator"
    )
    assert code == 2 and "taken" in out
    code, out = ioc(
        "user", "add", "--username", "asks", "--role", "operator", input="from-stdin-pw\n"
    )
    assert code == 0, out
    database = Database(ioc_env)
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(User)) == 2
    database.dispose()
    code, out = ioc("user", "list")
    assert code == 0 and "dabac2" in out and "asks" in out


def test_agencies_seed_and_api_keys(ioc_env: str) -> None:
    ioc("migrate")
    code, out = ioc("agencies", "seed")
    assert code == 2 and "places load" in out
    ioc("places", "load", "--province", "Hòa Bình")
    code, out = ioc("agencies", "seed")
    assert code == 0, out
    code, out = ioc(
        "apikey", "create", "--name", "streetlight gateway", "--role", "device", "--place", "148"
    )
    assert code == 0, out
    secret = out.split()[-1]
    assert secret.startswith("ioc_")
    code, out = ioc("apikey", "list")
    assert "streetlight gateway" in out and secret not in out
    code, out = ioc("apikey", "revoke", "1")
    assert code == 0 and "revoked" in out


def test_demo_builds_once_then_reuses(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    code, out = ioc("demo", "--no-serve", "--db", str(db))
    assert code == 0, out
    assert "151 communes" in out and "admin" in out and "dabac" in out
    code, out = ioc("demo", "--no-serve", "--db", str(db))
    assert code == 0 and "reusing" in out


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_answers_over_real_http(ioc_env: str) -> None:
    """``ioc serve`` as an operator starts it: a separate process on a real port."""
    ioc("migrate")
    ioc("places", "load", "--province", "Hòa Bình")
    port = _free_port()
    env = {**os.environ, "IOC_DATABASE_URL": ioc_env, "IOC_PORT": str(port)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "ioc", "serve"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).json()
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    out = proc.stdout.read().decode() if proc.stdout else ""
                    raise AssertionError(out) from None
                time.sleep(0.2)
        assert health["status"] == "ok" and health["places"] == 162
        place = httpx.get(f"http://127.0.0.1:{port}/api/v1/places/150").json()
        assert place["name"] == "Huyện Đà Bắc"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout:
            proc.stdout.close()


def test_places_load_defaults_to_the_configured_province(
    ioc_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IOC_PROVINCE_NAME", "Bình Phước")
    ioc("migrate")
    code, out = ioc("places", "load")
    assert code == 0, out
    assert "Bình Phước" in out and "district" in out

"""A port in use, a database that cannot be opened, a file that cannot be written: one line naming the cause
and the setting or argument, a non-zero exit, no traceback, and nothing half-written. Run as processes,
as an owner meets them. Paths are made unwritable by putting a file where a folder should be, which holds
whoever runs the tests (root included).
"""
from __future__ import annotations

import asyncio
import socket

import pytest
from cli import VITRINA, clean_env, vitrina
from fake_telegram import FakeTelegram
from process import free_port

pytestmark = pytest.mark.slow


def one_line(result, *expected: str) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 1, result.stdout + result.stderr
    assert len(lines) == 1, result.stderr  # no traceback
    assert lines[0].startswith("vitrina: ") and "Traceback" not in result.stderr
    for text in expected:
        assert text in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def shop(tmp_path):
    vitrina(tmp_path, "demo", "seed")
    (tmp_path / "a-file").write_text("not a folder", encoding="utf-8")
    return tmp_path


# --- writing files --------------------------------------------------------------------------------

@pytest.mark.parametrize(("args", "named"), [
    (("menu", "export", "missing/menu.csv"), "menu export missing/menu.csv: the folder missing does not exist"),
    (("menu", "export", "a-file/menu.csv"), "menu export a-file/menu.csv: a-file is a file, not a folder"),
    (("qr", "counter", "center", "--out", "missing/qr.png"), "qr --out missing/qr.png: the folder missing does not"),
    (("qr", "counter", "center", "--out", "a-file/qr.svg"), "qr --out a-file/qr.svg: a-file is a file, not a folder"),
    (("db", "backup", "a-file/backup.db"), "db backup a-file/backup.db: a-file is a file, not a folder"),
], ids=["export to a missing folder", "export under a file", "qr to a missing folder", "qr under a file",
        "backup under a file"])
def test_a_file_that_cannot_be_written_is_named_with_its_argument(shop, args, named):
    one_line(vitrina(shop, *args, check=False), named)
    assert not (shop / "missing").exists()
    assert (shop / "a-file").read_text(encoding="utf-8") == "not a folder"


def test_a_backup_into_a_new_folder_is_written(shop):
    vitrina(shop, "db", "backup", "backups/today.db")  # a backup folder is made, as a backup script expects
    assert (shop / "backups" / "today.db").stat().st_size > 0


def test_an_export_to_a_name_of_no_format_is_named(shop):
    one_line(vitrina(shop, "menu", "export", "menu.txt", check=False),
             "menu export menu.txt: menu.txt: a menu file ends in .csv, .yaml or .yml")
    assert not (shop / "menu.txt").exists()


def test_a_folder_given_as_the_file_is_named(shop):
    (shop / "out").mkdir()
    one_line(vitrina(shop, "qr", "counter", "center", "--out", "out", "--format", "svg", check=False),
             "qr --out out: out is a folder, not a file")


# --- the database ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("url", "named"), [
    ("sqlite:///a-file/shop.db", "a-file is a file, not a folder"),
    ("sqlite:///a-file", "a-file is not an SQLite database"),
    ("sqlite:///folder", "folder is a folder, not a database file"),
], ids=["under a file", "not a database", "a folder"])
def test_a_database_that_cannot_be_opened_is_named(tmp_path, url, named):
    (tmp_path / "a-file").write_text("not a database", encoding="utf-8")
    (tmp_path / "folder").mkdir()
    for command in (("db", "migrate"), ("run",)):
        one_line(vitrina(tmp_path, *command, check=False, VITRINA_DATABASE_URL=url,
                         VITRINA_WEBAPP__PORT=str(free_port())), "VITRINA_DATABASE_URL:", named)
    assert (tmp_path / "a-file").read_text(encoding="utf-8") == "not a database"
    assert list((tmp_path / "folder").iterdir()) == []


# --- the port -------------------------------------------------------------------------------------

@pytest.fixture
def taken_port():
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


def test_the_demo_on_a_port_in_use_names_the_port(tmp_path, taken_port):
    result = vitrina(tmp_path, "run", check=False, VITRINA_WEBAPP__PORT=str(taken_port))
    one_line(result, "VITRINA_WEBAPP__PORT:", f"port {taken_port}", "in use")
    assert "is running at" not in result.stdout


def test_a_host_that_is_no_address_of_this_machine_is_named(tmp_path):
    result = vitrina(tmp_path, "run", check=False, VITRINA_WEBAPP__HOST="no-such-host.invalid",
                     VITRINA_WEBAPP__PORT=str(free_port()))
    one_line(result, "VITRINA_WEBAPP__HOST:", "no-such-host.invalid")


async def test_a_shop_on_a_port_in_use_stops_its_bot_cleanly(tmp_path, taken_port):
    async with FakeTelegram(token="4242:SECRET") as fake:
        env = clean_env(VITRINA_TELEGRAM__TOKEN=fake.token, VITRINA_TELEGRAM__API_BASE=fake.base_url,
                        VITRINA_WEBAPP__PORT=str(taken_port), VITRINA_WEBAPP__PUBLIC_URL="https://coffee.example",
                        VITRINA_DATABASE_URL=f"sqlite:///{tmp_path / 'shop.db'}")
        process = await asyncio.create_subprocess_exec(VITRINA, "run", cwd=tmp_path, env=env,
                                                       stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        try:
            out, err = await asyncio.wait_for(process.communicate(), 60)
        except TimeoutError:
            process.kill()
            raise AssertionError("vitrina run kept running on a port in use") from None
    lines = [line for line in err.decode().splitlines() if line.strip()]
    assert process.returncode == 1 and "is running at" not in out.decode()
    assert len(lines) == 1, "\n".join(lines)  # no traceback, no "Unclosed client session"
    assert lines[0].startswith("vitrina: VITRINA_WEBAPP__PORT:") and "in use" in lines[0]

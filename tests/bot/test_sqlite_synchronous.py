"""VITRINA_SQLITE_SYNCHRONOUS: SQLite's ``synchronous`` on every connection the storage opens, NORMAL unless
the owner asks for FULL; a value of another kind stops the command with one line naming the setting."""
from __future__ import annotations

import pytest
from cli import vitrina

from bot.main import open_database
from bot.settings import load_settings

LEVELS = {1: "NORMAL", 2: "FULL"}  # what PRAGMA synchronous reads back


def _clean(monkeypatch) -> None:
    import os

    for key in list(os.environ):
        if key.startswith("VITRINA_"):
            monkeypatch.delenv(key)


@pytest.mark.parametrize("value, level", [(None, "NORMAL"), ("NORMAL", "NORMAL"), ("FULL", "FULL"),
                                          ("full", "FULL")])
async def test_every_connection_the_storage_opens_has_the_setting(monkeypatch, tmp_path, value, level):
    _clean(monkeypatch)
    monkeypatch.setenv("VITRINA_DATABASE_URL", f"sqlite:///{tmp_path / 'shop.db'}")
    if value is not None:
        monkeypatch.setenv("VITRINA_SQLITE_SYNCHRONOUS", value)
    db = await open_database(load_settings())
    try:
        conns = {"writer": db.writer, "reader": db.reader, "checkpointer": db._checkpointer._conn}
        read = {name: LEVELS[conn.execute("PRAGMA synchronous").fetchone()[0]] for name, conn in conns.items()}
        assert read == dict.fromkeys(conns, level)
        assert db.writer.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        async with db.uow() as uow:  # and the shop works on it
            await uow.settings.set("probe", "1")
        async with db.reading() as uow:
            assert await uow.settings.get("probe") == "1"
    finally:
        await db.close()


def test_a_value_of_another_kind_stops_start_up_in_one_line(tmp_path):
    done = vitrina(tmp_path, "db", "migrate", check=False, VITRINA_DATABASE_URL="sqlite:///shop.db",
                   VITRINA_SQLITE_SYNCHRONOUS="fast")
    assert done.returncode == 2, done
    assert done.stderr == ("vitrina: setting VITRINA_SQLITE_SYNCHRONOUS: Input should be 'NORMAL' or 'FULL' "
                           "(got 'fast')\n"), done.stderr
    assert not (tmp_path / "shop.db").exists()  # refused before anything was opened


def test_the_storage_refuses_a_level_it_does_not_offer(tmp_path):
    from storage.sqlite import SqliteDatabase

    with pytest.raises(ValueError, match="synchronous must be one of NORMAL, FULL"):
        SqliteDatabase(tmp_path / "shop.db", synchronous="OFF")

"""The demo is what runs when no channel at all is configured, and nothing else.

A shop that configures only its VK Mini App (no bot token) is a real shop: ``demo <name>`` launch data is
refused, the demo menu is not seeded, and its customers' launches are checked. ``vitrina demo seed`` never
seeds into a database that holds a shop, whatever the mode: it says so in one line and changes nothing.
"""
from __future__ import annotations

import sqlite3
import time

import aiohttp
import pytest
from cli import vitrina
from launch_data import vk_launch_params
from process import Running, free_port
from shop_fixtures import POINTS

from bot.seed import seed_demo
from bot.settings import load_settings
from journey.engine import Engine

TABLES = ("points", "categories", "items", "stock", "promos", "orders", "meta", "staff")


def snapshot(db) -> dict[str, list[tuple]]:
    with sqlite3.connect(db) as conn:
        return {table: sorted(conn.execute(f"SELECT * FROM {table}").fetchall()) for table in TABLES}


@pytest.mark.parametrize("configured", [
    {"VITRINA_TELEGRAM__TOKEN": "1:t"},
    {"VITRINA_VK__TOKEN": "t", "VITRINA_VK__GROUP_ID": "1"},
    {"VITRINA_VK__APP_ID": "51234", "VITRINA_VK__APP_SECRET": "app-secret"},
], ids=["telegram bot", "vk bot", "vk mini app alone"])
def test_any_configured_channel_ends_the_demo(monkeypatch, configured):
    for name in ("VITRINA_TELEGRAM__TOKEN", "VITRINA_VK__TOKEN", "VITRINA_VK__APP_SECRET", "VITRINA_VK__APP_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir("/")  # no .env of the working tree
    assert load_settings().is_demo
    for name, value in configured.items():
        monkeypatch.setenv(name, value)
    assert not load_settings().is_demo


async def test_with_only_the_vk_mini_app_demo_launches_are_refused_and_nothing_is_seeded(tmp_path):
    port = free_port()
    db = tmp_path / "shop.db"
    env = {"VITRINA_VK__APP_ID": "51234", "VITRINA_VK__APP_SECRET": "app-secret", "VITRINA_OWNERS": "vk:42",
           "VITRINA_WEBAPP__PORT": str(port), "VITRINA_DATABASE_URL": f"sqlite:///{db}"}
    async with Running(cwd=tmp_path, env=env) as running:
        assert "(shop, " in running.output[-1]
        async with aiohttp.ClientSession(f"http://127.0.0.1:{port}") as http:
            for who in ("staff", "guest"):
                async with http.get("/api/me", headers={"Authorization": f"demo {who}"}) as refused:
                    assert refused.status == 401
                    assert (await refused.json())["error"] == "unauthorized"
            async with http.get("/api/staff/orders", headers={"Authorization": "demo staff"}) as refused:
                assert refused.status == 401
            owner = "vk " + vk_launch_params(42, int(time.time()), secret="app-secret", app_id=51234)
            async with http.get("/api/me", headers={"Authorization": owner}) as me:
                assert me.status == 200 and (await me.json())["is_staff"] is True
    assert not any("seeded" in line for line in running.output)
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM items").fetchone()[0] == 0
        assert conn.execute("SELECT COUNT(*) FROM points").fetchone()[0] == 0


def test_demo_seed_leaves_a_real_shop_as_it_is(tmp_path):
    (tmp_path / "menu.csv").write_text("id,category,name,price\nborsch,Супы,Борщ,390\n", encoding="utf-8")
    vitrina(tmp_path, "menu", "import", "menu.csv")
    before = snapshot(tmp_path / "vitrina.db")

    result = vitrina(tmp_path, "demo", "seed")

    assert result.stdout.count("\n") == 1 and "nothing changed" in result.stdout and result.stderr == ""
    assert snapshot(tmp_path / "vitrina.db") == before
    assert before["items"] and not before["promos"]


@pytest.fixture
async def empty(db, clock) -> Engine:
    engine = Engine(db.uow, clock=clock, reader=db.reading)
    await engine.start()
    return engine


async def test_a_pickup_point_alone_is_a_shop(empty):
    async with empty.uow() as uow:
        await uow.catalog.save_point(POINTS[0])
    assert await empty.holds_shop()
    assert "nothing changed" in await seed_demo(empty)
    assert (await empty.menu()).items == [] and [p.id for p in (await empty.menu()).points] == ["center"]


async def test_an_empty_database_is_seeded_once(empty):
    assert not await empty.holds_shop()
    assert "demo shop seeded" in await seed_demo(empty)
    items = len((await empty.menu(include_unavailable=True)).items)
    assert await empty.holds_shop() and "nothing changed" in await seed_demo(empty)
    assert len((await empty.menu(include_unavailable=True)).items) == items >= 12

"""The menu answer is built once per change of the data: it must never show stale stock or prices."""
from __future__ import annotations

from pg_support import same_store
from shop_fixtures import customer

from journey.model import CartLine


async def croissants(client, headers) -> int:
    menu = await (await client.get("/api/menu?point=center", headers=headers)).json()
    return next(i["stock"] for i in menu["items"] if i["id"] == "croissant")


async def test_an_order_and_a_write_from_another_process_show_at_once(client, tma, engine, db):
    anna = tma(5001)
    assert await croissants(client, anna) == 10
    assert await croissants(client, anna) == 10  # served from the cache
    await engine.place_order(customer(1), [CartLine("croissant", 3)], "center")
    assert await croissants(client, anna) == 7

    other = same_store(db)  # e.g. `vitrina menu import` while the shop runs, or another instance
    await other.connect()
    try:
        async with other.uow() as uow:
            await uow.catalog.set_stock("center", "croissant", 42)
    finally:
        await other.close()
    assert await croissants(client, anna) == 42


async def test_the_version_moves_with_the_menus_data_and_not_with_other_commits(engine):
    first = await engine.menu_version()
    await engine.place_order(customer(2), [CartLine("latte", 1, {"size": ("s",)})], "center")  # made to order
    assert await engine.menu_version() == first
    await engine.set_stock("center", "croissant", 5)
    second = await engine.menu_version()
    assert second != first

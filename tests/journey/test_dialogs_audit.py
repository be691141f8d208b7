"""The owner's groundwork: dialogs that survive a restart and expire, the audit log and undo's refusals."""
from __future__ import annotations

import pytest
from shop_fixtures import OWNER, customer, seed

from journey import audit
from journey.channels import Channel, CustomerRef
from journey.engine import Engine
from journey.errors import DomainError, ErrorCode
from journey.money import Money
from storage.sqlite import SqliteDatabase


async def test_a_dialog_is_kept_in_the_database_and_forgotten_after_half_an_hour(engine, db, clock):
    await engine.open_dialog(OWNER, "item", {"step": "price", "name": "Раф"})
    # another engine on the same database (a restart, another instance) continues it
    again = Engine(db.uow, owners=[OWNER], clock=clock, reader=db.reading)
    found = await again.dialog(OWNER)
    assert found is not None and found.kind == "item" and found.state == {"step": "price", "name": "Раф"}
    assert await again.dialog(customer(1)) is None
    clock.advance(minutes=31)
    assert await engine.dialog(OWNER) is None
    assert await engine.end_dialog(OWNER) is True  # the stale row is removed all the same
    assert await engine.end_dialog(OWNER) is False


async def _change_price(engine: Engine, actor: CustomerRef, item_id: str, amount: int) -> None:
    async with engine.uow() as uow:
        item = (await uow.catalog.items_by_id([item_id]))[item_id]
        changed = audit.item_from_snapshot({**audit.item_snapshot(item), "price": amount})
        await uow.catalog.save_item(changed)
        await audit.record(engine, uow, actor, "price", f"item:{item_id}", audit.item_snapshot(item),
                           audit.item_snapshot(changed))


async def _price(engine: Engine, item_id: str) -> Money:
    return next(i.price for i in (await engine.menu()).items if i.id == item_id)


async def test_undo_takes_back_the_owners_own_last_change_and_is_logged(engine):
    before = await _price(engine, "latte")
    await _change_price(engine, OWNER, "latte", 26000)
    await _change_price(engine, OWNER, "espresso", 17000)
    undone = await engine.undo(OWNER)
    assert undone.target == "item:espresso" and await _price(engine, "espresso") == Money(15000)
    undone = await engine.undo(OWNER)
    assert undone.target == "item:latte" and await _price(engine, "latte") == before
    with pytest.raises(DomainError) as e:
        await engine.undo(OWNER)
    assert e.value.code is ErrorCode.NOTHING_TO_UNDO
    log = await engine.changes(OWNER)
    assert [(c.action, c.target, c.undone) for c in log] == [
        ("undo", "item:latte", False), ("undo", "item:espresso", False),
        ("price", "item:espresso", True), ("price", "item:latte", True)]
    assert log[0].actor == OWNER.key and log[0].before["price"] == 26000 and log[0].after["price"] == 25000


async def test_undo_refuses_to_overwrite_a_later_change_by_another_owner(tmp_path, clock):
    second = CustomerRef(Channel.VK, "77")
    db = SqliteDatabase(tmp_path / "shop.db")
    await db.connect()
    try:
        engine = Engine(db.uow, owners=[OWNER, second], clock=clock, reader=db.reading)
        await engine.start()

        await seed(engine)
        await _change_price(engine, OWNER, "latte", 26000)
        await _change_price(engine, second, "latte", 27000)
        with pytest.raises(DomainError) as e:
            await engine.undo(OWNER)
        assert e.value.code is ErrorCode.CONFLICT
        assert await _price(engine, "latte") == Money(27000)
    finally:
        await db.close()


async def test_only_owners_undo_or_read_the_log(engine):
    await _change_price(engine, OWNER, "latte", 26000)
    for call in (engine.undo, engine.changes):
        with pytest.raises(DomainError) as e:
            await call(customer(5))
        assert e.value.code is ErrorCode.NOT_OWNER
    assert await _price(engine, "latte") == Money(26000)

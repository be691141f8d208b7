"""``vitrina payments`` as a process, the way an owner runs it, on a shop's database and against the fake
YooKassa on loopback: a paid order whose notification was lost is found by ``reconcile``; bad input is
refused with one line and changes nothing."""
from __future__ import annotations

import asyncio

import pytest
from cli import vitrina
from shop_fixtures import customer, seed

from adapters.yookassa import YookassaProvider
from bot.payments import close
from journey.engine import Engine
from journey.model import CartLine
from journey.states import PaymentStatus
from storage.sqlite import SqliteDatabase


@pytest.mark.slow
async def test_the_owner_reconciles_from_the_command_line(tmp_path, clock, yookassa):
    """``vitrina payments reconcile`` as a process, on a shop's database, against the fake YooKassa."""
    db = SqliteDatabase(tmp_path / "shop.db")
    await db.connect()
    provider = YookassaProvider(yookassa.shop_id, yookassa.secret_key, yookassa.base_url)
    try:
        shop = Engine(db.uow, clock=clock, reader=db.reading, providers={"yookassa": provider})
        await shop.start()
        await seed(shop)
        view = await shop.place_order(customer(1), [CartLine("croissant", 1)], "center", provider="yookassa",
                                      return_url="https://shop.example/#/order/")
    finally:
        await close(provider)
        await db.close()
    yookassa.pay(view.payment.provider_ref)  # paid, and the notification is lost
    env = {"VITRINA_DATABASE_URL": f"sqlite:///{tmp_path / 'shop.db'}", "VITRINA_YOOKASSA__SHOP_ID": yookassa.shop_id,
           "VITRINA_YOOKASSA__SECRET_KEY": yookassa.secret_key, "VITRINA_YOOKASSA__API_BASE": yookassa.base_url}
    out = await asyncio.to_thread(vitrina, tmp_path, "payments", "reconcile", **env)
    assert "1 payments asked about, 1 changed" in out.stdout
    db = SqliteDatabase(tmp_path / "shop.db")
    await db.connect()
    try:
        async with db.uow() as uow:
            assert (await uow.payments.get(view.payment.id)).status is PaymentStatus.AUTHORIZED
    finally:
        await db.close()

    refused = await asyncio.to_thread(vitrina, tmp_path, "payments", "reconcile", check=False,
                                      VITRINA_DATABASE_URL=env["VITRINA_DATABASE_URL"])
    assert refused.returncode == 1 and "no online payment provider" in refused.stderr
    bad = await asyncio.to_thread(vitrina, tmp_path, "payments", "refund", view.order.id, "12,3,4", check=False, **env)
    assert bad.returncode == 1 and "12,3,4" in bad.stderr
    early = await asyncio.to_thread(vitrina, tmp_path, "payments", "refund", view.order.id, check=False, **env)
    assert early.returncode == 1 and "authorized" in early.stderr  # nothing captured yet: nothing to refund

"""``vitrina run`` as a process with online payments configured: YooKassa (the fake on loopback) and a
Telegram provider token (the fake Bot API). The checkout offers both; an order paid online reaches the
staff chat only once paid, by YooKassa's notification at /webhooks/yookassa or by Telegram's
successful_payment after the bot approved the pre-checkout."""
from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest
from cli import vitrina as cli
from fake_telegram import FakeTelegram
from fake_yookassa import FakeYookassa
from launch_data import telegram_init_data
from process import Running, free_port

STAFF_CHAT = -100777


@pytest.mark.slow
async def test_run_takes_card_and_invoice_payments_and_tells_staff_once_paid(tmp_path):
    async with FakeTelegram(token="4242:SECRET") as tg, FakeYookassa() as yookassa:
        port = free_port()
        env = {"VITRINA_TELEGRAM__TOKEN": tg.token, "VITRINA_TELEGRAM__API_BASE": tg.base_url,
               "VITRINA_TELEGRAM__STAFF_CHAT_ID": str(STAFF_CHAT), "VITRINA_OWNERS": "telegram:42",
               "VITRINA_TELEGRAM__PROVIDER_TOKEN": "381764678:TEST:100500",
               "VITRINA_YOOKASSA__SHOP_ID": yookassa.shop_id, "VITRINA_YOOKASSA__SECRET_KEY": yookassa.secret_key,
               "VITRINA_YOOKASSA__API_BASE": yookassa.base_url, "VITRINA_RECONCILE_SECONDS": "3600",
               "VITRINA_WEBAPP__PORT": str(port), "VITRINA_WEBAPP__PUBLIC_URL": "https://coffee.example",
               "VITRINA_DATABASE_URL": f"sqlite:///{tmp_path / 'shop.db'}"}
        await asyncio.to_thread(cli, tmp_path, "demo", "seed", **env)
        customer = {"Authorization": "tma " + telegram_init_data(100, int(time.time()), token=tg.token)}
        body = {"point": "center", "lines": [{"item": "cappuccino", "quantity": 1, "options": {}}], "promo": None,
                "points": 0, "pickup_at": None}
        async with Running(cwd=tmp_path, env=env), aiohttp.ClientSession(f"http://127.0.0.1:{port}") as http:
            async with http.get("/api/config") as config:
                assert (await config.json())["payments"] == ["counter", "yookassa", "telegram", "stars"]

            async with http.post("/api/orders", json={**body, "payment": "yookassa"}, headers=customer) as placed:
                assert placed.status == 201, await placed.text()
                by_card = await placed.json()
            assert by_card["payment"]["confirmation_url"]
            await asyncio.sleep(1)  # the relay runs: nothing may reach the staff for an unpaid order
            assert tg.sent(STAFF_CHAT) == []
            (ref,) = yookassa.payments
            yookassa.pay(ref)
            assert await yookassa.notify(f"http://127.0.0.1:{port}/webhooks/yookassa", ref) == 200
            note = await tg.next_message(STAFF_CHAT, timeout=15)
            assert f"Новый заказ № {by_card['short_code']}" in note.text and "спишется при выдаче" in note.text

            async with http.post("/api/orders", json={**body, "payment": "telegram"}, headers=customer) as placed:
                assert placed.status == 201, await placed.text()
                by_invoice = await placed.json()
            paid = await tg.pay_invoice_link(100, by_invoice["payment"]["invoice_link"])
            assert paid.approved, paid.error_message
            note = await tg.next_message(STAFF_CHAT, timeout=15)
            assert f"Новый заказ № {by_invoice['short_code']}" in note.text and "оплачен онлайн" in note.text
            async with http.get(f"/api/orders/{by_invoice['id']}", headers=customer) as seen:
                assert (await seen.json())["payment"]["status"] == "captured"

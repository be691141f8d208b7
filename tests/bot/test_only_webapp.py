"""``vitrina run --only webapp`` beside an instance that receives the chats, on one database.

The Mini-App-only instance serves what a browser and the payment provider call: the Mini App's API with
Telegram's and VK's launch data, the landing pages, /media, YooKassa's notifications, and Telegram's
invoice links made while the customer waits. It receives no chats (no polling, no webhook route, the
webhook neither set nor deleted) and runs no background work: the order it took is told to the staff
by the other instance's outbox relay, which also takes the Telegram payment of an invoice it made.
"""
from __future__ import annotations

import asyncio
import io
import re
import time

import aiohttp
import pytest
from cli import VITRINA
from cli import vitrina as cli
from fake_telegram import FakeTelegram
from fake_yookassa import FakeYookassa
from launch_data import telegram_init_data, vk_launch_params
from PIL import Image
from process import Running, free_port

pytestmark = pytest.mark.slow

STAFF_CHAT = -100777
OWNER = 42
VK_APP, VK_SECRET = 51234, "app-secret"
ORDER = {"point": "center", "lines": [{"item": "cappuccino", "quantity": 1, "options": {}}], "promo": None,
         "points": 0, "pickup_at": None}


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (1600, 1200), (200, 30, 30)).save(out, "JPEG")
    return out.getvalue()


async def test_a_mini_app_instance_serves_the_mini_app_and_leaves_the_chats_to_the_receiving_one(tmp_path):
    async with FakeTelegram(token="4242:SECRET") as tg, FakeYookassa() as yookassa, aiohttp.ClientSession() as http:
        web_port, bot_port = free_port(), free_port()
        env = {"VITRINA_TELEGRAM__TOKEN": tg.token, "VITRINA_TELEGRAM__API_BASE": tg.base_url,
               "VITRINA_TELEGRAM__STAFF_CHAT_ID": str(STAFF_CHAT), "VITRINA_OWNERS": f"telegram:{OWNER}",
               "VITRINA_TELEGRAM__PROVIDER_TOKEN": "381764678:TEST:100500",
               "VITRINA_VK__APP_ID": str(VK_APP), "VITRINA_VK__APP_SECRET": VK_SECRET,
               "VITRINA_YOOKASSA__SHOP_ID": yookassa.shop_id, "VITRINA_YOOKASSA__SECRET_KEY": yookassa.secret_key,
               "VITRINA_YOOKASSA__API_BASE": yookassa.base_url, "VITRINA_RECONCILE_SECONDS": "3600",
               "VITRINA_WEBAPP__PUBLIC_URL": "https://coffee.example",
               "VITRINA_DATABASE_URL": f"sqlite:///{tmp_path / 'shop.db'}"}
        await asyncio.to_thread(cli, tmp_path, "demo", "seed", **env)
        customer = {"Authorization": "tma " + telegram_init_data(100, int(time.time()), token=tg.token)}
        web = f"http://127.0.0.1:{web_port}"

        async with Running(VITRINA, "run", "--only", "webapp", cwd=tmp_path,
                           env={**env, "VITRINA_WEBAPP__PORT": str(web_port)}) as mini_app:
            line = mini_app.output[-1]
            assert "only the Mini App for Telegram @vitrina_demo_bot, VK Mini App" in line
            assert "no chats, no background jobs" in line and f"127.0.0.1:{web_port}" in line

            # the Mini App with launch data from either messenger; without or with a forged one, refused
            async with http.get(f"{web}/api/menu?point=center", headers=customer) as menu:
                assert menu.status == 200 and any(i["id"] == "cappuccino" for i in (await menu.json())["items"])
            vk = {"Authorization": "vk " + vk_launch_params(7, int(time.time()), secret=VK_SECRET, app_id=VK_APP)}
            async with http.get(f"{web}/api/me", headers=vk) as me:
                assert me.status == 200, await me.text()
            forged = {"Authorization": "tma " + telegram_init_data(100, int(time.time()), token="4242:OTHER")}
            for headers in ({}, forged):
                async with http.get(f"{web}/api/me", headers=headers) as refused:
                    assert refused.status == 401
            async with http.get(f"{web}/go/pcenter") as landing:
                page = await landing.text()
            assert "https://t.me/vitrina_demo_bot?start=pcenter" in page
            assert f"https://vk.com/app{VK_APP}#pcenter" in page
            async with http.get(f"{web}/") as index:
                assert index.status == 200

            # an order paid by card: taken here, and YooKassa's notification reaches this instance too
            orders = f"{web}/api/orders"
            async with http.post(orders, json={**ORDER, "payment": "yookassa"}, headers=customer) as placed:
                assert placed.status == 201, await placed.text()
                by_card = await placed.json()
            (ref,) = yookassa.payments
            yookassa.pay(ref)
            assert await yookassa.notify(f"{web}/webhooks/yookassa", ref) == 200
            # an order paid by Telegram's invoice: the link is made at once, through the Bot API
            async with http.post(orders, json={**ORDER, "payment": "telegram"}, headers=customer) as placed:
                assert placed.status == 201, await placed.text()
                by_invoice = await placed.json()
            assert by_invoice["payment"]["invoice_link"] and len(tg.calls_of("createInvoiceLink")) == 1

            # no chats here: the webhook's and the callback's addresses are not served
            async with http.post(f"{web}/telegram/webhook", json={"update_id": 1}) as hook:
                assert hook.status == 404
            async with http.post(f"{web}/vk/callback", json={"type": "confirmation"}) as hook:
                assert hook.status == 404
            # the bot's token was checked and nothing else asked of Telegram: no polling, no webhook set
            # or deleted, no commands, and nothing sent (the staff note waits in the outbox)
            assert {c.method for c in tg.calls} == {"getMe", "createInvoiceLink"}

            # the instance that receives the chats starts beside it: it polls (SQLite: one shop, one poller)
            async with Running(cwd=tmp_path, env={**env, "VITRINA_WEBAPP__PORT": str(bot_port)}) as bot:
                assert "only the Mini App" not in bot.output[-1]
                note = await tg.next_message(STAFF_CHAT, timeout=15)
                assert f"Новый заказ № {by_card['short_code']}" in note.text

                paid = await tg.pay_invoice_link(100, by_invoice["payment"]["invoice_link"])
                assert paid.approved, paid.error_message
                note = await tg.next_message(STAFF_CHAT, timeout=15)
                assert f"Новый заказ № {by_invoice['short_code']}" in note.text
                async with http.get(f"{web}/api/orders/{by_invoice['id']}", headers=customer) as seen:
                    assert (await seen.json())["payment"]["status"] == "captured"

                # the owner's photo, sent to the bot, is served by the Mini App's instance
                tg.send_photo(OWNER, jpeg(), caption="/photo cappuccino")
                done = await tg.next_message(OWNER, timeout=15)
                assert "новое фото" in done.text, done.text
                async with http.get(f"{web}/api/menu?point=center", headers=customer) as menu:
                    (item,) = [i for i in (await menu.json())["items"] if i["id"] == "cappuccino"]
                path = re.search(r"/media/[0-9a-f]{32}-\d+\.jpg", str(item)).group(0)
                async with http.get(web + path) as photo:
                    assert photo.status == 200 and photo.content_type == "image/jpeg"
                async with http.get(f"{web}/media/{'0' * 32}-1200.jpg") as missing:
                    assert missing.status == 404

        assert await mini_app.stop() == 0 and "stopping…" in "".join(mini_app.output)


async def test_the_demo_runs_as_a_mini_app_instance_and_only_webapp_is_a_choice(tmp_path):
    port = free_port()
    env = {"VITRINA_WEBAPP__PORT": str(port), "VITRINA_DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}"}
    async with Running(VITRINA, "run", "--only", "webapp", cwd=tmp_path, env=env) as demo, \
            aiohttp.ClientSession(f"http://127.0.0.1:{port}") as http:
        assert "Vitrina (demo, only the Mini App: no chats, no background jobs) is running at" in demo.output[-1]
        async with http.get("/api/menu?point=center", headers={"Authorization": "demo guest"}) as menu:
            assert menu.status == 200 and len((await menu.json())["items"]) >= 12

    refused = await asyncio.to_thread(cli, tmp_path, "run", "--only", "bots", check=False, **env)
    assert refused.returncode == 2 and "invalid choice: 'bots' (choose from 'webapp')" in refused.stderr

"""``vitrina run`` as a process: the README's demo command, and a real shop on the fake Bot API server."""
from __future__ import annotations

import asyncio
import re
import sys
import time
from pathlib import Path

import aiohttp
import pytest
from fake_telegram import FakeTelegram
from launch_data import telegram_init_data
from process import Running, free_port

ROOT = Path(__file__).parents[2]


def readme_commands() -> list[str]:
    block = re.search(r"```\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), re.S).group(1)
    return [line.split("#")[0].strip() for line in block.strip().splitlines()]


def test_the_readme_opens_with_the_run_and_test_commands():
    assert readme_commands() == ["./dev run", "./dev test"]
    assert "./dev test" in (ROOT / ".ci" / "run").read_text()


@pytest.mark.slow
async def test_the_readme_run_command_serves_the_demo(tmp_path):
    port = free_port()
    command = readme_commands()[0].split()
    env = {"VITRINA_VENV": sys.prefix, "VITRINA_WEBAPP__PORT": str(port),
           "VITRINA_DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}"}
    async with Running(str(ROOT / command[0]), *command[1:], cwd=tmp_path, env=env) as vitrina:
        assert f"http://127.0.0.1:{port}/" in vitrina.output[-1]
        async with aiohttp.ClientSession(f"http://127.0.0.1:{port}") as http:
            async with http.get("/") as page:
                assert page.status == 200 and "<html" in (await page.text()).lower()
            async with http.get("/api/menu?point=center", headers={"Authorization": "demo guest"}) as menu:
                items = (await menu.json())["items"]
            assert len(items) >= 12
            async with http.get("/api/me", headers={"Authorization": "demo staff"}) as me:
                assert (await me.json())["is_staff"] is True
        assert await vitrina.stop() == 0
    assert any("stopping" in line for line in vitrina.output)
    assert any("demo shop seeded" in line for line in vitrina.output)


@pytest.fixture
async def fake():
    async with FakeTelegram(token="4242:SECRET") as server:
        yield server


def shop_env(tmp_path, fake, port, **extra) -> dict[str, str]:
    return {"VITRINA_TELEGRAM__TOKEN": fake.token, "VITRINA_TELEGRAM__API_BASE": fake.base_url,
            "VITRINA_TELEGRAM__STAFF_CHAT_ID": "-100777", "VITRINA_OWNERS": "telegram:42",
            "VITRINA_WEBAPP__PORT": str(port), "VITRINA_WEBAPP__PUBLIC_URL": "https://coffee.example",
            "VITRINA_VK__APP_ID": "51234", "VITRINA_VK__APP_SECRET": "app-secret",
            "VITRINA_DATABASE_URL": f"sqlite:///{tmp_path / 'shop.db'}", **extra}


@pytest.mark.slow
async def test_run_with_a_telegram_token_serves_a_customer_from_start_to_pickup(tmp_path, fake):
    from cli import vitrina as cli

    port = free_port()
    env = shop_env(tmp_path, fake, port)
    cli(tmp_path, "demo", "seed", **env)
    async with Running(cwd=tmp_path, env=env):
        assert fake.calls_of("setMyCommands") and fake.calls_of("setChatMenuButton")
        fake.send_message(100, "/start pcenter", first_name="Аня")
        hello = await fake.next_message(100, timeout=15)
        assert "Здравствуйте, Аня!" in hello.text and "Пушкина" in hello.text

        customer = {"Authorization": "tma " + telegram_init_data(100, int(time.time()), token=fake.token)}
        owner = {"Authorization": "tma " + telegram_init_data(42, int(time.time()), token=fake.token)}
        async with aiohttp.ClientSession(f"http://127.0.0.1:{port}") as http:
            body = {"point": "center", "lines": [{"item": "cappuccino", "quantity": 1, "options": {}}],
                    "promo": None, "points": 0, "pickup_at": None, "payment": "counter", "request_id": "r1"}
            async with http.post("/api/orders", json=body, headers=customer) as placed:
                assert placed.status == 201, await placed.text()
                order = await placed.json()
            staff_note = await fake.next_message(-100777, timeout=15)
            assert f"Новый заказ № {order['short_code']}" in staff_note.text

            for step in ("accept", "ready"):
                async with http.post(f"/api/staff/orders/{order['id']}/{step}", headers=owner) as done:
                    assert done.status == 200, await done.text()
            handover = {"code": order["short_code"], "point": "center"}
            async with http.post("/api/staff/handover", json=handover, headers=owner) as done:
                assert (await done.json())["status"] == "picked_up"
            async with http.get("/go/pcenter") as landing:
                page = await landing.text()
        assert "https://t.me/vitrina_demo_bot?start=pcenter" in page
        assert "https://vk.com/app51234#pcenter" in page and "/?start=pcenter" in page

        accepted = await fake.next_message(100, timeout=15)
        ready = await fake.next_message(100, timeout=15)
        picked = await fake.next_message(100, timeout=15)
        assert "принят" in accepted.text
        assert "готов" in ready.text and ready.photo
        assert "Начислено баллов" in picked.text


@pytest.mark.slow
async def test_webhook_mode_refuses_a_call_without_the_secret(tmp_path, fake):
    port = free_port()
    env = shop_env(tmp_path, fake, port, VITRINA_TELEGRAM__WEBHOOK_URL="https://coffee.example/telegram/webhook",
                   VITRINA_TELEGRAM__WEBHOOK_SECRET="s3cret")
    update = {"update_id": 77, "message": {"message_id": 1, "date": int(time.time()), "text": "/help",
                                           "chat": {"id": 300, "type": "private"},
                                           "from": {"id": 300, "is_bot": False, "first_name": "Ира"}}}
    async with Running(cwd=tmp_path, env=env):
        assert fake.calls_of("setWebhook")[0]["secret_token"] == "s3cret"
        async with aiohttp.ClientSession(f"http://127.0.0.1:{port}") as http:
            async with http.post("/telegram/webhook", json=update) as refused:
                assert refused.status == 401
            async with http.post("/telegram/webhook", json=update,
                                 headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"}) as refused:
                assert refused.status == 401
            secret = {"X-Telegram-Bot-Api-Secret-Token": "s3cret"}
            hostile = [({"X-Telegram-Bot-Api-Secret-Token": "сЕкрет"}, b"{}"), (secret, b""),
                       (secret, b'{"update_id": 5, "message": {'), (secret, b"\xff\xfe{}"),
                       (secret, b"[" * 5000 + b"]" * 5000), (secret, b'{"update_id": "x"}')]
            for headers, body in hostile:  # answered 4xx by the guard in front of aiogram, never 500
                async with http.post("/telegram/webhook", data=body, headers=headers) as refused:
                    assert 400 <= refused.status < 500, (headers, body[:40], refused.status)
            assert fake.calls_of("sendMessage") == []
            for _ in range(2):  # Telegram retries a webhook call: handled once
                async with http.post("/telegram/webhook", json=update,
                                     headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret"}) as accepted:
                    assert accepted.status == 200
        reply = await fake.next_message(300, timeout=15)
        assert "Что я умею" in reply.text
        await asyncio.sleep(0.5)  # time for a second answer, were the retry handled again
        assert len(fake.calls_of("sendMessage")) == 1


@pytest.mark.slow
async def test_run_with_a_vk_token_serves_a_customer_from_start_to_pickup(tmp_path):
    from cli import vitrina as cli
    from fake_vk import FakeVK
    from launch_data import vk_launch_params

    port = free_port()
    async with FakeVK(group_id=7) as vk:
        env = {"VITRINA_VK__TOKEN": vk.token, "VITRINA_VK__GROUP_ID": "7", "VITRINA_VK__API_BASE": vk.api_url,
               "VITRINA_VK__APP_ID": "51234", "VITRINA_VK__APP_SECRET": "app-secret",
               "VITRINA_VK__STAFF_PEER_ID": "2000000001", "VITRINA_OWNERS": "vk:42",
               "VITRINA_WEBAPP__PORT": str(port), "VITRINA_DATABASE_URL": f"sqlite:///{tmp_path / 'shop.db'}"}
        cli(tmp_path, "demo", "seed", **env)
        async with Running(cwd=tmp_path, env=env) as running:
            assert "VK club7" in running.output[-1]
            await vk.wait_for(lambda: vk.calls_to("groups.getLongPollServer"), 15)
            vk.users[100] = ("Ира", "К")
            vk.message_new(100, "Привет", ref="pcenter")
            hello = await vk.next_message(100, timeout=15)
            assert "Здравствуйте, Ира!" in hello.text

            def launch(user_id: int) -> dict[str, str]:
                return {"Authorization": "vk " + vk_launch_params(user_id, int(time.time()), secret="app-secret",
                                                                  app_id=51234)}

            async with aiohttp.ClientSession(f"http://127.0.0.1:{port}") as http:
                body = {"point": "center", "lines": [{"item": "croissant", "quantity": 2, "options": {}}],
                        "promo": "WELCOME", "points": 0, "pickup_at": None, "payment": "counter", "request_id": "v1"}
                async with http.post("/api/orders", json=body, headers=launch(100)) as placed:
                    assert placed.status == 201, await placed.text()
                    order = await placed.json()
                note = await vk.next_message(2000000001, timeout=15)
                assert f"Новый заказ № {order['short_code']}" in note.text
                for step in ("accept", "ready"):
                    async with http.post(f"/api/staff/orders/{order['id']}/{step}", headers=launch(42)) as done:
                        assert done.status == 200, await done.text()
                async with http.post("/api/staff/handover", json={"token": order["pickup_token"]},
                                     headers=launch(42)) as done:
                    assert (await done.json())["status"] == "picked_up"
            accepted = await vk.next_message(100, timeout=15)
            ready = await vk.next_message(100, timeout=15)
            picked = await vk.next_message(100, timeout=15)
            assert "принят" in accepted.text and "готов" in ready.text and ready.attachment
            assert "Начислено баллов" in picked.text

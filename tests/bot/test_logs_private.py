"""A whole journey in both channels, logged in both formats, greps clean: no bot token, VK token or app
secret, no launch data (nor its hash or sign), no customer's first or last name or username, no chat or
peer id, no e-mail, whatever `vitrina run` and the libraries it runs log on the way.

The ids are 9- and 10-digit odd numbers that no time, count or code of the journey can spell, and are
looked for as whole numbers; the accounts still appear, as keyed pseudonyms (``telegram:~1a2b3c4d``)."""
from __future__ import annotations

import json
import re
import time
from urllib.parse import parse_qs

import aiohttp
import pytest
from cli import vitrina as cli
from fake_telegram import FakeTelegram
from fake_vk import FakeVK
from launch_data import telegram_init_data, vk_launch_params
from process import Running, free_port

pytestmark = pytest.mark.slow  # `vitrina run` as a process

TOKEN = "7093518264:AAFq3-private-bot-token-part_xyzw9"  # 35 characters after ":", as a real one
VK_TOKEN = "vk1.a.private-community-token-QwErTy"
APP_SECRET = "private-vk-app-secret-Zx81"
APP_ID = 51234
TG_ID, VK_ID = 4820193757, 719348261  # the customers' chat and peer ids
FIRST, LAST, USERNAME = "Евлампия", "Засекреченная", "evlampia_hidden_nick"
VK_FIRST, VK_LAST = "Аглая", "Потаённая"
EMAIL = "evlampia.hidden@example.ru"
PLAIN_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (DEBUG|INFO|WARNING|ERROR|CRITICAL) [\w.]+: ")
GUARD = 30  # seconds: a broken process fails the test rather than hanging it


def private_message(user_id: int, text: str) -> dict:
    """A private message with the sender's whole profile, as Telegram sends it."""
    person = {"id": user_id, "first_name": FIRST, "last_name": LAST, "username": USERNAME}
    message = {"message_id": int(time.time() * 1000) % 1_000_000, "date": int(time.time()), "text": text,
               "chat": {**person, "type": "private"}, "from": {**person, "is_bot": False, "language_code": "ru"}}
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return {"message": message}


async def journey(tmp_path, log_format: str) -> tuple[str, list[str]]:
    """Both channels through the fakes: a first message, an e-mail typed into each chat, a forged and a good
    launch, consent, an order each, the staff's accept told after failed sends, a customer who blocked the
    bot. The log, and what must not be in it."""
    port = free_port()
    async with FakeTelegram(token=TOKEN) as telegram, FakeVK(token=VK_TOKEN, group_id=7) as vk:
        env = {"VITRINA_TELEGRAM__TOKEN": TOKEN, "VITRINA_TELEGRAM__API_BASE": telegram.base_url,
               "VITRINA_TELEGRAM__STAFF_CHAT_ID": "-100777", "VITRINA_OWNERS": "telegram:42,vk:42",
               "VITRINA_VK__TOKEN": VK_TOKEN, "VITRINA_VK__GROUP_ID": "7", "VITRINA_VK__API_BASE": vk.api_url,
               "VITRINA_VK__APP_ID": str(APP_ID), "VITRINA_VK__APP_SECRET": APP_SECRET,
               "VITRINA_VK__STAFF_PEER_ID": "2000000001", "VITRINA_WEBAPP__PORT": str(port),
               "VITRINA_WEBAPP__PUBLIC_URL": "https://coffee.example", "VITRINA_LOG_FORMAT": log_format,
               "VITRINA_DATABASE_URL": f"sqlite:///{tmp_path / 'shop.db'}"}
        cli(tmp_path, "demo", "seed", **env)
        now = int(time.time())
        init_data = telegram_init_data(TG_ID, now, token=TOKEN, first_name=FIRST)
        launch = vk_launch_params(VK_ID, now, secret=APP_SECRET, app_id=APP_ID)
        customers = {"telegram": {"Authorization": "tma " + init_data}, "vk": {"Authorization": "vk " + launch}}
        staff = {"Authorization": "tma " + telegram_init_data(42, now, token=TOKEN)}
        running = Running(cwd=tmp_path, env=env)
        async with running:
            await vk.wait_for(lambda: vk.calls_to("groups.getLongPollServer"), GUARD)
            telegram.push_update(private_message(TG_ID, "/start pcenter"))
            assert "Здравствуйте" in (await telegram.next_message(TG_ID, timeout=GUARD)).text
            telegram.push_update(private_message(TG_ID, f"моя почта {EMAIL}, пишите"))
            telegram.push_update(private_message(TG_ID, "/help"))  # a chat's updates are handled in order
            while "Что я умею" not in (await telegram.next_message(TG_ID, timeout=GUARD)).text:
                pass
            vk.users[VK_ID] = (VK_FIRST, VK_LAST)
            vk.message_new(VK_ID, "Привет", ref="pcenter")
            assert "Здравствуйте" in (await vk.next_message(VK_ID, timeout=GUARD)).text
            vk.message_new(VK_ID, f"почта {EMAIL}")
            vk.message_new(VK_ID, "помощь")
            while "Что я умею" not in (await vk.next_message(VK_ID, timeout=GUARD)).text:
                pass

            async with aiohttp.ClientSession(f"http://127.0.0.1:{port}") as http:
                forged = {"Authorization": "tma " + init_data.replace("hash=", "hash=f")}
                async with http.get("/api/me", headers=forged) as refused:
                    assert refused.status == 401  # logged, without the launch data
                async with http.get("/api/me", headers={"Authorization": "vk " + launch + "&vk_ref=x"}) as refused:
                    assert refused.status == 401
                async with http.get("/api/config") as config:
                    privacy = (await config.json()).get("privacy")
                orders = {}
                for channel, headers in customers.items():
                    async with http.get("/api/me", headers=headers) as me:
                        assert me.status == 200, await me.text()
                    if privacy and privacy.get("required"):
                        async with http.post("/api/consent", json={"version": privacy["version"]},
                                             headers=headers) as consent:
                            assert consent.status in (200, 201), await consent.text()
                    body = {"point": "center", "lines": [{"item": "croissant", "quantity": 1, "options": {}}],
                            "pickup_at": None, "payment": "counter", "request_id": f"private-{channel}"}
                    async with http.post("/api/orders", json=body, headers=headers) as placed:
                        assert placed.status == 201, await placed.text()
                        orders[channel] = await placed.json()
                # sends that fail for a while (logged, retried) and then go through
                telegram.fail(TG_ID, 1, "server")
                telegram.fail_next("sendMessage")
                vk.fail(VK_ID, 1, "server")
                vk.fail_next("messages.send")
                for order in orders.values():
                    async with http.post(f"/api/staff/orders/{order['id']}/accept", headers=staff) as done:
                        assert done.status == 200, await done.text()
                while "принят" not in (await telegram.next_message(TG_ID, timeout=GUARD)).text:
                    pass
                while "принят" not in (await vk.next_message(VK_ID, timeout=GUARD)).text:
                    pass
                telegram.refuse(TG_ID)  # the customers blocked the bot: telling them is logged as a failure
                vk.refuse(VK_ID)
                for order in orders.values():
                    async with http.post(f"/api/staff/orders/{order['id']}/ready", headers=staff) as done:
                        assert done.status == 200, await done.text()
            await running.wait_for_line("cannot be messaged", timeout=GUARD)
        assert await running.stop() == 0
    secrets = [TOKEN, TOKEN.split(":")[1], VK_TOKEN, APP_SECRET, init_data, parse_qs(init_data)["hash"][0],
               launch, parse_qs(launch)["sign"][0], FIRST, LAST, USERNAME, VK_FIRST, VK_LAST, EMAIL,
               EMAIL.split("@")[0]]
    return "".join(running.output), secrets


@pytest.mark.parametrize("log_format", ["plain", "json"])
async def test_a_journey_in_both_channels_logs_nothing_private(tmp_path, log_format):
    log, secrets = await journey(tmp_path, log_format)
    lines = [line for line in log.splitlines() if line.strip()]
    assert len(lines) > 5, log  # stdout and stderr together: everything the process wrote
    # every line is the redacting handler's (a library's own console handler would bypass it) or the
    # program's own few lines on stdout
    ours = PLAIN_LINE if log_format == "plain" else re.compile(r"^\{.*\}$")
    stdout = ("Vitrina (", "stopping")
    assert [line for line in lines if not ours.match(line) and not line.startswith(stdout)] == []
    if log_format == "json":
        logged = [json.loads(line) for line in lines if line.startswith("{")]
        assert len(logged) > 5 and all({"time", "level", "logger", "message"} <= set(e) for e in logged)
    for secret in secrets:
        assert secret not in log, f"{secret!r} in the log:\n" + "\n".join(l for l in lines if secret in l)
    for number in (TG_ID, VK_ID):
        found = [line for line in lines if re.search(rf"(?<!\d){number}(?!\d)", line)]
        assert not found, "\n".join(found)
    # what the log does say: the accounts as pseudonyms, the refusals and the failed notices
    assert re.search(r"telegram:~[0-9a-f]{8}", log) and re.search(r"vk:~[0-9a-f]{8}", log), log
    assert "launch refused" in log and "cannot be messaged" in log

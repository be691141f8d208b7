"""Logs an operator can ship and keep: JSON lines with ``VITRINA_LOG_FORMAT=json`` (one object a line), and
never a bot token, a secret of the settings, the Mini App's launch data or a customer's name, e-mail, phone
or chat id; an account appears as a keyed pseudonym, the same on every line, so one customer's lines still
go together."""
from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import signal
import time
from urllib.parse import parse_qs

import aiohttp
import pytest
from cli import VITRINA, clean_env
from cli import vitrina as cli
from fake_telegram import FakeTelegram
from launch_data import telegram_init_data
from process import free_port

from bot.observability import JsonLines, Redactor, setting_secrets, setup_logging
from bot.settings import load_settings

TOKEN = "7012345678:AAHk3vX9_secret-part-of-the-bot-tok"  # the shape of a real one: 35 characters after ":"
NAME = "Евлампия"
GUARD = 60  # seconds: only so that a broken process fails the test instead of hanging it


def record(message: str, *args: object, exc: BaseException | None = None) -> logging.LogRecord:
    exc_info = (type(exc), exc, exc.__traceback__) if exc is not None else None
    return logging.LogRecord("vitrina.test", logging.WARNING, __file__, 1, message, args, exc_info)


def redacted(redactor: Redactor, message: str, *args: object) -> str:
    r = record(message, *args)
    redactor.filter(r)
    return r.getMessage()


def test_the_redactor_takes_out_tokens_launch_data_secrets_and_contact_details():
    redactor = Redactor(["s3cret-yookassa-key", "vk1.a.community-token"], key=b"instance secret")
    init_data = telegram_init_data(100, 1_700_000_000, token=TOKEN, first_name="Аня")
    cases = {
        f"POST https://api.telegram.org/bot{TOKEN}/sendMessage failed": TOKEN,
        f"token {TOKEN} refused": TOKEN.split(":")[1],
        f"headers {{'Authorization': 'tma {init_data}'}}": "query_id",
        f"Authorization: tma {init_data}": parse_qs(init_data)["hash"][0],
        f"launch tma {init_data} refused": parse_qs(init_data)["auth_date"][0],
        "vk launch vk_user_id=777&vk_app_id=51234&vk_ts=1&sign=AbC-dEf_123 refused": "AbC-dEf_123",
        "https://vk.com/method/messages.send?access_token=abc.def.ghi&v=5.199": "abc.def.ghi",
        "YooKassa answered 401 for s3cret-yookassa-key": "s3cret-yookassa-key",
        "VK said: invalid vk1.a.community-token": "vk1.a.community-token",
        "cannot open postgresql://vitrina:pa55word@db:5432/shop": "pa55word",
        "receipt to anna.petrova+shop@example.ru failed": "anna.petrova",
        "call +7 (915) 123-45-67 or 89151234567 or +79151234567": "123-45-67",
    }
    for message, secret in cases.items():
        out = redacted(redactor, message)
        assert secret not in out, (message, out)
        assert "[redacted]" in out or "[e-mail]" in out or "[phone]" in out, out
    assert "9151234567" not in redacted(redactor, "call 89151234567 or +79151234567")
    assert redacted(redactor, "VK says too many requests (attempt %d)", 2) == "VK says too many requests (attempt 2)"
    assert redacted(redactor, "expired %d orders", 3) == "expired 3 orders"


def test_accounts_become_pseudonyms_stable_per_secret():
    one, other = Redactor(key=b"instance secret"), Redactor(key=b"another shop")
    first = redacted(one, "%s cannot be messaged (blocked)", "telegram:100")
    assert "100" not in first and first.startswith("telegram:~")
    assert redacted(one, "not telling telegram:100 of event 5").split()[2] == first.split()[0]  # same person
    assert redacted(one, "vk:100 too").split()[0] != first.split()[0].replace("telegram", "vk")
    assert redacted(other, "telegram:100").split()[0] != first.split()[0]  # not a plain hash of the id
    assert "Аня" not in redacted(one, "web:Аня placed an order")


def test_a_traceback_is_redacted_too_and_json_lines_parse():
    stream = io.StringIO()
    settings = load_settings(telegram={"token": TOKEN}, log_format="json", metrics_token="m3trics-token")
    handler = setup_logging(settings, key=b"k", stream=stream)
    log = logging.getLogger("vitrina.test")
    try:
        raise RuntimeError(f"https://api.telegram.org/bot{TOKEN}/getMe answered 502 for telegram:42")
    except RuntimeError:
        log.exception("sending to %s failed with m3trics-token", "telegram:42")
    log.info("line\nwith a break and \"quotes\"")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert set(first) == {"time", "level", "logger", "message", "exception"} and first["level"] == "ERROR"
    assert first["logger"] == "vitrina.test" and first["time"].endswith("+00:00")
    assert "RuntimeError" in first["exception"] and "Traceback" in first["exception"]
    for text in (first["message"], first["exception"]):
        assert TOKEN not in text and "telegram:42" not in text and "m3trics-token" not in text
    assert second["message"] == "line\nwith a break and \"quotes\"" and "exception" not in second
    logging.getLogger().removeHandler(handler)


def test_every_secret_of_the_settings_is_known_to_the_redactor():
    settings = load_settings(telegram={"token": TOKEN, "webhook_url": "https://x.example/telegram/webhook",
                                       "webhook_secret": "wh-secret"},
                             vk={"token": "vk-token", "group_id": 1, "app_id": 2, "app_secret": "vk-app-secret"},
                             yookassa={"shop_id": "1", "secret_key": "yk-secret"}, secret_key="pickup-secret",
                             metrics_token="m-token", database_url="postgresql://u:db-pass@host/shop")
    assert set(setting_secrets(settings)) >= {TOKEN, "wh-secret", "vk-token", "vk-app-secret", "yk-secret",
                                              "pickup-secret", "m-token", "db-pass"}


def test_plain_logs_stay_plain_lines():
    stream = io.StringIO()
    handler = setup_logging(load_settings(), stream=stream)
    logging.getLogger("vitrina").warning("telegram:5 cannot be messaged")
    logging.getLogger().removeHandler(handler)
    line = stream.getvalue().strip()
    assert " WARNING vitrina: telegram:~" in line and not line.startswith("{")


def test_json_lines_formatter_keeps_unicode_readable():
    line = JsonLines().format(record("Кофейня %s", "на Пушкина"))
    assert json.loads(line)["message"] == "Кофейня на Пушкина" and "Кофейня" in line


@pytest.fixture
async def fake():
    async with FakeTelegram(token=TOKEN) as server:
        yield server


async def wait_until(check, what: str):
    """Poll ``check`` until it returns something true (bounded only to fail rather than hang)."""
    deadline = time.monotonic() + GUARD
    while time.monotonic() < deadline:
        if found := await check():
            return found
        await asyncio.sleep(0.1)
    raise AssertionError(f"no {what} within {GUARD}s")


@pytest.mark.slow
async def test_a_journey_logged_as_json_holds_no_token_launch_data_or_name(tmp_path, fake):
    port = free_port()
    env = {"VITRINA_TELEGRAM__TOKEN": TOKEN, "VITRINA_TELEGRAM__API_BASE": fake.base_url,
           "VITRINA_TELEGRAM__STAFF_CHAT_ID": "-100777", "VITRINA_OWNERS": "telegram:42",
           "VITRINA_WEBAPP__PORT": str(port), "VITRINA_WEBAPP__PUBLIC_URL": "https://coffee.example",
           "VITRINA_DATABASE_URL": f"sqlite:///{tmp_path / 'shop.db'}", "VITRINA_LOG_FORMAT": "json",
           "VITRINA_METRICS_TOKEN": "m3trics-token"}
    cli(tmp_path, "demo", "seed", **env)
    log_file = tmp_path / "vitrina.log"
    with log_file.open("wb") as stderr:
        process = await asyncio.create_subprocess_exec(VITRINA, "run", cwd=tmp_path, env=clean_env(**env),
                                                       stdout=asyncio.subprocess.PIPE, stderr=stderr,
                                                       start_new_session=True)
    try:
        assert process.stdout is not None
        while b"is running at" not in (line := await asyncio.wait_for(process.stdout.readline(), GUARD)):
            assert line, log_file.read_text()
        init_data = telegram_init_data(100, int(time.time()), token=TOKEN, first_name=NAME)
        customer = {"Authorization": "tma " + init_data}
        owner = {"Authorization": "tma " + telegram_init_data(42, int(time.time()), token=TOKEN)}

        fake.send_message(100, "/start pcenter", first_name=NAME)
        assert NAME in (await fake.next_message(100, timeout=GUARD)).text
        async with aiohttp.ClientSession(f"http://127.0.0.1:{port}") as http:
            forged = {"Authorization": "tma " + init_data.replace("hash=", "hash=0")}
            async with http.get("/api/me", headers=forged) as refused:
                assert refused.status == 401  # logged, without the launch data
            body = {"point": "center", "lines": [{"item": "cappuccino", "quantity": 1, "options": {}}],
                    "pickup_at": None, "payment": "counter", "request_id": "r1"}
            async with http.post("/api/orders", json=body, headers=customer) as placed:
                assert placed.status == 201, await placed.text()
                order = await placed.json()
            fake.refuse(100)  # the customer blocks the bot: telling them of the order is logged
            async with http.post(f"/api/staff/orders/{order['id']}/accept", headers=owner) as done:
                assert done.status == 200

            async def failures() -> float:
                async with http.get("/metrics", headers={"Authorization": "Bearer m3trics-token"}) as page:
                    text = await page.text()
                return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                           if line.startswith("vitrina_notification_failures_total{") and 'kind="permanent"' in line)
            await wait_until(failures, "permanent notification failure counted")
            async with http.get("/metrics") as closed:
                assert closed.status == 401
    finally:
        if process.returncode is None:
            os.killpg(process.pid, signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), GUARD) == 0

    lines = log_file.read_text(encoding="utf-8").splitlines()
    assert lines, "nothing was logged"
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    for entry in entries:
        assert {"time", "level", "logger", "message"} <= set(entry) <= {"time", "level", "logger", "message",
                                                                      "exception", "stack"}
    text = log_file.read_text(encoding="utf-8")
    hash_ = parse_qs(init_data)["hash"][0]
    for secret in (TOKEN, TOKEN.split(":")[1], init_data, hash_, NAME, "m3trics-token", "telegram:100",
                   "telegram:42"):
        assert secret not in text, secret
    assert any("telegram:~" in e["message"] and "cannot be messaged" in e["message"] for e in entries)
    assert any("launch refused" in e["message"] for e in entries)

"""A channel that cannot start stops ``vitrina run`` with one line naming the setting: no traceback, no
unclosed sessions, a non-zero exit. Run as a process against the fake servers, as an owner would meet it."""
from __future__ import annotations

import asyncio

import pytest
from cli import VITRINA, clean_env
from fake_telegram import FakeTelegram
from fake_vk import FakeVK
from process import free_port

pytestmark = pytest.mark.slow


async def run_vitrina(tmp_path, **env: str) -> tuple[int, list[str]]:
    """``vitrina run`` until it exits by itself (it must not get as far as serving)."""
    base = {"VITRINA_WEBAPP__PORT": str(free_port()), "VITRINA_WEBAPP__PUBLIC_URL": "https://coffee.example",
            "VITRINA_DATABASE_URL": f"sqlite:///{tmp_path / 'shop.db'}"}
    process = await asyncio.create_subprocess_exec(
        VITRINA, "run", cwd=tmp_path, env=clean_env(**base, **env), stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    try:
        out, err = await asyncio.wait_for(process.communicate(), 60)
    except TimeoutError:
        process.kill()
        raise AssertionError("vitrina run kept running with a channel that cannot start") from None
    assert "is running at" not in out.decode()
    return process.returncode or 0, [line for line in err.decode().splitlines() if line.strip()]


def assert_one_line(status: int, lines: list[str], *expected: str) -> None:
    assert status == 1, lines
    assert len(lines) == 1, "\n".join(lines)  # no traceback, no "Unclosed client session"
    assert lines[0].startswith("vitrina: "), lines[0]
    for text in expected:
        assert text in lines[0], lines[0]


async def test_a_token_that_is_no_token_is_named(tmp_path):
    status, lines = await run_vitrina(tmp_path, VITRINA_TELEGRAM__TOKEN="bogus")
    assert_one_line(status, lines, "VITRINA_TELEGRAM__TOKEN:", "not a bot token")


async def test_a_token_telegram_refuses_is_named(tmp_path):
    async with FakeTelegram(token="4242:RIGHT") as fake:
        status, lines = await run_vitrina(tmp_path, VITRINA_TELEGRAM__TOKEN="4242:WRONG",
                                          VITRINA_TELEGRAM__API_BASE=fake.base_url)
        assert [c.method for c in fake.calls] == []  # refused before any method ran
    assert_one_line(status, lines, "VITRINA_TELEGRAM__TOKEN:", "401 Unauthorized")


async def test_an_unreachable_bot_api_is_named(tmp_path):
    status, lines = await run_vitrina(tmp_path, VITRINA_TELEGRAM__TOKEN="4242:RIGHT",
                                      VITRINA_TELEGRAM__API_BASE=f"http://127.0.0.1:{free_port()}")
    assert_one_line(status, lines, "VITRINA_TELEGRAM__API_BASE:", "cannot reach")


async def test_a_token_vk_refuses_is_named(tmp_path):
    async with FakeVK(token="right", group_id=7) as fake:
        status, lines = await run_vitrina(tmp_path, VITRINA_VK__TOKEN="wrong", VITRINA_VK__GROUP_ID="7",
                                          VITRINA_VK__API_BASE=fake.api_url)
    assert_one_line(status, lines, "VITRINA_VK__TOKEN:", "invalid access_token")


async def test_a_token_of_another_community_is_named(tmp_path):
    async with FakeVK(token="right", group_id=7) as fake:
        status, lines = await run_vitrina(tmp_path, VITRINA_VK__TOKEN="right", VITRINA_VK__GROUP_ID="8",
                                          VITRINA_VK__API_BASE=fake.api_url)
    assert_one_line(status, lines, "VITRINA_VK__GROUP_ID:", "community 7")


async def test_one_channel_failing_closes_the_one_that_started(tmp_path):
    """Telegram starts, then VK refuses its token: the Telegram session is closed too, and nothing is left
    half-done (no commands menu without a running bot matters less than a clean exit)."""
    async with FakeTelegram(token="4242:RIGHT") as telegram, FakeVK(token="right", group_id=7) as vk:
        status, lines = await run_vitrina(
            tmp_path, VITRINA_TELEGRAM__TOKEN="4242:RIGHT", VITRINA_TELEGRAM__API_BASE=telegram.base_url,
            VITRINA_VK__TOKEN="wrong", VITRINA_VK__GROUP_ID="7", VITRINA_VK__API_BASE=vk.api_url)
        assert "getMe" in [c.method for c in telegram.calls]
    assert_one_line(status, lines, "VITRINA_VK__TOKEN:")

"""Two instances' rate limiters sharing one send budget (PostgreSQL, or Redis) keep the bot's overall rate and
each chat's spacing together, and a 429 seen by one pauses the other.

The slots are checked, not the clock: every reservation records the slot the budget booked (by the budget's
own clock), and the slots of both instances together must be at least 1/rate apart overall and keep each
chat's burst and spacing.
"""
from __future__ import annotations

import asyncio
import itertools
import os
import secrets
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import pytest

from adapters.ratelimit import RateLimiter
from journey.ports import SendCell
from storage.sqlite import SqliteDatabase

RATE = 100.0  # a second: fast enough for a short test, slow enough that the slots must be spread
CHAT_INTERVAL, CHAT_BURST = 0.05, 2
SENDS = 120
CHATS = 6
EPSILON = 1e-6  # the budgets keep times to the microsecond


class Recorded:
    """A budget that remembers every slot it booked, with the cells it was booked for."""

    def __init__(self, budget: Any, slots: list[tuple[float, tuple[SendCell, ...]]]) -> None:
        self.budget = budget
        self.slots = slots

    async def reserve(self, cells: Sequence[SendCell]) -> float:
        at, now = await self.budget.book(cells)
        self.slots.append((at, tuple(cells)))
        return max(0.0, at - now)

    async def pause(self, key: str, seconds: float) -> None:
        await self.budget.pause(key, seconds)


@asynccontextmanager
async def postgres_budgets() -> AsyncIterator[tuple[Any, Any]]:
    """Two instances' budgets: two pools on one PostgreSQL schema."""
    from pg_support import fresh_schema

    from storage.postgres import PostgresDatabase

    async with fresh_schema() as first:
        second = PostgresDatabase(first.url, schema=first.schema, pool_size=4)
        await second.connect()
        try:
            yield first.send_budget(), second.send_budget()
        finally:
            await second.close()


@asynccontextmanager
async def redis_budgets() -> AsyncIterator[tuple[Any, Any]]:
    """Two instances' budgets: two clients of one Redis, under a prefix of this test's own."""
    from redis.exceptions import ConnectionError as RedisDown

    from adapters.redis_budget import RedisSendBudget

    url = os.environ.get("VITRINA_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    prefix = f"vitrina:test:{secrets.token_hex(6)}:"
    first, second = RedisSendBudget(url, prefix=prefix), RedisSendBudget(url, prefix=prefix)
    try:
        await first.redis.ping()
    except (RedisDown, OSError) as e:
        await first.close()
        await second.close()
        if os.environ.get("CI"):
            raise
        pytest.skip(f"Redis tests: no Redis at {url} ({e}); set VITRINA_TEST_REDIS_URL")
    try:
        yield first, second
    finally:
        keys = [key async for key in first.redis.scan_iter(match=prefix + "*")]
        if keys:
            await first.redis.delete(*keys)
        await first.close()
        await second.close()


@pytest.fixture(params=["postgres", "redis"])
async def budgets(request):
    opened = postgres_budgets() if request.param == "postgres" else redis_budgets()
    async with opened as pair:
        yield pair


def limiter(budget: Any) -> RateLimiter:
    shared = RateLimiter(per_second=RATE, chat_interval=CHAT_INTERVAL, chat_burst=CHAT_BURST)
    shared.share(budget, "telegram:Telegram @shop")
    return shared


async def test_two_limiters_sharing_a_budget_keep_the_overall_rate_and_each_chats_pace(budgets):
    slots: list[tuple[float, tuple[SendCell, ...]]] = []
    first, second = (limiter(Recorded(b, slots)) for b in budgets)
    # both instances send at once, as fast as they are let: a broadcast on one, notifications on the other
    await asyncio.gather(*((first if n % 2 else second).wait(f"chat{n % CHATS}") for n in range(SENDS)))

    assert len(slots) == SENDS
    overall = sorted(at for at, _ in slots)
    gaps = [b - a for a, b in itertools.pairwise(overall)]
    assert min(gaps) >= 1 / RATE - EPSILON  # together, never faster than the bot may send
    for chat in range(CHATS):
        times = sorted(at for at, cells in slots if cells[1].key.endswith(f":chat:chat{chat}"))
        assert len(times) == SENDS // CHATS
        # a burst of CHAT_BURST, then one per CHAT_INTERVAL: of any k sends in a row, the last is at least
        # (k - CHAT_BURST) intervals after the first
        for i, first_at in enumerate(times):
            for j in range(i + CHAT_BURST, len(times)):
                assert times[j] - first_at >= (j - i - CHAT_BURST + 1) * CHAT_INTERVAL - EPSILON


async def test_a_429_seen_by_one_instance_pauses_the_other(budgets):
    first, second = budgets
    scope = "vk:VK club1"
    await first.pause(scope, 30.0)  # VK's error 6, or Telegram's retry_after, seen by the first
    at, now = await second.book([SendCell(scope, 1 / RATE), SendCell(f"{scope}:chat:7", CHAT_INTERVAL)])
    assert at - now >= 30.0 - 0.5  # the second waits it out too (the pause began a moment before)
    other_at, other_now = await second.book([SendCell("telegram:Telegram @other", 1 / RATE)])
    assert other_at == other_now  # another bot is not paused


async def test_a_limiters_pause_reaches_the_shared_budget(budgets):
    first, second = budgets
    pausing, paced = limiter(first), limiter(second)
    pausing.pause(30.0)  # what the messenger does on a 429 (it cannot wait there)
    await asyncio.gather(*pausing._pausing)
    at, now = await second.book(paced.cells("chat1"))
    assert at - now >= 30.0 - 0.5


async def test_without_its_budget_a_limiter_paces_sends_itself():
    class Away:
        async def reserve(self, cells: Sequence[SendCell]) -> float:
            raise ConnectionError("the database is restarting")

        async def pause(self, key: str, seconds: float) -> None:
            raise ConnectionError("the database is restarting")

    alone = RateLimiter(per_second=1000, chat_interval=0.001)
    alone.share(Away(), "telegram:Telegram @shop")
    await asyncio.gather(*(alone.wait("chat") for _ in range(5)))  # sent, paced here, not refused
    alone.pause(0.001)
    await asyncio.gather(*alone._pausing)
    assert alone._tat["chat"] > 0


class Bot:
    """What the runner asks of a started channel adapter to share its messenger's pace."""

    def __init__(self, channel: str, name: str) -> None:
        self.channel = channel
        self.name = name
        self.messenger = type("Messenger", (), {"limiter": RateLimiter()})()

    def describe(self) -> str:
        return self.name


async def test_vitrina_run_paces_every_bot_in_redis_when_it_is_set(tmp_path):
    from contextlib import AsyncExitStack

    from adapters.redis_budget import RedisSendBudget
    from bot.runner import share_send_budget
    from bot.settings import load_settings

    bots = [Bot("telegram", "Telegram @shop"), Bot("vk", "VK club1")]
    engine: Any = type("Engine", (), {})()
    async with AsyncExitStack() as resources:
        settings = load_settings(database_url=f"sqlite:///{tmp_path / 'shop.db'}", redis_url="redis://127.0.0.1:6379/0")
        budget = await share_send_budget(settings, engine, bots, resources)  # type: ignore[arg-type]
        assert isinstance(budget, RedisSendBudget)
        assert [(b.messenger.limiter.budget, b.messenger.limiter.scope) for b in bots] == [
            (budget, "telegram:Telegram @shop"), (budget, "vk:VK club1")]
    alone = [Bot("telegram", "Telegram @shop")]
    async with AsyncExitStack() as resources:  # SQLite without Redis: one machine, each process paces itself
        settings = load_settings(database_url=f"sqlite:///{tmp_path / 'shop.db'}")
        engine.database = SqliteDatabase(tmp_path / "shop.db")
        assert await share_send_budget(settings, engine, alone, resources) is None  # type: ignore[arg-type]
        assert alone[0].messenger.limiter.budget is None


def test_a_redis_url_of_another_kind_is_refused_naming_the_setting():
    from bot.settings import SettingsError, load_settings

    with pytest.raises(SettingsError, match="VITRINA_REDIS_URL: expected redis://"):
        load_settings(redis_url="http://127.0.0.1:6379")


async def test_postgres_forgets_chats_idle_for_an_hour_now_and_then():
    from storage.postgres import jobs

    async with postgres_budgets() as (budget, _):
        await budget.reserve([SendCell("telegram:Telegram @shop:chat:1", CHAT_INTERVAL)])
        await budget._db.pool.execute("UPDATE send_budget SET tat = tat - 7200")  # as if an hour and more ago
        budget._reserved = jobs.FORGET_EVERY - 1  # the next reservation is the one that forgets
        await budget.reserve([SendCell("telegram:Telegram @shop:chat:2", CHAT_INTERVAL)])
        assert [r["key"] for r in await budget._db.pool.fetch("SELECT key FROM send_budget")] == [
            "telegram:Telegram @shop:chat:2"]

"""The abuse limits' token buckets (``uow.limits``, journey.ports.RateLimits) on both backends.

A bucket starts full, gives ``capacity`` tokens at once, then one per ``1 / refill`` seconds by the time given;
a refused take takes nothing and says how long to wait; a clock that goes back refills nothing. Takers racing
on one bucket from two instances (two processes on one SQLite file, two pools on one PostgreSQL schema) are
never given more tokens than the bucket holds.
"""
from __future__ import annotations

import asyncio

import pytest
from pg_support import two_instances

T0 = 1_800_000_000.0  # seconds since the epoch


async def take(db, key: str, capacity: int = 3, refill: float = 0.5, now: float = T0, cost: int = 1) -> float:
    async with db() as uow:
        return await uow.limits.take(key, capacity, refill, now, cost)


async def test_a_new_bucket_is_full_and_then_refuses_with_the_wait(uow_factory):
    assert [await take(uow_factory, "orders:telegram:1") for _ in range(3)] == [0, 0, 0]
    assert await take(uow_factory, "orders:telegram:1") == pytest.approx(2.0)  # one token per 2 s
    assert await take(uow_factory, "orders:telegram:1", now=T0 + 1) == pytest.approx(1.0)  # a refusal took nothing
    assert await take(uow_factory, "orders:telegram:2") == 0  # another key, another bucket


async def test_a_bucket_refills_with_time_up_to_its_capacity(uow_factory):
    for _ in range(3):
        await take(uow_factory, "k")
    assert await take(uow_factory, "k", now=T0 + 2) == 0  # 2 s: one token back
    assert await take(uow_factory, "k", now=T0 + 2) == pytest.approx(2.0)
    # an hour later it is full again, and no fuller than its capacity
    late = T0 + 3600
    assert [await take(uow_factory, "k", now=late) for _ in range(3)] == [0, 0, 0]
    assert await take(uow_factory, "k", now=late) > 0


async def test_a_clock_behind_the_bucket_refills_nothing(uow_factory):
    for _ in range(3):
        await take(uow_factory, "k", now=T0 + 10)
    # another instance whose clock is 10 s behind: nothing has come back, and nothing is counted twice later
    assert await take(uow_factory, "k", now=T0) == pytest.approx(2.0)
    assert await take(uow_factory, "k", now=T0 + 11) == pytest.approx(1.0)
    assert await take(uow_factory, "k", now=T0 + 12) == 0


async def test_a_cost_takes_several_tokens_and_an_impossible_take_is_refused(uow_factory):
    assert await take(uow_factory, "k", capacity=5, cost=4) == 0
    assert await take(uow_factory, "k", capacity=5, cost=2) == pytest.approx(2.0)  # 1 left, 1 more in 2 s
    with pytest.raises(ValueError):
        await take(uow_factory, "k", capacity=5, cost=6)
    with pytest.raises(ValueError):
        await take(uow_factory, "k", capacity=5, refill=0)


async def test_idle_buckets_are_pruned(uow_factory):
    await take(uow_factory, "old", capacity=1, now=T0)
    await take(uow_factory, "new", capacity=1, now=T0 + 100)
    async with uow_factory() as uow:
        assert await uow.limits.prune(T0 + 50) == 1
    assert await take(uow_factory, "old", capacity=1, now=T0 + 100) == 0  # forgotten: full again
    assert await take(uow_factory, "new", capacity=1, now=T0 + 100) > 0  # kept: its one token is gone


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_takers_racing_on_two_instances_never_get_more_than_the_bucket_holds(backend, tmp_path):
    async with two_instances(backend, tmp_path) as (a, b):
        async def taker(db, n: int) -> float:
            await asyncio.sleep(0)
            return await take(db, "orders:telegram:7", capacity=10, refill=0.001, now=T0 + n * 0.001)

        answers = await asyncio.gather(*(taker(a if n % 2 else b, n) for n in range(40)))
    allowed = [w for w in answers if w == 0]
    # 10 at once, and 40 takes within 0.04 s refill 0.00004 of a token: not one more
    assert len(allowed) == 10, answers
    assert all(w > 0 for w in answers if w != 0)

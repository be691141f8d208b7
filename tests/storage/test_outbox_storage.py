"""What the outbox relay's batched rounds need of storage, on every backend: the highest id stored, a read of
pending events bounded above, and records written for many events in one statement."""
from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from journey.events import DomainEvent, EventType
from journey.ports import DeliveryFailure

NOON = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)


async def stored(db, n: int) -> list[int]:
    async with db() as uow:
        for i in range(n):
            await uow.outbox.add(DomainEvent(EventType.ORDER_READY, {"order_id": f"o_{i}"}, NOON))
    async with db.reading() as uow:
        return [e.id for e in await uow.outbox.pending("nobody", 1000)]


async def test_latest_is_the_highest_id_stored(uow_factory):
    async with uow_factory.reading() as uow:
        assert await uow.outbox.latest() == 0
    ids = await stored(uow_factory, 3)
    async with uow_factory.reading() as uow:
        assert await uow.outbox.latest() == ids[-1]


async def test_pending_stops_at_its_upper_bound(uow_factory):
    ids = await stored(uow_factory, 6)
    async with uow_factory() as uow:
        await uow.outbox.mark_handled("notify", ids[1])
    async with uow_factory.reading() as uow:
        assert [e.id for e in await uow.outbox.pending("notify", after=0, upto=ids[3])] == [ids[0], ids[2], ids[3]]
        assert [e.id for e in await uow.outbox.pending("notify", after=ids[3], upto=ids[4])] == [ids[4]]
        assert await uow.outbox.pending("notify", after=ids[3], upto=ids[3]) == []
        assert [e.id for e in await uow.outbox.pending("notify", 2, after=0, upto=ids[5])] == [ids[0], ids[2]]


async def test_many_events_marked_at_once_count_only_the_new_records(uow_factory):
    ids = await stored(uow_factory, 5)
    async with uow_factory() as uow:
        assert await uow.outbox.mark_handled("notify", ids[0]) is True
        # one already recorded, one named twice: each event is recorded once
        assert await uow.outbox.mark_all_handled("notify", [ids[0], ids[1], ids[2], ids[2]]) == 2
        assert await uow.outbox.mark_all_handled("notify", []) == 0
    async with uow_factory.reading() as uow:
        assert [e.id for e in await uow.outbox.pending("notify")] == ids[3:]
        assert [e.id for e in await uow.outbox.pending("analytics")] == ids  # another subscriber's own
        assert await uow.outbox.is_handled("notify", ids[2])
    async with uow_factory() as uow:
        assert await uow.outbox.mark_all_handled("notify", ids) == 2  # across units of work too


async def test_failures_are_cleared_for_many_events_of_one_subscriber(uow_factory):
    ids = await stored(uow_factory, 3)
    later = NOON + timedelta(seconds=30)
    async with uow_factory() as uow:
        for i in ids:
            await uow.outbox.record_failure(DeliveryFailure("notify", i, 1, later, "network: timeout", False, NOON))
        await uow.outbox.record_failure(DeliveryFailure("crm", ids[0], 1, later, "server: 502", False, NOON))
    async with uow_factory() as uow:
        await uow.outbox.clear_failures("notify", [ids[0], ids[2]])
    async with uow_factory.reading() as uow:
        assert [f.event_id for f in await uow.outbox.failures("notify")] == [ids[1]]
        assert [f.event_id for f in await uow.outbox.failures("crm")] == [ids[0]]  # not the other subscriber's


async def test_two_writers_marking_overlapping_batches_record_each_event_once(uow_factory):
    """Two relays that both sent (an instance taken over mid-round): the key decides, nothing fails."""
    ids = await stored(uow_factory, 40)

    async def mark(chosen: list[int]) -> int:
        async with uow_factory() as uow:
            return await uow.outbox.mark_all_handled("notify", chosen)

    counts = await asyncio.gather(mark(ids[:30]), mark(ids[10:]))
    assert sum(counts) == 40
    async with uow_factory.reading() as uow:
        assert await uow.outbox.pending("notify") == []

"""The outbox relay delivers stored events to each subscriber at least once, in order, and only once per handler.

A failing event is tried again later, with backoff, and holds up no other event (tests/journey/test_delivery.py
covers events of one order, dead letters and restarts); a duplicate delivery of an event already handled does
not reach the handler again; subscribers are independent of each other.
"""
from __future__ import annotations

import pytest
from journey_support import customer

from journey.events import DomainEvent, EventType
from journey.outbox import OutboxRelay


class Recorder:
    """A subscriber that remembers what it got and can be told to fail on some events, a number of times."""

    def __init__(self, fail_on: dict[int, int] | None = None) -> None:
        self.got: list[int] = []
        self.calls = 0
        self.fail_on = dict(fail_on or {})

    async def __call__(self, event: DomainEvent) -> None:
        self.calls += 1
        n = event.data["n"]
        if self.fail_on.get(n, 0) > 0:
            self.fail_on[n] -= 1
            raise ConnectionError(f"subscriber down at {n}")
        self.got.append(n)


@pytest.fixture
async def stored(db):
    """Five events in the outbox."""
    async with db.uow() as uow:
        for n in range(5):
            await uow.outbox.add(DomainEvent(EventType.VISIT_RECORDED, {"n": n}))
    return 5


async def pending(db, name: str) -> list[int]:
    async with db.uow() as uow:
        return [e.data["n"] for e in await uow.outbox.pending(name)]


async def test_events_are_delivered_in_order_once(db, stored):
    notify = Recorder()
    relay = OutboxRelay(db.uow)
    relay.subscribe("notify", notify)
    assert await relay.run_once() == stored
    assert notify.got == [0, 1, 2, 3, 4]
    assert await relay.run_once() == 0
    assert notify.calls == stored and await pending(db, "notify") == []


async def test_a_failing_event_is_retried_with_backoff_and_holds_up_no_other(db, stored, clock):
    notify = Recorder(fail_on={2: 2})
    relay = OutboxRelay(db.uow, {"notify": notify}, clock=clock.now)
    assert await relay.run_once() == 4  # events without an order wait for nobody
    assert notify.got == [0, 1, 3, 4]
    assert await pending(db, "notify") == [2]
    assert await relay.run_once() == 0 and notify.calls == 5  # not due yet: not tried again
    clock.advance(seconds=2)
    assert await relay.run_once() == 0 and notify.calls == 6  # second failure: waits 4 s now
    clock.advance(seconds=3)
    assert await relay.run_once() == 0 and notify.calls == 6
    clock.advance(seconds=1)
    assert await relay.run_once() == 1
    assert notify.got == [0, 1, 3, 4, 2] and await pending(db, "notify") == []
    async with db.reading() as uow:
        assert await uow.outbox.failures("notify") == []


async def test_a_duplicate_delivery_reaches_the_handler_once(db, stored):
    notify = Recorder()
    relay = OutboxRelay(db.uow, {"notify": notify})
    async with db.uow() as uow:
        event = (await uow.outbox.pending("notify"))[0]
    assert await relay.deliver("notify", event) is True
    assert await relay.deliver("notify", event) is False
    assert notify.calls == 1 and notify.got == [0]
    assert await relay.run_once() == stored - 1
    assert notify.got == [0, 1, 2, 3, 4]


async def test_a_handler_that_finished_is_not_called_again_when_marking_races(db, stored):
    """Two relays (say, two processes) deliver the same event: the second record is refused."""
    notify = Recorder()
    async with db.uow() as uow:
        event = (await uow.outbox.pending("notify"))[0]
        assert await uow.outbox.mark_handled("notify", event.id) is True
        assert await uow.outbox.mark_handled("notify", event.id) is False
    assert await OutboxRelay(db.uow, {"notify": notify}).deliver("notify", event) is False
    assert notify.calls == 0


async def test_each_subscriber_gets_every_event_independently(db, stored):
    notify, analytics = Recorder(fail_on={1: 1}), Recorder()
    relay = OutboxRelay(db.uow, delay=lambda attempts: 0)
    relay.subscribe("notify", notify)
    relay.subscribe("analytics", analytics)
    assert await relay.run_once() == 4 + stored
    assert analytics.got == [0, 1, 2, 3, 4] and notify.got == [0, 2, 3, 4]
    assert await relay.run_once() == 1
    assert notify.got == [0, 2, 3, 4, 1] and analytics.calls == stored


async def test_engine_events_reach_subscribers(engine, db):
    ref = customer(7)
    await engine.identify(ref)
    seen: list[DomainEvent] = []

    async def handler(event: DomainEvent) -> None:
        seen.append(event)

    relay = OutboxRelay(engine.uow, {"crm": handler})
    await relay.run_once()
    assert [e.type for e in seen] == [EventType.CUSTOMER_CREATED]
    assert seen[0].data["channel"] == ref.channel.value and seen[0].id is not None

"""Two instances' outbox relays on one database deliver every event once, each order's events in order; an
instance killed mid-round is taken over by the other, which does its round again from the stored cursor.

Two database objects on one store stand for two instances: two processes on one SQLite file, two pools on one
PostgreSQL schema. Each relay takes its rounds under the database's job locks (``db.job_locks()``).
"""
from __future__ import annotations

import asyncio
import time

import pytest
from pg_support import two_instances

from journey.events import DomainEvent, EventType
from journey.outbox import OutboxRelay
from storage.sqlite.jobs import LEASE_SECONDS, SqliteJobLocks

EVENTS = 200
ORDERS = 20
KINDS = [EventType.ORDER_PLACED, EventType.ORDER_ACCEPTED, EventType.ORDER_READY, EventType.ORDER_PICKED_UP]


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request) -> str:
    return request.param


def event(n: int) -> DomainEvent:
    return DomainEvent(KINDS[(n // ORDERS) % len(KINDS)], {"order_id": f"o{n % ORDERS}", "n": n})


async def store(db, numbers: range) -> None:
    for n in numbers:
        async with db.uow() as uow:
            await uow.outbox.add(event(n))


class Customers:
    """What the customers heard: one list for every instance's relay, ``(n, order)`` in the order sent."""

    def __init__(self) -> None:
        self.heard: list[tuple[int, str]] = []
        self.started: list[int] = []
        self.hang_on: int | None = None  # the send of this event never finishes (its instance dies in it)
        self.hanging = asyncio.Event()

    def handler(self, instance: str):
        async def notify(e: DomainEvent) -> None:
            self.started.append(e.data["n"])
            if e.data["n"] == self.hang_on and instance == "first":
                self.hanging.set()
                await asyncio.Event().wait()
            await asyncio.sleep(0)  # a send takes a moment: the other instance runs meanwhile
            self.heard.append((e.data["n"], e.data["order_id"]))
        return notify

    def in_order(self) -> bool:
        by_order: dict[str, list[int]] = {}
        for n, order in self.heard:
            by_order.setdefault(order, []).append(n)
        return all(ns == sorted(ns) for ns in by_order.values())


async def until(condition) -> None:
    while not condition():
        await asyncio.sleep(0.01)


async def until_recorded(db, numbers: list[int]) -> None:
    """Wait until the events numbered so (stored in order from 0) are on record as handled."""
    for _ in range(500):
        async with db.reading() as uow:
            ids = [e.id for e in await uow.outbox.pending("nobody", EVENTS)]
            if all([await uow.outbox.is_handled("notify", ids[n]) for n in numbers]):
                return
        await asyncio.sleep(0.01)
    pytest.fail(f"the events sent ({numbers}) are not all on record 5 s later")


async def test_two_relays_deliver_every_event_once_and_each_orders_in_order(backend, tmp_path):
    async with two_instances(backend, tmp_path) as (first, second):
        customers = Customers()
        relays = [OutboxRelay(db.uow, {"notify": customers.handler(name)}, batch=25, locks=db.job_locks())
                  for name, db in (("first", first), ("second", second))]
        await store(first, range(EVENTS // 2))
        stop = asyncio.Event()
        running = [asyncio.ensure_future(relay.run(interval=0.005, stop=stop)) for relay in relays]
        for start in range(EVENTS // 2, EVENTS, 10):  # more arrive while both relays run, now and then
            await store(second, range(start, start + 10))
            await asyncio.sleep(0.01)
        await until(lambda: len(customers.heard) >= EVENTS)
        stop.set()
        await asyncio.gather(*running)
        assert [await relay.run_once() for relay in relays] == [0, 0]  # nothing left, nothing sent again
        assert sorted(n for n, _ in customers.heard) == list(range(EVENTS))  # each exactly once
        assert customers.in_order()


async def test_a_relay_goes_on_from_where_the_other_instance_stopped(backend, tmp_path):
    """Rounds taken in turn: each relay reads the cursor the other left, so nothing is sent again or skipped."""
    async with two_instances(backend, tmp_path) as (first, second):
        customers = Customers()
        relays = [OutboxRelay(db.uow, {"notify": customers.handler(name)}, batch=25, locks=db.job_locks())
                  for name, db in (("first", first), ("second", second))]
        await store(first, range(EVENTS))
        rounds = [await relays[n % 2].run_once() for n in range(EVENTS // 25)]
        assert rounds == [25] * (EVENTS // 25)
        assert [await relay.run_once() for relay in relays] == [0, 0]
        # each once; each order's in order (orders are sent side by side, so not all events in id order)
        assert sorted(n for n, _ in customers.heard) == list(range(EVENTS)) and customers.in_order()


async def test_a_relay_killed_mid_round_is_taken_over_and_its_round_done_again(backend, tmp_path):
    async with two_instances(backend, tmp_path) as (first, second):
        customers = Customers()
        customers.hang_on = 57
        await store(first, range(EVENTS))
        doomed = OutboxRelay(first.uow, {"notify": customers.handler("first")}, batch=25,
                             locks=first.job_locks())
        dying = asyncio.ensure_future(doomed.run(interval=0.005))
        await customers.hanging.wait()
        sent_before = len(customers.heard)
        assert 0 < sent_before < EVENTS
        # what was sent goes on record while the hanging send is still out (a batch at a time, within the
        # relay's linger), also what other orders' lanes sent past it: so the heir sends none of it again
        await until_recorded(first, [n for n, _ in customers.heard])

        if backend == "sqlite":  # the process is killed: its connections are gone, its lease is left to lapse
            await first.close()
            later = SqliteJobLocks(second, clock=lambda: time.time() + LEASE_SECONDS + 1)
        else:  # SIGKILL: the server sees the pool's sockets close, and the advisory lock goes with them
            first.pool.terminate()
            later = second.job_locks()
        dying.cancel()
        await asyncio.gather(dying, return_exceptions=True)

        heir = OutboxRelay(second.uow, {"notify": customers.handler("second")}, batch=25, locks=later)
        stop = asyncio.Event()
        running = asyncio.ensure_future(heir.run(interval=0.005, stop=stop))
        await until(lambda: len(customers.heard) >= EVENTS)
        stop.set()
        await running
        assert sorted(n for n, _ in customers.heard) == list(range(EVENTS))  # none lost, none sent twice
        assert customers.started.count(57) == 2  # the send cut short by the kill was done again
        assert customers.in_order()


async def test_an_event_committed_after_a_later_one_is_still_delivered(tmp_path):
    """PostgreSQL hands out ids before commit: id 2 may be committed, read and passed while id 1 is still
    being written. The relay reads behind its cursor and finds it."""
    async with two_instances("postgres", tmp_path) as (first, second):
        customers = Customers()
        relay = OutboxRelay(second.uow, {"notify": customers.handler("second")}, locks=second.job_locks(),
                            lookback=100)
        took_id, commit = asyncio.Event(), asyncio.Event()

        async def slow_writer():
            async with first.uow() as uow:
                await uow.outbox.add(event(0))  # id 1, not committed yet
                took_id.set()
                await commit.wait()

        writing = asyncio.ensure_future(slow_writer())
        await took_id.wait()
        await store(second, range(1, 3))  # ids 2 and 3, committed at once
        assert await relay.run_once() == 2
        commit.set()
        await writing
        assert await relay.run_once() == 1
        assert sorted(n for n, _ in customers.heard) == [0, 1, 2]
        assert await relay.run_once() == 0


async def test_looking_back_does_not_try_an_owed_event_before_its_time(backend, tmp_path, clock):
    async with two_instances(backend, tmp_path) as (first, _):
        tries: list[int] = []

        async def refuses_the_first(e: DomainEvent) -> None:
            tries.append(e.data["n"])
            if e.data["n"] == 0:
                raise ConnectionError("the messenger is down")

        relay = OutboxRelay(first.uow, {"notify": refuses_the_first}, lookback=100, clock=clock.now)
        await store(first, range(0, 3))  # three events of three orders
        await relay.run_once()
        assert tries == [0, 1, 2]
        await relay.run_once()  # behind the cursor there is event 0, owed: its backoff has not passed
        assert tries == [0, 1, 2]

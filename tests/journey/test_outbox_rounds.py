"""How a relay round touches the database, on both backends: it reads what is pending on the read-only
snapshots, writes what became of a batch of events in one unit of work (not two or three per event), and
keeps its position, so a round after events handled elsewhere (or with its cursor lost) walks a bounded
slice of the outbox, and rounds catch up one after another without waiting for the interval."""
from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator

import pytest
from journey_support import OWNER, customer

from adapters.qr import QrcodeRenderer
from bot.notifications import Notifier
from journey.channels import Channel, CustomerRef, Photo, Reply
from journey.engine import Engine
from journey.events import DomainEvent, EventType
from journey.limits import ShopLimits
from journey.model import CartLine
from journey.outbox import OutboxRelay


@pytest.fixture(params=["sqlite", "postgres"])
async def store(request, tmp_path) -> AsyncIterator[object]:
    if request.param == "sqlite":
        from storage.sqlite import SqliteDatabase

        async with SqliteDatabase(tmp_path / "relay.db") as db:
            yield db
    else:
        from pg_support import fresh_schema

        async with fresh_schema() as db:
            yield db


class Writes:
    """A unit-of-work factory over ``db.uow`` that counts the read-write units of work opened through it."""

    def __init__(self, db) -> None:
        self.db = db
        self.opened = 0

    def __call__(self):
        self.opened += 1
        return self.db.uow()


class Reads:
    """``db.reading`` that records the ``(after, upto)`` of every pending read."""

    def __init__(self, db) -> None:
        self.db = db
        self.bounds: list[tuple[int, int | None]] = []

    def __call__(self):
        outer = self

        class Spying:
            async def __aenter__(self):
                self.inner = outer.db.reading()
                uow = await self.inner.__aenter__()
                pending = uow.outbox.pending

                async def spy(subscriber, limit=100, after=0, upto=None):
                    outer.bounds.append((after, upto))
                    return await pending(subscriber, limit, after, upto)

                uow.outbox.pending = spy
                return uow

            async def __aexit__(self, *exc):
                return await self.inner.__aexit__(*exc)

        return Spying()


async def add(db, n: int) -> list[int]:
    async with db.uow() as uow:
        for i in range(n):
            await uow.outbox.add(DomainEvent(EventType.VISIT_RECORDED, {"n": i}))
    async with db.reading() as uow:
        return [e.id for e in await uow.outbox.pending("nobody", 10_000)]


async def test_a_round_reads_on_the_reader_and_writes_a_batch_in_one_unit_of_work(store):
    await add(store, 50)
    got: list[int] = []

    async def notify(event: DomainEvent) -> None:
        got.append(event.data["n"])

    writes = Writes(store)
    relay = OutboxRelay(writes, {"notify": notify}, reader=store.reading)
    assert await relay.run_once() == 50
    assert got == list(range(50))
    assert writes.opened == 1  # the 50 records together (it was three units of work per event)
    assert await relay.run_once() == 0
    assert writes.opened == 1  # nothing pending: the round only read
    async with store.reading() as uow:
        assert await uow.outbox.pending("notify") == []


async def test_a_failure_and_its_later_retry_are_written_with_their_batch(store, clock):
    await add(store, 10)
    tries: list[int] = []

    async def notify(event: DomainEvent) -> None:
        tries.append(event.data["n"])
        if event.data["n"] == 3 and tries.count(3) == 1:
            raise ConnectionError("the messenger is down")

    writes = Writes(store)
    relay = OutboxRelay(writes, {"notify": notify}, reader=store.reading, clock=clock.now)
    assert await relay.run_once() == 9
    assert writes.opened == 1
    async with store.reading() as uow:
        assert [f.event.data["n"] for f in await uow.outbox.failures("notify")] == [3]
    clock.advance(seconds=2)
    assert await relay.run_once() == 1 and writes.opened == 2
    async with store.reading() as uow:
        assert await uow.outbox.failures("notify") == [] and await uow.outbox.pending("notify") == []


async def test_after_events_handled_elsewhere_rounds_walk_a_bounded_slice_and_keep_their_position(store):
    ids = await add(store, 30)
    async with store.uow() as uow:  # handled, but this subscriber's cursor never moved (a cursor lost)
        await uow.outbox.mark_all_handled("notify", ids)
    got: list[int] = []

    async def notify(event: DomainEvent) -> None:
        got.append(event.data["n"])

    reads = Reads(store)
    relay = OutboxRelay(store.uow, {"notify": notify}, reader=reads, span=10)
    for _ in range(4):
        assert await relay.run_once() == 0
    assert reads.bounds == [(0, ids[9]), (ids[9], ids[19]), (ids[19], ids[29]), (ids[29], ids[29])]
    async with store.reading() as uow:
        assert await uow.outbox.cursor("notify") == ids[29]

    restarted = OutboxRelay(store.uow, {"notify": notify}, reader=reads, span=10)  # a new process
    more = await add(store, 1)
    assert await restarted.run_once() == 1
    assert got == [0] and reads.bounds[-1] == (ids[29], more[-1])


async def test_running_relay_catches_up_without_waiting_between_rounds(store):
    ids = await add(store, 40)
    async with store.uow() as uow:
        await uow.outbox.mark_all_handled("notify", ids[:-1])
    heard = asyncio.Event()

    async def notify(event: DomainEvent) -> None:
        heard.set()

    relay = OutboxRelay(store.uow, {"notify": notify}, reader=store.reading, span=10)
    stop = asyncio.Event()
    running = asyncio.ensure_future(relay.run(interval=3600, stop=stop))  # an hour between idle rounds
    try:
        await asyncio.wait_for(heard.wait(), 30)  # four rounds in a row reach the last event
    finally:
        stop.set()
        await running


class Sent:
    """A messenger that keeps what it was given."""

    channel = Channel.TELEGRAM

    def __init__(self) -> None:
        self.replies: list[Reply] = []

    async def send(self, to: CustomerRef, reply: Reply, key: str = "") -> None:
        self.replies.append(reply)


class Drawn:
    """The real renderer, noting the thread each picture is drawn in."""

    def __init__(self) -> None:
        self.real = QrcodeRenderer()
        self.threads: list[threading.Thread] = []

    def png(self, data: str, caption: str = "") -> bytes:
        self.threads.append(threading.current_thread())
        return self.real.png(data, caption)

    def svg(self, data: str, caption: str = "") -> bytes:
        return self.real.svg(data, caption)


async def test_the_pickup_code_of_a_ready_order_is_drawn_off_the_event_loop(db, clock):
    from shop_fixtures import seed

    engine = Engine(db.uow, owners=[OWNER], clock=clock, reader=db.reading, limits=ShopLimits.off())
    await engine.start()
    await seed(engine)
    ref = customer(5)
    view = await engine.place_order(ref, [CartLine("latte", 1, {"size": ("m",), "milk": ("oat",)})], "center")
    await engine.accept(OWNER, view.order.id)
    await engine.mark_ready(OWNER, view.order.id)
    qr, messenger = Drawn(), Sent()
    notifier = Notifier(engine, qr, messengers={Channel.TELEGRAM: messenger})
    await OutboxRelay(engine.uow, {"notify": notifier}, reader=engine.reader).run_once()
    photos = [r for r in messenger.replies if isinstance(r, Photo)]
    assert len(photos) == 1 and photos[0].image.startswith(b"\x89PNG")
    assert qr.threads and all(t is not threading.main_thread() for t in qr.threads)


def test_a_code_drawn_again_comes_from_the_cache():
    qr = QrcodeRenderer()
    first = qr.png("v1.order.signature", "№ 123")
    assert qr.png("v1.order.signature", "№ 123") is first
    assert qr.png("v1.order.signature", "№ 124") != first  # another caption is another picture
    assert qr.svg("v1.order.signature") is qr.svg("v1.order.signature")

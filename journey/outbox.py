"""The outbox relay: delivers stored domain events to subscribers, at least once, in order per order.

A subscriber's handler runs outside any unit of work (it may talk to the network); after it succeeds
the relay records the event as handled for that subscriber, so a second delivery is skipped.

A failure holds up nobody else. A handler that raises a transient error (anything but a permanent
``DeliveryError``) has that one event tried again later, with exponential backoff, while the relay goes
on with the others; only later events of the same order wait behind it, so a customer never hears
"ready" before "accepted". After ``max_attempts`` the event is given up (dead-lettered): logged, listed
by ``vitrina outbox failed``, and the events behind it go on. A permanent ``DeliveryError`` counts the
event as handled (the handler has marked the account unreachable).

Where each subscriber has read up to is kept in the database with the failures waiting for another
attempt, so a restart goes on from there instead of scanning the outbox from the start.

A round reads what is pending on the read-only snapshots (``reader``), never inside a write, and walks at
most ``span`` ids past its cursor; when it has read up to the newest event the cursor goes there even if
nothing was pending (events handled elsewhere, a cursor lost), so no round walks the same rows again. What
became of the events sent (handled, failed, held, the cursor) is written a batch at a time in one unit of
work, while the next sends go on (``_Writer``): a batch of a hundred events costs one turn at the write lock
instead of three per event. The price: an instance killed mid-round has the events it sent in the last
``linger`` (and the one it was sending) sent again by the next holder.

Several instances on one database each run a relay, and a subscriber's round runs only where its job lock
(``JobLocks``, "outbox:<subscriber>") is held: one instance delivers, and the round reads the cursor and
the failures from the database afresh, since another instance may have moved them since. So an event
reaches a subscriber once; an instance killed mid-round leaves its lock free (at once on PostgreSQL,
after the lease on SQLite) and the next holder does the round again from the stored cursor: the event it
was sending may go twice, none is lost. Why a lock per subscriber rather than each instance claiming rows
with ``FOR UPDATE SKIP LOCKED``: a customer must hear of an order's events in the order they happened,
and rows claimed by two relays at once are sent in whatever order the two finish ("ready" before
"accepted"); keeping them in order across relays needs a lock per order, held across the send, with the
same failures and backoff bookkeeping. And it would not deliver faster: the channel's send budget is
shared by the instances (adapters/ratelimit.py), so one relay already sends as fast as the platform allows.

On PostgreSQL event ids are not committed in their order: a transaction that took id 41 may commit after
one that took id 42, which the relay has read and passed. So each round there also looks ``lookback`` ids
behind the cursor for events not handled and not owed (waiting or given up); an event of one order cannot
commit behind a later event of the same order (the order's row lock makes them take turns), so what is
found late does not overtake its order. SQLite has one writer at a time and needs no look back.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from .channels import DeliveryError
from .events import DomainEvent
from .ports import DeliveryFailure, JobLocks, Outbox, ProcessLocks, UnitOfWorkFactory

log = logging.getLogger(__name__)
Handler = Callable[[DomainEvent], Awaitable[None]]
HELD = "waits for an earlier event of the same order"
# what became of one attempt: only RETRY holds back the later events of its order
DELIVERED, SKIPPED, RETRY, DEAD = "delivered", "skipped", "retry", "dead"


def order_key(event: DomainEvent) -> str | None:
    """Events that must reach a subscriber in the order they happened: those of one order (else one
    customer); None for an event that waits for nobody."""
    for name in ("order_id", "customer_id"):
        if value := event.data.get(name):
            return f"{name}:{value}"
    return None


def backoff(attempts: int) -> float:
    """Seconds before the next attempt after ``attempts`` failed ones: 2, 4, 8 ... at most 10 minutes."""
    return float(min(2 ** attempts, 600))


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class _Records:
    """What a round has done and not written yet: events handled, failures recorded or cleared, the cursor."""

    handled: list[int] = field(default_factory=list)
    cleared: list[int] = field(default_factory=list)  # handled events that had a failure record
    failures: list[DeliveryFailure] = field(default_factory=list)
    cursor: int = 0

    def __bool__(self) -> bool:
        return bool(self.handled or self.failures or self.cursor)


@dataclass
class OutboxRelay:
    uow: UnitOfWorkFactory
    subscribers: dict[str, Handler] = field(default_factory=dict)
    # events a round reads at most: a round ends with one write, which under load waits its turn at the write
    # lock behind the shop's (~40 ms at 50 customers), so a bigger round pays it for more events
    batch: int = 200
    max_attempts: int = 10
    delay: Callable[[int], float] = backoff
    clock: Callable[[], datetime] = _utcnow
    key: Callable[[DomainEvent], str | None] = order_key
    # which instance runs a subscriber's round now (``db.job_locks()``; alone in its process by default)
    locks: JobLocks = field(default_factory=ProcessLocks)
    # ids behind the cursor read again for events committed out of order (PostgreSQL; see the docstring)
    lookback: int = 0
    # where a round reads what is pending: read-only snapshots (``db.reading``) that never wait for the
    # writers; by default ``uow``
    reader: UnitOfWorkFactory | None = None
    # ids a round walks at most past its cursor: after a stretch of events handled elsewhere (or a cursor lost),
    # rounds catch up a slice at a time instead of one round walking the whole outbox
    span: int = 5000
    # seconds what was sent waits to be written with what is sent next (one unit of work per batch); also
    # about how long after its send an event stays off the record, so may go again if the instance is killed
    linger: float = 0.05
    # lanes (orders) sent at once: a network send waits ~0.1 s, and under load a relay sending one event at a
    # time gets one turn of the event loop in every 50 customers' (it fell behind at 35 events/s); with 8 lanes
    # it still fell behind the engine benchmark's 50 customers (5 events a journey), with 32 it keeps up. The
    # channel's send budget (adapters/ratelimit.py), not the lanes, paces what reaches the platform
    parallel: int = 32
    # seconds ``run`` keeps a subscriber's lock for rounds in a row while they find work
    busy_for: float = 2.0
    _behind: bool = field(default=False, init=False, repr=False)  # the last round left events unread

    def subscribe(self, name: str, handler: Handler) -> None:
        self.subscribers[name] = handler

    async def deliver(self, name: str, event: DomainEvent) -> bool:
        """Hand one stored event to one subscriber unless it has it already. True when handled now."""
        assert event.id is not None, "only stored events are delivered"
        async with (self.reader or self.uow)() as uow:
            if await uow.outbox.is_handled(name, event.id):
                return False
        await self.subscribers[name](event)
        async with self.uow() as uow:
            return await uow.outbox.mark_handled(name, event.id)

    async def run_once(self) -> int:
        """One round over every subscriber whose lock this instance takes (the others' rounds run where their
        lock is held); returns how many deliveries were made."""
        return await self._rounds(busy_for=0.0)

    async def _rounds(self, busy_for: float) -> int:
        """Under each subscriber's lock, rounds one after another while they find work, for up to ``busy_for``
        seconds: taking and giving back the lock are writes too, and under load each waits its turn."""
        delivered = 0
        behind = False
        for name in list(self.subscribers):
            async with self.locks.hold(f"outbox:{name}") as held:
                if not held:
                    continue
                until = time.monotonic() + busy_for
                while True:
                    self._behind = False
                    got = await self._round(name)
                    delivered += got
                    if not (got or self._behind) or time.monotonic() >= until:
                        break
                behind = behind or self._behind
        self._behind = behind
        return delivered

    async def _round(self, name: str) -> int:
        """Read what is pending on the reader, send it, and write what became of it in few units of work:
        one while the sends go on (a batch of records at a time, see ``_Writer``) and one at the end."""
        async with (self.reader or self.uow)() as uow:
            # read afresh every round: while this instance did not hold the lock another may have delivered
            cursor = await uow.outbox.cursor(name)
            waiting = await uow.outbox.failures(name)
            latest = await uow.outbox.latest()
            upto = min(latest, cursor + self.span)
            if self.lookback:
                fresh = await self._pending_behind(uow.outbox, name, cursor, waiting, upto)
            else:
                fresh = await uow.outbox.pending(name, self.batch, after=cursor, upto=upto)
        # fewer than a batch: every event up to ``upto`` is handled or among these, so the cursor may go there
        reach = upto if len(fresh) < self.batch else max(cursor, fresh[-1].id or 0)
        self._behind = self._behind or reach < latest  # more to read: the next round comes at once
        writer = _Writer(self, name)
        try:
            delivered = await self._send(name, waiting, fresh, writer)
        except BaseException:  # cut short (cancelled, stopped): what was sent still goes on record if it can
            try:
                await writer.close()
            except Exception:
                log.exception("subscriber %s: recording the deliveries of a round cut short failed", name)
            raise
        if reach > cursor:
            writer.records.cursor = max(writer.records.cursor, reach)
        await writer.close()
        return delivered

    async def _send(self, name: str, waiting: list[DeliveryFailure], fresh: list[DomainEvent],
                    writer: _Writer) -> int:
        now = self.clock()
        blocked: set[str] = set()  # orders with an earlier event still owed: later ones wait
        delivered = 0
        for failure in waiting:
            event = failure.event
            assert event is not None
            key = self.key(event)
            if (key is not None and key in blocked) or failure.next_at > now:
                if key is not None:
                    blocked.add(key)
                continue
            outcome = await self._attempt(name, event, failure.attempts, writer, fresh=False)
            delivered += outcome == DELIVERED
            if outcome == RETRY and key is not None:
                blocked.add(key)
        # the fresh events in lanes, one per order (or customer), sent side by side: each lane in order, so a
        # customer never hears "ready" before "accepted", while one slow send holds up only its own order
        lanes: dict[str, list[DomainEvent]] = {}
        for event in fresh:
            lanes.setdefault(self.key(event) or f"event:{event.id}", []).append(event)
        writer.expect(fresh)
        gate = asyncio.Semaphore(self.parallel)

        async def lane(key: str, events: list[DomainEvent]) -> None:
            nonlocal delivered
            async with gate:
                for event in events:
                    if key in blocked:
                        writer.failed(event, DeliveryFailure(name, event.id or 0, 0, now, HELD), fresh=True)
                        continue
                    outcome = await self._attempt(name, event, 0, writer, fresh=True)
                    delivered += outcome == DELIVERED
                    if outcome == RETRY:
                        blocked.add(key)

        if len(lanes) == 1 or self.parallel == 1:
            for key, events in lanes.items():
                await lane(key, events)
        else:
            async with asyncio.TaskGroup() as group:
                for key, events in lanes.items():
                    group.create_task(lane(key, events))
        return delivered

    async def _pending_behind(self, outbox: Outbox, name: str, cursor: int,
                              waiting: list[DeliveryFailure], upto: int) -> list[DomainEvent]:
        """Pending events from ``lookback`` ids behind the cursor on, less those owed (their failures decide)."""
        owed = {f.event_id for f in waiting} | {f.event_id for f in await outbox.failures(name, dead=True)}
        fresh: list[DomainEvent] = []
        after = max(0, cursor - self.lookback)
        while len(fresh) < self.batch:
            page = await outbox.pending(name, self.batch, after=after, upto=upto)
            fresh += [e for e in page if e.id not in owed][:self.batch - len(fresh)]
            if len(page) < self.batch:
                break
            after = page[-1].id or after
        return fresh

    async def _attempt(self, name: str, event: DomainEvent, attempts: int, writer: _Writer, *, fresh: bool) -> str:
        """Deliver one event (read as pending on this round's snapshot, so not handled); on failure record it
        for another attempt or give it up."""
        assert event.id is not None
        try:
            await self.subscribers[name](event)
        except DeliveryError as e:
            if e.permanent:  # the handler has dealt with the account: nothing more to try
                log.warning("subscriber %s: event %s (%s) cannot be delivered (%s), counted as handled", name,
                            event.id, event.type.value, e.reason)
                writer.done(event, retried=not fresh, fresh=fresh)
                return SKIPPED
            return self._failed(name, event, attempts + 1, f"{e.reason}: {e}", writer, fresh=fresh)
        except Exception as e:  # a bug or an unknown failure: retried like a transient one, with a traceback
            log.exception("subscriber %s failed on event %s (%s)", name, event.id, event.type.value)
            return self._failed(name, event, attempts + 1, f"{type(e).__name__}: {e}", writer, fresh=fresh)
        writer.done(event, retried=not fresh, fresh=fresh)
        return DELIVERED

    def _failed(self, name: str, event: DomainEvent, attempts: int, error: str, writer: _Writer, *,
                fresh: bool) -> str:
        assert event.id is not None
        now = self.clock()
        dead = attempts >= self.max_attempts
        next_at = now + timedelta(seconds=self.delay(attempts))
        if dead:
            log.error("subscriber %s gave up event %s (%s) after %d attempts: %s (see `vitrina outbox failed`)",
                      name, event.id, event.type.value, attempts, error)
        else:
            log.warning("subscriber %s: event %s (%s) failed (attempt %d of %d), next at %s: %s", name, event.id,
                        event.type.value, attempts, self.max_attempts, next_at.isoformat(timespec="seconds"), error)
        writer.failed(event, DeliveryFailure(name, event.id, attempts, next_at, error, dead, now), fresh=fresh)
        return DEAD if dead else RETRY

    async def run(self, interval: float = 0.5, stop: asyncio.Event | None = None) -> None:
        stop = stop or asyncio.Event()
        while not stop.is_set():
            try:
                busy = await self._rounds(busy_for=self.busy_for) or self._behind
            except Exception:
                log.exception("outbox relay round failed")
                busy = False
            if not busy:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), interval)


class _Writer:
    """Writes a round's records as the sends go on, one unit of work at a time (group commit): while one
    batch is being written the next gathers, so the relay takes the write lock once per batch rather than
    once per event, and what has been sent is on record within about one write of its send (an instance
    killed mid-round has the events after that sent again by the next, none lost)."""

    def __init__(self, relay: OutboxRelay, name: str) -> None:
        self._relay, self._name = relay, name
        self.records = _Records()
        self._task: asyncio.Task | None = None
        self._closing = asyncio.Event()
        self.expect([])

    def expect(self, fresh: list[DomainEvent]) -> None:
        """The round's fresh events, in id order: the cursor passes an event only once every fresh one up to
        it is done (lanes finish out of order)."""
        self._fresh = [e.id or 0 for e in fresh]
        self._next = 0
        self._finished: set[int] = set()

    def done(self, event: DomainEvent, *, retried: bool, fresh: bool) -> None:
        assert event.id is not None
        self.records.handled.append(event.id)
        if retried:
            self.records.cleared.append(event.id)
        self._moved(event, fresh)

    def failed(self, event: DomainEvent, failure: DeliveryFailure, *, fresh: bool) -> None:
        self.records.failures.append(failure)
        self._moved(event, fresh)

    def _moved(self, event: DomainEvent, fresh: bool) -> None:
        if fresh:
            self._finished.add(event.id or 0)
            while self._next < len(self._fresh) and self._fresh[self._next] in self._finished:
                self.records.cursor = max(self.records.cursor, self._fresh[self._next])
                self._next += 1
        if self._task is None or self._task.done():
            if self._task is not None:
                self._task.result()  # a write that failed fails the round (run() logs it; the next redoes it)
            self._task = asyncio.ensure_future(self._drain())

    async def _drain(self) -> None:
        while self.records:
            if not self._closing.is_set():  # let a batch gather (the round's end writes at once)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._closing.wait(), self._relay.linger)
            records, self.records = self.records, _Records()
            await self._write(records)

    async def _write(self, records: _Records) -> None:
        name = self._name
        async with self._relay.uow() as uow:
            if records.handled:
                await uow.outbox.mark_all_handled(name, records.handled)
            if records.cleared:
                await uow.outbox.clear_failures(name, records.cleared)
            for failure in records.failures:
                await uow.outbox.record_failure(failure)
            if records.cursor:
                await uow.outbox.set_cursor(name, records.cursor)

    async def close(self) -> None:
        self._closing.set()
        if self._task is not None:
            await self._task
        await self._drain()

"""Delivery that survives: events of one order stay in order, failures are given up after a bounded
number of attempts and can be retried, the relay goes on from where it was after a restart, old
bookkeeping is pruned, and unreachable accounts are skipped until they write again."""
from __future__ import annotations

from datetime import timedelta

import pytest
from journey_support import customer

from journey.channels import CustomerRef, DeliveryError
from journey.events import DomainEvent, EventType
from journey.outbox import HELD, OutboxRelay


class Recorder:
    """Records (order, n) of what it got; ``fail`` maps n to how many times it fails, ``error`` what it raises."""

    def __init__(self, fail: dict[int, int] | None = None, error: Exception | None = None) -> None:
        self.got: list[tuple[str, int]] = []
        self.calls = 0
        self.fail = dict(fail or {})
        self.error = error or DeliveryError.transient("Telegram is down", "server")

    async def __call__(self, event: DomainEvent) -> None:
        self.calls += 1
        n = event.data["n"]
        if self.fail.get(n, 0) > 0:
            self.fail[n] -= 1
            raise self.error
        self.got.append((event.data["order_id"], n))


async def add_events(db, clock, *orders: str) -> list[int]:
    """One event per argument, for that order, numbered 0, 1, ... in the order given."""
    async with db.uow() as uow:
        for n, order in enumerate(orders):
            await uow.outbox.add(DomainEvent(EventType.ORDER_ACCEPTED, {"order_id": order, "n": n}, clock.now()))
    async with db.reading() as uow:
        return [e.id for e in await uow.outbox.pending("nobody", 1000)]


def relay_for(db, clock, handler, **kw) -> OutboxRelay:
    return OutboxRelay(db.uow, {"notify": handler}, clock=clock.now, **kw)


async def test_later_events_of_a_failing_order_wait_and_other_orders_go_on(db, clock):
    await add_events(db, clock, "A", "B", "A", "B", "A")
    notify = Recorder(fail={0: 1})  # A's "accepted" fails once
    relay = relay_for(db, clock, notify)
    assert await relay.run_once() == 2
    assert notify.got == [("B", 1), ("B", 3)]  # A's later events were not even tried
    async with db.reading() as uow:
        waiting = await uow.outbox.failures("notify")
    assert [(f.event.data["n"], f.attempts, f.error == HELD) for f in waiting] == [(0, 1, False), (2, 0, True),
                                                                                   (4, 0, True)]
    clock.advance(seconds=2)
    assert await relay.run_once() == 3
    assert notify.got[2:] == [("A", 0), ("A", 2), ("A", 4)]  # in the order they happened
    async with db.reading() as uow:
        assert await uow.outbox.failures("notify") == [] and await uow.outbox.pending("notify") == []


async def test_an_event_is_given_up_after_the_attempts_run_out_and_can_be_retried(engine, db, clock):
    await add_events(db, clock, "A", "A")
    notify = Recorder(fail={0: 3})
    relay = relay_for(db, clock, notify, max_attempts=3, delay=lambda attempts: 1)
    for _ in range(3):
        await relay.run_once()
        clock.advance(seconds=1)
    assert notify.calls == 4 and notify.got == [("A", 1)]  # dead after 3: the event behind it goes on
    dead = await engine.dead_letters()
    assert [(f.subscriber, f.event.data["n"], f.attempts, f.dead) for f in dead] == [("notify", 0, 3, True)]
    assert "Telegram is down" in dead[0].error
    await relay.run_once()
    assert notify.calls == 4  # a dead letter is not tried again by itself

    assert await engine.retry_dead(dead[0].event_id) == 1
    assert await engine.dead_letters() == []
    assert await relay.run_once() == 1
    assert notify.got == [("A", 1), ("A", 0)]
    assert await engine.retry_dead(dead[0].event_id) == 0  # nothing dead left to retry


async def test_a_permanent_failure_counts_as_handled(db, clock):
    await add_events(db, clock, "A", "A")
    notify = Recorder(fail={0: 1}, error=DeliveryError.unreachable("Forbidden: bot was blocked by the user",
                                                                    "blocked"))
    relay = relay_for(db, clock, notify)
    await relay.run_once()
    assert notify.got == [("A", 1)] and notify.calls == 2
    async with db.reading() as uow:
        assert await uow.outbox.pending("notify") == [] and await uow.outbox.failures("notify") == []


class CountingReads:
    """A unit-of-work factory that records the ``after`` of every ``outbox.pending`` read."""

    def __init__(self, db) -> None:
        self.db = db
        self.afters: list[int] = []

    def __call__(self):
        uow = self.db.uow()
        afters = self.afters

        class Wrapped:
            async def __aenter__(self):
                inner = await uow.__aenter__()
                pending = inner.outbox.pending

                async def spy(subscriber, limit=100, after=0, **bounds):
                    afters.append(after)
                    return await pending(subscriber, limit, after, **bounds)

                inner.outbox.pending = spy
                return inner

            async def __aexit__(self, *exc):
                return await uow.__aexit__(*exc)

        return Wrapped()


async def test_after_a_restart_the_relay_goes_on_from_where_it_was(db, clock):
    ids = await add_events(db, clock, "A", "B", "C")
    first = Recorder()
    await relay_for(db, clock, first).run_once()
    more = await add_events(db, clock, "D")  # returns every id; the new one is last
    reads = CountingReads(db)
    second = Recorder()
    restarted = OutboxRelay(reads, {"notify": second}, clock=clock.now)  # a new process: nothing in memory
    assert await restarted.run_once() == 1
    assert second.got == [("D", 0)]
    assert reads.afters == [ids[-1]]  # read after the stored position, not from 0
    async with db.reading() as uow:
        assert await uow.outbox.cursor("notify") == more[-1]


async def test_pruning_forgets_only_old_handled_rows(engine, db, clock):
    old = await add_events(db, clock, "A", "B", "C")
    notify = Recorder(fail={1: 99})
    relay = relay_for(db, clock, notify, max_attempts=1)  # B is dead at once
    await relay.run_once()
    async with db.uow() as uow:
        await uow.updates.claim("telegram", "1")
        await uow.customers.record_link_failure("telegram:5", clock.now())
    clock.advance(days=31)
    new = await add_events(db, clock, "D")
    await relay.run_once()
    async with db.uow() as uow:
        await uow.customers.record_link_failure("telegram:5", clock.now())

    pruned = await engine.prune(timedelta(days=30))
    assert (pruned.events, pruned.link_failures) == (2, 1)  # A and C; B is dead-lettered, D is recent
    async with db.reading() as uow:
        left = [e.id for e in await uow.outbox.pending("someone-else", 100)]
        assert left == [old[1], new[-1]]
        assert await uow.customers.link_failures("telegram:5", clock.now() - timedelta(days=365)) == 1
    assert [f.event_id for f in await engine.dead_letters()] == [old[1]]


async def test_pruning_keeps_what_a_subscriber_has_not_read(engine, db, clock):
    await add_events(db, clock, "A")
    clock.advance(days=31)
    assert (await engine.prune(timedelta(days=30))).events == 0  # no relay has read anything yet


# --- recipients ------------------------------------------------------------------------------------------

class Inbox:
    """Sends that succeed, fail for a while or for good, per account."""

    def __init__(self, failures: dict[str, list[DeliveryError]] | None = None) -> None:
        self.sent: list[str] = []
        self.failures = failures or {}

    def send(self, to: CustomerRef):
        async def go() -> None:
            if self.failures.get(to.key):
                raise self.failures[to.key].pop(0)
            self.sent.append(to.key)
        return go


async def stored_event(engine) -> DomainEvent:
    async with engine.uow() as uow:
        await uow.outbox.add(DomainEvent(EventType.ORDER_PLACED, {"order_id": "x"}))
    async with engine.read() as uow:
        return (await uow.outbox.pending("nobody"))[-1]


async def test_each_recipient_is_served_once_and_a_blocked_one_is_marked(engine):
    anna, boris, staff = customer(1), customer(2), customer("-100")
    await engine.identify(anna)
    event = await stored_event(engine)
    inbox = Inbox({boris.key: [DeliveryError.unreachable("blocked", "blocked")],
                   staff.key: [DeliveryError.transient("timeout", "network")]})
    sends = [(to, inbox.send(to)) for to in (anna, boris, staff)]
    with pytest.raises(DeliveryError) as failed:
        await engine.deliver_each("notify", event, sends)
    assert not failed.value.permanent and failed.value.reason == "network"
    assert inbox.sent == [anna.key]
    assert await engine.unreachable_reason(boris) == "blocked"
    assert await engine.deliver_each("notify", event, sends) == 1  # the retry: the staff chat only
    assert inbox.sent == [anna.key, staff.key]

    later = await stored_event(engine)
    assert await engine.deliver_each("notify", later, sends) == 2  # Boris is skipped from now on
    assert inbox.sent[2:] == [anna.key, staff.key]


async def test_the_callers_marks_decide_who_is_skipped_when_given(engine):
    """A notifier that read the recipient's mark with the recipient (``Recipient.unreachable``) hands it over
    instead of deliver_each reading it again."""
    anna, boris = customer(1), customer(2)
    await engine.mark_unreachable(anna, "blocked")
    inbox = Inbox()
    assert await engine.deliver_each("notify", await stored_event(engine), [(anna, inbox.send(anna))],
                                     unreachable={}) == 1  # read as reachable a moment ago
    assert await engine.deliver_each("notify", await stored_event(engine), [(boris, inbox.send(boris))],
                                     unreachable={boris.key: "blocked"}) == 0
    assert await engine.deliver_each("notify", await stored_event(engine), [(anna, inbox.send(anna))]) == 0
    assert inbox.sent == [anna.key]


async def test_a_configured_chat_is_never_silenced(engine):
    staff = customer("-100")
    inbox = Inbox({staff.key: [DeliveryError.unreachable("kicked", "kicked")]})
    await engine.deliver_each("notify", await stored_event(engine), [(staff, inbox.send(staff))],
                              configured={staff.key})
    assert await engine.unreachable_reason(staff) is None
    await engine.deliver_each("notify", await stored_event(engine), [(staff, inbox.send(staff))],
                              configured={staff.key})
    assert inbox.sent == [staff.key]


async def test_an_unreachable_customer_who_writes_again_is_reachable(engine):
    anna = customer(1)
    await engine.identify(anna)
    await engine.mark_unreachable(anna, "blocked")
    assert await engine.unreachable_reason(anna) == "blocked"
    await engine.profile(anna)  # any message through the conversation, or the Mini App's /api/me
    assert await engine.unreachable_reason(anna) is None


async def test_the_answer_to_allow_messages_is_recorded(engine):
    anna = customer(1)
    assert await engine.set_messages_allowed(anna, False) is False
    assert await engine.unreachable_reason(anna) == "declined"
    assert await engine.set_messages_allowed(anna, True) is True
    assert await engine.unreachable_reason(anna) is None

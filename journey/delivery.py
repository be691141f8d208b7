"""Delivery that survives: who cannot be messaged, per-recipient progress, dead letters, pruning.

A notification goes to several recipients (the customer, the staff chats); each is served on its own.
A permanent failure (``DeliveryError.permanent``) marks the account unreachable: nothing unsolicited
goes to it until the person writes again or reopens the Mini App (``profile`` clears the mark), and the
message counts as handled for it. A transient one leaves that recipient for the relay's next attempt
while the others are served now; a recipient already served is remembered, so a retry skips it.
"""
from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import TYPE_CHECKING

from . import limits
from .channels import CustomerRef, DeliveryError
from .events import DomainEvent
from .ports import DeliveryFailure

if TYPE_CHECKING:
    from .engine import Engine

log = logging.getLogger(__name__)
Send = Callable[[], Awaitable[None]]
DECLINED = "declined"  # the customer said no when the Mini App asked to allow messages


@dataclass(frozen=True, slots=True)
class Pruned:
    events: int
    updates: int
    link_failures: int
    buckets: int = 0  # abuse limits: token buckets idle for a day (journey/limits.py)


def recipient_subscriber(subscriber: str, to: CustomerRef, repeat: int = 0) -> str:
    """The name a recipient's progress is recorded under, next to the subscriber's own records."""
    return f"{subscriber}>{to.key}" + (f"#{repeat}" if repeat else "")


async def deliver_each(self: Engine, subscriber: str, event: DomainEvent, sends: Sequence[tuple[CustomerRef, Send]],
                       *, configured: Collection[str] = (), unreachable: Mapping[str, str] | None = None) -> int:
    """Send one event's messages, recipient by recipient; returns how many went out now.

    Unreachable accounts are skipped; a permanent failure marks the account unreachable, except for the
    ``configured`` accounts (staff chats named in settings: a bot removed from the group is logged each
    time, so the owner sees it, rather than silenced for good). Raises a transient ``DeliveryError`` when
    some recipient must be tried again; the ones served are not sent the message twice. ``unreachable``: the
    marks of every recipient outside ``configured`` as the caller has just read them (``Recipient``), so a
    message to one recipient reads nothing here; None: read here.
    """
    assert event.id is not None, "only stored events are delivered"
    names: list[str] = []
    seen: dict[str, int] = {}
    for to, _ in sends:
        seen[to.key] = seen.get(to.key, -1) + 1
        names.append(recipient_subscriber(subscriber, to, seen[to.key]))
    # with one recipient the relay's own record of the event is the record of the recipient
    track = len(sends) > 1
    done: set[str] = set()
    if track or unreachable is None:
        async with self.read() as uow:
            done = {n for n in names if track and await uow.outbox.is_handled(n, event.id)}
            if unreachable is None:
                unreachable = await uow.reachability.unreachable([to.key for to, _ in sends])
    sent = 0
    failed: list[str] = []
    reasons: list[str] = []
    for (to, send), name in zip(sends, names, strict=True):
        if name in done:
            continue
        if to.key in unreachable and to.key not in configured:
            log.info("not telling %s of event %s: unreachable (%s)", to.key, event.id, unreachable[to.key])
        else:
            try:
                await send()
                sent += 1
            except DeliveryError as e:
                if not e.permanent:
                    failed.append(f"{to.key}: {e.reason}: {e}")
                    reasons.append(e.reason)
                    continue
                if to.key in configured:
                    log.error("cannot message the configured chat %s (%s: %s); check the bot is in it", to.key,
                              e.reason, e)
                else:
                    await mark_unreachable(self, to, e.reason)
            except Exception as e:  # unknown: worth another attempt, and a traceback in the log
                log.exception("sending event %s to %s failed", event.id, to.key)
                failed.append(f"{to.key}: {type(e).__name__}: {e}")
                reasons.append("unknown")
                continue
        if track:
            async with self.uow() as uow:
                await uow.outbox.mark_handled(name, event.id)
    if failed:
        raise DeliveryError.transient("; ".join(failed), reasons[0])
    return sent


async def mark_unreachable(self: Engine, ref: CustomerRef, reason: str) -> None:
    """No unsolicited messages to this account until it writes again or reopens the Mini App."""
    log.warning("%s cannot be messaged (%s): no notifications until they write again", ref.key, reason)
    async with self.uow() as uow:
        await uow.reachability.mark(ref.key, reason, self.now())


async def clear_unreachable(self: Engine, ref: CustomerRef) -> bool:
    """The person wrote or opened the Mini App: they may be told things again. True when it was marked."""
    async with self.uow() as uow:
        return await uow.reachability.clear(ref.key)


async def unreachable_reason(self: Engine, ref: CustomerRef) -> str | None:
    async with self.read() as uow:
        return (await uow.reachability.unreachable([ref.key])).get(ref.key)


async def set_messages_allowed(self: Engine, ref: CustomerRef, allowed: bool) -> bool:
    """The Mini App asked the customer to allow messages (VK's ``VKWebAppAllowMessagesFromGroup``) and
    this is the answer. Returns whether the account may now be messaged."""
    if allowed:
        await clear_unreachable(self, ref)
    else:
        await mark_unreachable(self, ref, DECLINED)
    return allowed


async def dead_letters(self: Engine, subscriber: str | None = None) -> list[DeliveryFailure]:
    """Events given up after the relay's attempts ran out, oldest first, with their last error."""
    async with self.read() as uow:
        return await uow.outbox.failures(subscriber, dead=True)


async def waiting_deliveries(self: Engine, subscriber: str | None = None) -> list[DeliveryFailure]:
    """Events waiting for another attempt (or behind an earlier event of the same order)."""
    async with self.read() as uow:
        return await uow.outbox.failures(subscriber)


async def retry_dead(self: Engine, event_id: int) -> int:
    """Give a dead-lettered event a fresh set of attempts, at once; returns how many subscribers get it."""
    async with self.uow() as uow:
        dead = [f for f in await uow.outbox.failures(dead=True) if f.event_id == event_id]
        for f in dead:
            await uow.outbox.record_failure(DeliveryFailure(f.subscriber, f.event_id, 0, self.now(),
                                                            f"retried after: {f.error}"[:500], False, self.now()))
    return len(dead)


async def prune(self: Engine, retention: timedelta) -> Pruned:
    """Forget what is older than ``retention``: handled outbox events, processed update ids, wrong link codes.
    Events still owed to a subscriber (waiting or dead-lettered) are kept."""
    before = self.now() - retention
    async with self.uow() as uow:
        pruned = Pruned(await uow.outbox.prune(before), await uow.updates.prune(before),
                        await uow.customers.prune_link_failures(before))
    return replace(pruned, buckets=await limits.prune_buckets(self))

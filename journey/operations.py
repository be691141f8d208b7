"""What an operator watches, read from the database at the moment it is asked (``/metrics``): orders in
each open status and how far each outbox subscriber is behind. Read-only units of work: never blocks a
writer, and several instances answering at once read the same numbers."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from .states import OPEN_ORDER_STATUSES

if TYPE_CHECKING:
    from .engine import Engine

BACKLOG_CAP = 10_000  # events counted per subscriber at most: a deeper backlog reads as this many


@dataclass(frozen=True, slots=True)
class Backlog:
    """Events a subscriber still owes: ``depth`` not handled yet (new, or failed and waiting for another
    attempt), ``oldest`` when the oldest of them happened (None when there are none), ``dead`` given up."""

    depth: int
    oldest: datetime | None
    dead: int


async def open_order_counts(self: Engine) -> dict[str, int]:
    """Orders in each open status (placed, accepted, ready), every status present (0 when none). Only open
    statuses: they are few at any time, while the closed ones grow with the shop's history."""
    counts = {}
    async with self.read() as uow:
        for status in sorted(OPEN_ORDER_STATUSES, key=lambda s: s.value):
            counts[status.value] = len(await uow.orders.ids_in_status(status))
    return counts


async def outbox_backlog(self: Engine, subscribers: Sequence[str], lookback: int = 0) -> dict[str, Backlog]:
    """Per subscriber: the events after its cursor not handled yet, with the earlier ones waiting for another
    attempt; the given-up ones apart (they wait for ``vitrina outbox retry``, not for time). ``lookback``: ids
    behind the cursor looked at again, as the relay does on PostgreSQL (events committed out of order)."""
    found = {}
    async with self.read() as uow:
        for name in subscribers:
            cursor = await uow.outbox.cursor(name)
            failures = await uow.outbox.failures(name)
            dead_ids = {f.event_id for f in await uow.outbox.failures(name, dead=True)}
            owed = {f.event_id for f in failures} | dead_ids
            waiting = [f.event for f in failures if f.event is not None]
            fresh = [e for e in await uow.outbox.pending(name, BACKLOG_CAP, after=max(0, cursor - lookback))
                     if e.id not in owed]
            dead = len(dead_ids)
            times = [e.at for e in (*waiting, *fresh) if e.at is not None]
            found[name] = Backlog(min(len(waiting) + len(fresh), BACKLOG_CAP), min(times, default=None), dead)
    return found

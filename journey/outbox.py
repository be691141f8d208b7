"""The outbox relay: delivers stored domain events to subscribers, at least once, in order.

A subscriber's handler runs outside any unit of work (it may talk to the network); after it
succeeds the relay records the event as handled for that subscriber, so a second delivery is
skipped. A handler that fails is retried on a later round, with the events after it held back so
a customer never hears "ready" before "accepted".
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from .events import DomainEvent
from .ports import UnitOfWorkFactory

log = logging.getLogger(__name__)
Handler = Callable[[DomainEvent], Awaitable[None]]


@dataclass
class OutboxRelay:
    uow: UnitOfWorkFactory
    subscribers: dict[str, Handler] = field(default_factory=dict)
    batch: int = 100
    failures: dict[str, int] = field(default_factory=dict)
    # per subscriber, the last event id up to which everything is handled: each round reads only what
    # came after it, not the whole outbox (0 after a restart: one full look, then incremental)
    cursors: dict[str, int] = field(default_factory=dict)

    def subscribe(self, name: str, handler: Handler) -> None:
        self.subscribers[name] = handler

    async def deliver(self, name: str, event: DomainEvent) -> bool:
        """Hand one stored event to one subscriber unless it has it already. True when handled now."""
        assert event.id is not None, "only stored events are delivered"
        async with self.uow() as uow:
            if await uow.outbox.is_handled(name, event.id):
                return False
        await self.subscribers[name](event)
        async with self.uow() as uow:
            return await uow.outbox.mark_handled(name, event.id)

    async def run_once(self) -> int:
        """One round over every subscriber; returns how many deliveries were made."""
        delivered = 0
        for name in list(self.subscribers):
            async with self.uow() as uow:
                events = await uow.outbox.pending(name, self.batch, after=self.cursors.get(name, 0))
            for event in events:
                try:
                    if await self.deliver(name, event):
                        delivered += 1
                    self.failures.pop(name, None)
                    self.cursors[name] = event.id  # type: ignore[assignment]
                except Exception:
                    self.failures[name] = self.failures.get(name, 0) + 1
                    log.exception("subscriber %s failed on event %s (%s), will retry", name, event.id, event.type.value)
                    break
        return delivered

    async def run(self, interval: float = 0.5, stop: asyncio.Event | None = None) -> None:
        stop = stop or asyncio.Event()
        while not stop.is_set():
            try:
                busy = await self.run_once()
            except Exception:
                log.exception("outbox relay round failed")
                busy = 0
            if not busy:
                try:
                    await asyncio.wait_for(stop.wait(), interval)
                except TimeoutError:
                    pass

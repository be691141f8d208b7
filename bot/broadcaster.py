"""The broadcast sender: works through the recipients of the broadcast being sent, within each channel's limits.

``vitrina run`` runs one in the background and ``vitrina broadcast`` one at the terminal; both may work on
the same broadcast at once, because every recipient is claimed in the database before the message goes
out (``journey/broadcasts.py``): nobody is sent it twice, whichever process sends and whatever restarts.

Each channel is served on its own, at a pace set by a token bucket below the platform's limit (Telegram
about 30 messages a second, VK 20 calls a second for a community), so the bot's answers and the order
notifications, which share the messenger, still get through. The messengers themselves wait out a 429 or
VK's error 6. The author is told how it goes at 25, 50 and 75 % and when it is done.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from journey.audit import CLI
from journey.broadcasts import MILESTONES, Broadcast, BroadcastRecipient, BroadcastStatus, Progress
from journey.channels import Button, Channel, DeliveryError, Reply, Text
from journey.engine import Engine
from journey.ports import JobLocks, Messenger, ProcessLocks

from .texts import add_texts, t

log = logging.getLogger(__name__)
# messages a second a broadcast may take of each channel's limit, leaving room for the bot's own answers
RATES: dict[str, float] = {"telegram": 25.0, "vk": 15.0}
DEFAULT_RATE = 10.0

add_texts({
    "bc_footer": ("Не хотите получать новости? Отправьте /stop.", "Do not want news? Send /stop."),
    "bc_progress": ("📣 Рассылка: {percent}% — отправлено {sent} из {total}, не доставлено {failed}, "
                    "осталось {left}.",
                    "📣 Broadcast: {percent}% — {sent} of {total} sent, {failed} not delivered, {left} left."),
    "bc_done": ("📣 Рассылка завершена: доставлено {sent} из {total}, не доставлено {failed}.",
                "📣 The broadcast is done: {sent} of {total} delivered, {failed} not delivered."),
    "bc_unconfirmed": (" Без подтверждения (отправка прервалась): {count}.",
                       " Unconfirmed (the sending was interrupted): {count}."),
    "bc_stop": ("Остановить рассылку", "Stop the broadcast"),
})


def broadcast_reply(text: str, language: str) -> Reply:
    """The message as customers see it: the owner's text, how to opt out, and the shop's button."""
    return Text(f"{text}\n\n{t(language, 'bc_footer')}", ((Button(t(language, "open_app"), mini_app=""),),))


def progress_text(progress: Progress, language: str) -> str:
    values = {"sent": progress.sent, "total": progress.total, "failed": progress.failed, "left": progress.left,
              "percent": progress.percent}
    if progress.broadcast.status is BroadcastStatus.SENDING:
        return t(language, "bc_progress", **values)
    text = t(language, "bc_done", **values)
    return text + (t(language, "bc_unconfirmed", count=progress.unconfirmed) if progress.unconfirmed else "")


def stop_button(language: str) -> tuple[tuple[Button, ...], ...]:
    return ((Button(t(language, "bc_stop"), "bc_stop"),),)


class TokenBucket:
    """At most ``rate`` takes a second on average, in bursts of at most ``capacity``. Waiters queue in turn.

    ``clock`` and ``sleep`` are injectable so the pace can be checked without waiting for it."""

    def __init__(self, rate: float, capacity: float = 5.0, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[object]] = asyncio.sleep) -> None:
        if rate <= 0 or capacity < 1:
            raise ValueError("a token bucket needs a positive rate and room for one token")
        self.rate = rate
        self.capacity = capacity
        self.clock = clock
        self.sleep = sleep
        self.tokens = capacity
        self.updated = clock()
        self._lock = asyncio.Lock()

    def _refill(self) -> None:
        now = self.clock()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    async def take(self) -> None:
        async with self._lock:
            self._refill()
            if self.tokens < 1:
                await self.sleep((1 - self.tokens) / self.rate)
                self._refill()
            self.tokens -= 1


@dataclass
class Broadcaster:
    engine: Engine
    messengers: dict[Channel, Messenger]
    rates: dict[str, float] = field(default_factory=lambda: dict(RATES))
    batch: int = 50  # rows fetched at a time; the author's milestones are checked between batches
    concurrency: int = 4  # sends in flight per channel (a send takes a round trip; the bucket sets the pace)
    interval: float = 2.0  # seconds between looks for a broadcast to send, in ``run``
    on_progress: Callable[[Progress], None] | None = None  # called after every batch (the CLI's progress bar)
    buckets: dict[str, TokenBucket] = field(default_factory=dict)
    # several instances: one sends broadcasts at a time, so a broadcast takes its share of a channel's rate
    # (``rates``) once, not once per instance, and the bot's answers keep the rest of the shared budget
    locks: JobLocks = field(default_factory=ProcessLocks)

    def bucket(self, channel: str) -> TokenBucket:
        if channel not in self.buckets:
            self.buckets[channel] = TokenBucket(self.rates.get(channel, DEFAULT_RATE))
        return self.buckets[channel]

    async def run(self, stop: asyncio.Event) -> None:
        """Send every broadcast that is being sent, until ``stop``; a new one is found within ``interval``."""
        while not stop.is_set():
            try:
                async with self.locks.hold("broadcasts") as held:
                    for broadcast in await self.engine.sending_broadcasts() if held else []:
                        await self.send(broadcast.id, stop)
            except Exception:
                log.exception("broadcast round failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.interval)

    async def send(self, broadcast_id: int, stop: asyncio.Event | None = None) -> int:
        """Send what is due of one broadcast, every channel at once; returns how many went out now.
        Rows waiting after a failure are left for a later call."""
        progress = await self.engine.broadcast_progress(CLI, broadcast_id)
        assert progress is not None
        broadcast = progress.broadcast
        if broadcast.status is not BroadcastStatus.SENDING:
            return 0
        counts = await asyncio.gather(*(self._channel(broadcast, channel, stop) for channel in self.messengers))
        await self._report(broadcast_id)
        return sum(counts)

    async def _channel(self, broadcast: Broadcast, channel: Channel, stop: asyncio.Event | None) -> int:
        reply_for: dict[str, Reply] = {}
        in_flight = asyncio.Semaphore(self.concurrency)
        bucket = self.bucket(channel)
        sent = 0
        while stop is None or not stop.is_set():
            due = await self.engine.due_broadcast_recipients(broadcast.id, (channel,), self.batch)
            if not due:
                break
            tasks = []
            for recipient in due:
                if stop is not None and stop.is_set():
                    break
                await bucket.take()
                await in_flight.acquire()
                if recipient.language not in reply_for:
                    reply_for[recipient.language] = broadcast_reply(broadcast.text, recipient.language)
                tasks.append(asyncio.create_task(self._one(recipient, reply_for[recipient.language], in_flight)))
            results = await asyncio.gather(*tasks, return_exceptions=True)
            for result in results:  # a crash (anything but an Exception) ends the sender, as it would the process
                if isinstance(result, BaseException):
                    raise result
            sent += sum(r for r in results if isinstance(r, int))
            await self._report(broadcast.id)
        return sent

    async def _one(self, recipient: BroadcastRecipient, reply: Reply, in_flight: asyncio.Semaphore) -> int:
        try:
            if not await self.engine.claim_broadcast_recipient(recipient.id):
                return 0  # another sender has it, or the broadcast was stopped
            try:
                await self.messengers[Channel(recipient.channel)].send(
                    recipient.to, reply, key=f"broadcast:{recipient.broadcast_id}:{recipient.id}")
            except DeliveryError as e:
                outcome = await self.engine.broadcast_not_delivered(recipient, e)
                log.info("broadcast %s to %s not delivered (%s: %s), now %s", recipient.broadcast_id,
                         recipient.account, e.reason, e, outcome)
                return 0
            except Exception as e:  # unknown: tried again later like a transient failure, with a traceback
                log.exception("broadcast %s to %s failed", recipient.broadcast_id, recipient.account)
                await self.engine.broadcast_not_delivered(
                    recipient, DeliveryError.transient(f"{type(e).__name__}: {e}", "unknown"))
                return 0
            await self.engine.broadcast_delivered(recipient.id)
            return 1
        finally:
            in_flight.release()

    async def _report(self, broadcast_id: int) -> None:
        """Finish the broadcast when nothing is left, and tell its author the milestone reached (once)."""
        progress = await self.engine.finish_broadcast(broadcast_id)
        if self.on_progress is not None:
            self.on_progress(progress)
        broadcast = progress.broadcast
        if broadcast.status is BroadcastStatus.DONE:
            milestone = 100
        elif broadcast.status is BroadcastStatus.SENDING:
            milestone = max((m for m in MILESTONES if progress.percent >= m), default=0)
        else:
            return
        author = broadcast.author_ref
        messenger = self.messengers.get(author.channel) if author is not None else None
        if author is None or messenger is None or milestone <= broadcast.reported:
            return
        if not await self.engine.claim_broadcast_milestone(broadcast_id, milestone):
            return
        buttons = stop_button(broadcast.language) if milestone < 100 else ()
        try:
            await messenger.send(author, Text(progress_text(progress, broadcast.language), buttons),
                                 key=f"broadcast:{broadcast_id}:report:{milestone}")
        except Exception as e:  # the report is a courtesy: the broadcast goes on
            log.warning("could not tell %s how broadcast %s goes: %s", author.key, broadcast_id, e)

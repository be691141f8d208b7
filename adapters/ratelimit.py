"""Pacing outgoing messages to a messenger's limits (shared by the channel adapters; no SDK)."""
from __future__ import annotations

import asyncio
import logging
import time

from journey.ports import SendBudget, SendCell

log = logging.getLogger(__name__)
FALLBACK_LOG_SECONDS = 60.0  # a budget that cannot be reached is said once a minute, not once a message


class RateLimiter:
    """Spaces sends: at most ``per_second`` overall, and per chat one per ``chat_interval`` seconds after a
    burst of ``chat_burst`` (a reply and its follow-up go at once; a flood to one chat is slowed).

    Per chat it is the generic cell rate algorithm: ``tat`` is when the chat's next message is due.
    The default of 29.5 a second is just under Telegram's 30: spaced exactly 1/30 s apart, the 31st message
    can arrive a hair less than a second after the 1st, and a one-second window refuses it (bench/telegram.py:
    9 answers 429 in 300 messages at 30/s, none at 29.5/s).

    Several instances of one bot share the platform's limit: ``share(budget, scope)`` makes every send book
    its slot in a ``SendBudget`` all of them use (PostgreSQL or Redis), the overall rate and the chat's
    spacing as two cells of one reservation, and a 429's pause stored there too, so two instances together
    keep to 29.5 a second. Should the budget be unreachable, the sends are paced here, as by one instance
    alone (said in the log), rather than not sent.
    """

    def __init__(self, per_second: float = 29.5, chat_interval: float = 1.0, chat_burst: int = 3) -> None:
        self.interval = 1.0 / per_second
        self.chat_interval = chat_interval
        self.tolerance = (chat_burst - 1) * chat_interval
        self._next = 0.0
        self._tat: dict[str, float] = {}
        self._lock = asyncio.Lock()
        self.budget: SendBudget | None = None
        self.scope = ""
        self._pausing: set[asyncio.Future] = set()
        self._failed_at = -FALLBACK_LOG_SECONDS

    def share(self, budget: SendBudget, scope: str) -> None:
        """Pace every send through ``budget`` under ``scope`` (the bot: ``telegram:<bot id>``, ``vk:<group>``)."""
        self.budget, self.scope = budget, scope

    def cells(self, chat: str) -> tuple[SendCell, SendCell]:
        """What one send to ``chat`` must keep: the bot's overall rate and the chat's spacing."""
        return (SendCell(self.scope, self.interval),
                SendCell(f"{self.scope}:chat:{chat}", self.chat_interval, self.tolerance))

    async def wait(self, chat: str) -> None:
        if self.budget is not None:
            try:
                wait = await self.budget.reserve(self.cells(chat))
            except Exception as e:  # the database or Redis is away: this instance paces itself meanwhile
                self._unreachable(e)
            else:
                wait = max(wait, self._next - time.monotonic())  # a 429 seen here, before the budget has it
                if wait > 0:
                    await asyncio.sleep(wait)
                return
        async with self._lock:
            now = time.monotonic()
            tat = max(self._tat.get(chat, now), now)
            at = max(now, self._next, tat - self.tolerance)
            self._next = at + self.interval
            self._tat[chat] = max(tat, at) + self.chat_interval
            if len(self._tat) > 10_000:  # forget chats that are idle again
                self._tat = {c: t for c, t in self._tat.items() if t > now}
        if at > now:
            await asyncio.sleep(at - now)

    def pause(self, seconds: float) -> None:
        """Telegram said 429: nobody sends until the wait is over (with a shared budget, no instance)."""
        self._next = max(self._next, time.monotonic() + seconds)
        if self.budget is not None:
            task = asyncio.ensure_future(self._share_pause(self.budget, seconds))
            self._pausing.add(task)
            task.add_done_callback(self._pausing.discard)

    async def _share_pause(self, budget: SendBudget, seconds: float) -> None:
        try:
            await budget.pause(self.scope, seconds)
        except Exception as e:
            self._unreachable(e)

    def _unreachable(self, error: Exception) -> None:
        now = time.monotonic()
        if now - self._failed_at >= FALLBACK_LOG_SECONDS:
            self._failed_at = now
            log.warning("the shared send budget cannot be reached (%s: %s): %s paces its own sends meanwhile",
                        type(error).__name__, error, self.scope)

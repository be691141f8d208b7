"""Pacing outgoing messages to a messenger's limits (shared by the channel adapters; no SDK)."""
from __future__ import annotations

import asyncio
import time


class RateLimiter:
    """Spaces sends: at most ``per_second`` overall, and per chat one per ``chat_interval`` seconds after a
    burst of ``chat_burst`` (a reply and its follow-up go at once; a flood to one chat is slowed).

    Per chat it is the generic cell rate algorithm: ``tat`` is when the chat's next message is due.
    The default of 29.5 a second is just under Telegram's 30: spaced exactly 1/30 s apart, the 31st message
    can arrive a hair less than a second after the 1st, and a one-second window refuses it (bench/telegram.py:
    9 answers 429 in 300 messages at 30/s, none at 29.5/s).
    """

    def __init__(self, per_second: float = 29.5, chat_interval: float = 1.0, chat_burst: int = 3) -> None:
        self.interval = 1.0 / per_second
        self.chat_interval = chat_interval
        self.tolerance = (chat_burst - 1) * chat_interval
        self._next = 0.0
        self._tat: dict[str, float] = {}
        self._lock = asyncio.Lock()

    async def wait(self, chat: str) -> None:
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
        """Telegram said 429: nobody sends until the wait is over."""
        self._next = max(self._next, time.monotonic() + seconds)

"""The send-rate budget in Redis (``VITRINA_REDIS_URL``): every instance's sends paced together.

Each reservation is one Lua script, run atomically by Redis: the generic cell rate algorithm over all the
send's cells at once (a bot's overall rate, a chat's spacing), timed by Redis's own clock (``TIME``), so the
instances' clocks do not matter. A cell's key expires a minute after it stops mattering, so idle chats
are forgotten.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from redis.asyncio import Redis

from journey.ports import SendCell

PREFIX = "vitrina:send:"
# KEYS: the cells' keys; ARGV: interval and tolerance per cell, in turn. Returns the slot booked and the time it
# was booked at, as text (Redis would truncate a Lua number to an integer).
RESERVE = """
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local at = now
local tats = {}
for i, key in ipairs(KEYS) do
    tats[i] = tonumber(redis.call('GET', key) or '0')
    local earliest = tats[i] - tonumber(ARGV[2 * i])
    if earliest > at then at = earliest end
end
for i, key in ipairs(KEYS) do
    local tat = math.max(tats[i], at) + tonumber(ARGV[2 * i - 1])
    redis.call('SET', key, string.format('%.6f', tat), 'PX', math.ceil((tat - now) * 1000) + 60000)
end
return {string.format('%.6f', at), string.format('%.6f', now)}
"""
# KEYS[1]: the cell; ARGV[1]: seconds nothing under it is due
PAUSE = """
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local tat = math.max(tonumber(redis.call('GET', KEYS[1]) or '0'), now + tonumber(ARGV[1]))
redis.call('SET', KEYS[1], string.format('%.6f', tat), 'PX', math.ceil((tat - now) * 1000) + 60000)
return 1
"""


class RedisSendBudget:
    """``journey.ports.SendBudget`` in Redis (see the module's docstring)."""

    def __init__(self, url: str, *, prefix: str = PREFIX) -> None:
        self.redis: Redis = Redis.from_url(url)
        self.prefix = prefix
        self._reserve: Any = self.redis.register_script(RESERVE)
        self._pause: Any = self.redis.register_script(PAUSE)

    async def reserve(self, cells: Sequence[SendCell]) -> float:
        at, now = await self.book(cells)
        return max(0.0, at - now)

    async def book(self, cells: Sequence[SendCell]) -> tuple[float, float]:
        """Reserve, and say when: the slot booked and the time it was booked at, in seconds since the epoch
        by Redis's clock."""
        args: list[float] = []
        for cell in cells:
            args += [cell.interval, cell.tolerance]
        at, now = await self._reserve(keys=[self.prefix + c.key for c in cells], args=args)
        return float(at), float(now)

    async def pause(self, key: str, seconds: float) -> None:
        await self._pause(keys=[self.prefix + key], args=[float(seconds)])

    async def close(self) -> None:
        await self.redis.aclose()

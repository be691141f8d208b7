"""Rules every channel's Mini App launch check shares: how old launch data may be, and how it is refused.

Every failure is the same 401 ``unauthorized`` to the caller; the detail (kept on the error, never sent)
says what was wrong, for logs.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from .channels import Launch
from .errors import DomainError, ErrorCode

FUTURE_SKEW = 300  # seconds a launch may come "from the future" (clocks drift)


def refused(why: str) -> DomainError:
    return DomainError(ErrorCode.UNAUTHORIZED, why)


def check_age(issued: float, now: datetime, max_age: int) -> None:
    """Refuse launch data signed more than ``max_age`` seconds ago (or too far in the future)."""
    age = now.timestamp() - issued
    if age > max_age or age < -FUTURE_SKEW:
        raise refused(f"launch is {int(age)} s old")


class KeptLaunches:
    """Launch strings whose signature held, with when they were signed and whom they launch (the latest
    ``size``). A Mini App sends the same launch string with every call of a session: the signature and the
    reading are done once per string, the age every time. Refusals are not kept."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._kept: dict[str, tuple[float, Launch]] = {}

    def __len__(self) -> int:
        return len(self._kept)

    def check(self, launch: str, now: datetime, max_age: int, verify: Callable[[str], tuple[float, Launch]]) -> Launch:
        """Whom ``launch`` launches, by ``verify`` (which raises when the signature does not hold: (when it
        was signed, whom it launches)) the first time, and if it is at most ``max_age`` seconds old."""
        kept = self._kept.get(launch)
        if kept is None:
            kept = verify(launch)
            if len(self._kept) >= self.size:
                del self._kept[next(iter(self._kept))]  # the oldest
            self._kept[launch] = kept
        issued, launched = kept
        check_age(issued, now, max_age)
        return launched

"""Rules every channel's Mini App launch check shares: how old launch data may be, and how it is refused.

Every failure is the same 401 ``unauthorized`` to the caller; the detail (kept on the error, never sent)
says what was wrong, for logs.
"""
from __future__ import annotations

from datetime import datetime

from .errors import DomainError, ErrorCode

FUTURE_SKEW = 300  # seconds a launch may come "from the future" (clocks drift)


def refused(why: str) -> DomainError:
    return DomainError(ErrorCode.UNAUTHORIZED, why)


def check_age(issued: float, now: datetime, max_age: int) -> None:
    """Refuse launch data signed more than ``max_age`` seconds ago (or too far in the future)."""
    age = now.timestamp() - issued
    if age > max_age or age < -FUTURE_SKEW:
        raise refused(f"launch is {int(age)} s old")

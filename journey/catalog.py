"""Catalog: categories, items with option groups, pickup points with hours, stock per point."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from .money import Money

POINT_ID = re.compile(r"^[a-z0-9]+$")
SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MIDNIGHT = time(0)


def _clock(closes: time) -> str:
    return "24:00" if closes == MIDNIGHT else f"{closes:%H:%M}"


@dataclass(frozen=True, slots=True)
class Option:
    id: str
    name: str
    price_delta: int = 0  # minor units of the item's currency; may be negative


@dataclass(frozen=True, slots=True)
class OptionGroup:
    id: str
    name: str
    options: tuple[Option, ...]
    required: bool = True  # a required single-choice group defaults to its first option
    multiple: bool = False

    def option(self, option_id: str) -> Option | None:
        return next((o for o in self.options if o.id == option_id), None)


@dataclass(frozen=True, slots=True)
class Category:
    id: str
    name: str
    position: int = 0


@dataclass(frozen=True, slots=True)
class Item:
    id: str
    category_id: str
    name: str
    price: Money
    description: str = ""
    photo: str = ""
    option_groups: tuple[OptionGroup, ...] = ()
    tags: tuple[str, ...] = ()
    available: bool = True
    position: int = 0

    def group(self, group_id: str) -> OptionGroup | None:
        return next((g for g in self.option_groups if g.id == group_id), None)


@dataclass(frozen=True, slots=True)
class OpeningHours:
    """Per weekday (Monday first) an (opens, closes) pair, or None when closed all day."""

    days: tuple[tuple[time, time] | None, ...] = field(default_factory=lambda: ((time(8), time(22)),) * 7)

    def is_open(self, at: datetime) -> bool:
        span = self.days[at.weekday()]
        # a closing time of 00:00 is midnight at the end of the day ("24:00")
        return span is not None and span[0] <= at.time() and (at.time() < span[1] or span[1] == MIDNIGHT)

    def closes_at(self, day: datetime) -> datetime | None:
        """When the point closes on ``day`` (a local, aware time); None when it is closed all day."""
        span = self.days[day.weekday()]
        if span is None:
            return None
        start = day.replace(hour=0, minute=0, second=0, microsecond=0)
        if span[1] == MIDNIGHT:
            return start + timedelta(days=1)
        return start.replace(hour=span[1].hour, minute=span[1].minute)

    def format(self) -> str:
        """``mon-fri 08:00-21:00; sat-sun 10:00-20:00`` — the form ``parse`` reads."""
        parts: list[str] = []
        i = 0
        while i < 7:
            j = i
            while j + 1 < 7 and self.days[j + 1] == self.days[i]:
                j += 1
            span = self.days[i]
            days = WEEKDAYS[i] if i == j else f"{WEEKDAYS[i]}-{WEEKDAYS[j]}"
            value = "closed" if span is None else f"{span[0]:%H:%M}-{_clock(span[1])}"
            parts.append(f"{days} {value}")
            i = j + 1
        return "; ".join(parts)

    @classmethod
    def parse(cls, text: str) -> OpeningHours:
        days: list[tuple[time, time] | None] = [None] * 7
        for part in filter(None, (p.strip() for p in text.split(";"))):
            try:
                day_part, value = part.split(None, 1)
                first, _, last = day_part.partition("-")
                lo, hi = WEEKDAYS.index(first), WEEKDAYS.index(last or first)
                if value.strip() == "closed":
                    span = None
                else:
                    opens, closes = value.strip().split("-")
                    closes = "00:00" if closes.strip() == "24:00" else closes
                    span = (time.fromisoformat(opens.strip()), time.fromisoformat(closes.strip()))
                    if span[0] >= span[1] and span[1] != MIDNIGHT:
                        raise ValueError
            except ValueError:
                raise ValueError(f"opening hours not understood: {part!r} (e.g. 'mon-fri 08:00-21:00',"
                                 " 'sat-sun 00:00-24:00' or 'sun closed')") from None
            for d in range(lo, hi + 1):
                days[d] = span
        return cls(tuple(days))


@dataclass(frozen=True, slots=True)
class PickupPoint:
    id: str
    name: str
    address: str = ""
    lat: float | None = None
    lon: float | None = None
    hours: OpeningHours = field(default_factory=OpeningHours)
    prep_minutes: int = 10


UNLIMITED = None  # stock quantity for items that are not counted

"""Opening hours: when a point is open and when it closes, round the clock included."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from journey.catalog import OpeningHours

MSK = timezone(timedelta(hours=3))
WEDNESDAY = datetime(2026, 11, 18, 12, 0, tzinfo=MSK)


def test_hours_round_trip_and_refuse_nonsense():
    text = "mon-fri 08:00-21:00; sat 10:00-24:00; sun closed"
    assert OpeningHours.parse(text).format() == text
    for bad in ("mon 21:00-08:00", "mon-fri", "someday 08:00-09:00", "mon 8-9"):
        with pytest.raises(ValueError):
            OpeningHours.parse(bad)


def test_open_and_closing_time():
    hours = OpeningHours.parse("mon-fri 08:00-21:00; sat 00:00-24:00; sun closed")
    assert hours.is_open(WEDNESDAY) and not hours.is_open(WEDNESDAY.replace(hour=21))
    assert hours.closes_at(WEDNESDAY) == WEDNESDAY.replace(hour=21)
    saturday = WEDNESDAY + timedelta(days=3)
    assert hours.is_open(saturday.replace(hour=23, minute=59)) and hours.is_open(saturday.replace(hour=0))
    assert hours.closes_at(saturday) == (saturday + timedelta(days=1)).replace(hour=0)  # midnight, not 00:00 today
    assert hours.closes_at(saturday + timedelta(days=1)) is None

"""PostgreSQL storage of suggestions and of points' tiers, expiry, history and birthdays."""
from __future__ import annotations

from .base import PgRepo


class PgSuggestions(PgRepo):
    pass  # being ported from storage/sqlite


class PgPoints(PgRepo):
    pass  # being ported from storage/sqlite

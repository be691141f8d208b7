"""PostgreSQL queries behind the owner's numbers (journey/stats.py)."""
from __future__ import annotations

from .base import PgRepo


class PgStats(PgRepo):
    pass  # being ported from storage/sqlite

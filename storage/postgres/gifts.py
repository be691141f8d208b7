"""PostgreSQL storage of gifts (journey/gifts.py)."""
from __future__ import annotations

from .base import PgRepo


class PgGifts(PgRepo):
    pass  # being ported from storage/sqlite

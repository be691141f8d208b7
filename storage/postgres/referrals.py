"""PostgreSQL storage of referrals (journey/referrals.py)."""
from __future__ import annotations

from .base import PgRepo


class PgReferrals(PgRepo):
    pass  # being ported from storage/sqlite

"""PostgreSQL storage of broadcasts and their recipients."""
from __future__ import annotations

from .base import PgRepo


class PgBroadcasts(PgRepo):
    pass  # being ported from storage/sqlite

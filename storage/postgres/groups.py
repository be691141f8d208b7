"""PostgreSQL storage of group orders (journey/groups.py)."""
from __future__ import annotations

from .base import PgRepo


class PgGroups(PgRepo):
    pass  # being ported from storage/sqlite

"""PostgreSQL storage of shares and regulars (journey/sharing.py, journey/regulars.py)."""
from __future__ import annotations

from .base import PgRepo


class PgSharing(PgRepo):
    pass  # being ported from storage/sqlite

"""PostgreSQL storage of the files Vitrina serves itself (``/media/<name>``)."""
from __future__ import annotations

from .base import PgRepo


class PgMedia(PgRepo):
    pass  # being ported from storage/sqlite

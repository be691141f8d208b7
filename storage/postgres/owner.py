"""PostgreSQL storage of what owners do from the chat: the audit log and open dialogs."""
from __future__ import annotations

from .base import PgRepo


class PgAudit(PgRepo):
    pass  # being ported from storage/sqlite


class PgDialogs(PgRepo):
    pass  # being ported from storage/sqlite

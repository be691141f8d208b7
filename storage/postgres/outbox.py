"""PostgreSQL bookkeeping of delivery: the outbox with its cursors and failures, processed update ids, and
accounts that cannot be messaged."""
from __future__ import annotations

from .base import PgRepo


class PgUpdates(PgRepo):
    pass  # being ported from storage/sqlite


class PgOutbox(PgRepo):
    pass  # being ported from storage/sqlite


class PgReachability(PgRepo):
    pass  # being ported from storage/sqlite

"""PostgreSQL repositories of the catalog, customers, orders, payments, points, promos, staff, settings,
visits and reviews."""
from __future__ import annotations

from .base import PgRepo


class PgCatalog(PgRepo):
    pass  # being ported from storage/sqlite


class PgCustomers(PgRepo):
    pass  # being ported from storage/sqlite


class PgOrders(PgRepo):
    pass  # being ported from storage/sqlite


class PgPayments(PgRepo):
    pass  # being ported from storage/sqlite


class PgPacks(PgRepo):
    pass  # being ported from storage/sqlite


class PgLoyalty(PgRepo):
    pass  # being ported from storage/sqlite


class PgPromos(PgRepo):
    pass  # being ported from storage/sqlite


class PgStaff(PgRepo):
    pass  # being ported from storage/sqlite


class PgSettings(PgRepo):
    pass  # being ported from storage/sqlite


class PgVisits(PgRepo):
    pass  # being ported from storage/sqlite


class PgReviews(PgRepo):
    pass  # being ported from storage/sqlite

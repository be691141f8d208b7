"""Every repository of a unit of work, by the name the journey knows it under (``journey.ports.UnitOfWork``)."""
from __future__ import annotations

from typing import Any

from .base import Conn
from .broadcasts import PgBroadcasts
from .gifts import PgGifts
from .groups import PgGroups
from .limits import PgLimits
from .media import PgMedia
from .outbox import PgOutbox, PgReachability, PgUpdates
from .owner import PgAudit, PgDialogs
from .privacy import PgPrivacy  # personal data
from .referrals import PgReferrals
from .repositories import (
    PgCatalog,
    PgCustomers,
    PgLoyalty,
    PgOrders,
    PgPacks,
    PgPayments,
    PgPromos,
    PgReviews,
    PgSettings,
    PgStaff,
    PgVisits,
)
from .sharing import PgSharing
from .stats import PgStats
from .suggestions import PgPoints, PgSuggestions

REPOSITORIES = {
    "catalog": PgCatalog,
    "customers": PgCustomers,
    "orders": PgOrders,
    "payments": PgPayments,
    "packs": PgPacks,
    "loyalty": PgLoyalty,
    "promos": PgPromos,
    "staff": PgStaff,
    "settings": PgSettings,
    "visits": PgVisits,
    "reviews": PgReviews,
    "updates": PgUpdates,
    "outbox": PgOutbox,
    "reachability": PgReachability,
    "audit": PgAudit,
    "dialogs": PgDialogs,
    "media": PgMedia,
    "stats": PgStats,
    "broadcasts": PgBroadcasts,
    "referrals": PgReferrals,
    "groups": PgGroups,
    "sharing": PgSharing,
    "suggestions": PgSuggestions,
    "points": PgPoints,
    "gifts": PgGifts,
    "privacy": PgPrivacy,  # personal data
    "limits": PgLimits,  # abuse limits
}


def repositories(conn: Conn, *, writable: bool) -> dict[str, Any]:
    return {name: cls(conn, writable=writable) for name, cls in REPOSITORIES.items()}

"""Ports: what the engine needs from the outside world, as Protocols.

Storage implements the unit of work and repositories; channel adapters implement ``Messenger``;
``adapters/qr.py`` implements ``QrRenderer``; payment adapters implement ``PaymentProvider``.
Every storage method is async so that a networked database can implement the same port; an
implementation may buffer writes and send them at commit.
"""
from __future__ import annotations

import math
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Literal, Protocol, Self

from .audit import Change
from .broadcasts import AudienceMember, Broadcast, BroadcastRecipient, BroadcastStatus
from .catalog import Category, Item, PickupPoint
from .channels import Capabilities, Channel, CustomerRef, LandingLink, Launch, Reply, Route
from .dialogs import Dialog
from .events import DomainEvent
from .gift_model import Gift  # gifts
from .group_model import Group, GroupMember  # group orders
from .model import (
    Account,
    Consent,  # personal data
    Customer,
    LedgerEntry,
    LinkCode,
    Order,
    PackPurchase,
    PaymentIntent,
    Promo,
    Review,
    Visit,
)
from .money import Money
from .photos import Media
from .referrals import Referral  # referrals that hold
from .sharing import Share, ShareCount, StoryCard, ViaCount  # sharing and regulars
from .states import OrderStatus, PaymentStatus
from .stats import CustomerTotal, OrderCount, StatsChart, TopItem, VisitCount

if TYPE_CHECKING:
    from .loyalty import PointsMove  # suggestions and points


class Clock(Protocol):
    def now(self) -> datetime: ...


class CatalogRepository(Protocol):
    async def version(self) -> str:
        """Changes whenever what the menu shows (points, categories, items, stock, reviews) was changed by a
        commit, of any process, since it was last read: a key for caches of the menu."""
        ...

    async def categories(self) -> list[Category]: ...
    async def items(self, *, include_unavailable: bool = False) -> list[Item]: ...
    async def items_by_id(self, ids: Iterable[str]) -> dict[str, Item]: ...
    async def save_category(self, category: Category) -> None: ...
    async def save_item(self, item: Item) -> None: ...
    async def set_available(self, item_id: str, available: bool) -> None: ...
    async def points(self) -> list[PickupPoint]: ...
    async def point(self, point_id: str) -> PickupPoint | None: ...
    async def save_point(self, point: PickupPoint) -> None: ...
    async def stock(self, point_id: str) -> dict[str, int | None]:
        """Counted quantities at a point; an item missing from the mapping is not counted (unlimited)."""
        ...
    async def all_stock(self) -> dict[tuple[str, str], int | None]: ...
    async def set_stock(self, point_id: str, item_id: str, quantity: int | None) -> None: ...
    async def change_stock(self, point_id: str, item_id: str, delta: int) -> None:
        """Add ``delta`` to a counted quantity; the storage refuses to go below zero (CHECK)."""
        ...


class CustomerRepository(Protocol):
    async def by_account(self, channel: Channel, external_id: str) -> Customer | None: ...
    async def get(self, customer_id: str) -> Customer | None: ...
    async def by_referral_code(self, code: str) -> Customer | None: ...
    async def add(self, customer: Customer) -> None: ...
    async def update(self, customer: Customer) -> None: ...
    async def add_account(self, account: Account) -> None: ...
    async def accounts(self, customer_id: str) -> list[Account]: ...
    async def merge(self, source_id: str, target_id: str) -> None:
        """Move everything of ``source_id`` (accounts, orders, ledger, promo uses, visits) to ``target_id``."""
        ...
    async def add_link_code(self, code: LinkCode) -> None: ...
    async def link_code(self, code: str) -> LinkCode | None: ...
    async def use_link_code(self, code: str) -> None: ...
    async def record_link_failure(self, account: str, at: datetime) -> None: ...
    async def link_failures(self, account: str, since: datetime) -> int: ...
    async def prune_link_failures(self, before: datetime) -> int:
        """Forget wrong link codes entered before then (they only count for minutes); returns how many."""
        ...


class OrderRepository(Protocol):
    async def add(self, order: Order) -> bool:
        """Store a new order; False, with nothing written, when its short code is already on an open order at
        its point (another instance drew the same free code at the same moment: draw again)."""
        ...
    async def get(self, order_id: str) -> Order | None: ...
    async def set_status(self, order_id: str, status: OrderStatus, at: datetime) -> None: ...
    async def for_customer(self, customer_id: str, limit: int = 20) -> list[Order]: ...
    async def open_at(self, point_id: str) -> list[Order]: ...
    async def by_short_code(self, point_id: str | None, short_code: str) -> list[Order]: ...
    async def short_codes_in_use(self, point_id: str) -> set[str]: ...
    async def last_with_short_code(self, point_id: str | None, short_code: str, since: datetime) -> Order | None:
        """The latest order (open or not) that carried this code since then."""
        ...
    async def count_for_customer(self, customer_id: str, status: OrderStatus) -> int: ...
    async def count_open_for_customer(self, customer_id: str) -> int:
        """The customer's orders in any open status (placed, accepted, ready), counted in one query."""
        ...
    async def ids_in_status(self, status: OrderStatus, *, before: datetime | None = None) -> list[str]: ...
    async def board(self, point_ids: Sequence[str], *, shown_pending: Sequence[str], after: str | None,
                    limit: int) -> list[BoardRow]:
        """One page of the staff board, in one query: the open orders of these points, soonest pickup first
        (pickup time, then placing time, then id), each with its status history, its newest payment and its
        customer's name. ``after``: the id of the last order of the page before (the page starts after its
        place in that order, wherever it is now). An order whose newest payment is pending with a provider
        not in ``shown_pending`` (waiting to be paid online) is left out: it is not the staff's yet."""
        ...
    async def expiry_candidates(self, placed_before: datetime) -> list[tuple[Order, PaymentIntent | None]]:
        """What an expiry round looks at, in one query, nothing locked: the placed orders placed before then
        and every ready order (without their history), each with its newest payment."""
        ...


@dataclass(frozen=True, slots=True)
class BoardRow:
    """An order on the staff board (``OrderRepository.board``): the order with its history, its newest
    payment, the name of its customer ("" when forgotten)."""

    order: Order
    payment: PaymentIntent | None
    customer_name: str


class PaymentRepository(Protocol):
    async def add(self, intent: PaymentIntent) -> None: ...
    async def set_status(self, payment_id: str, status: PaymentStatus, at: datetime,
                         provider_ref: str | None = None) -> None: ...
    async def update(self, intent: PaymentIntent) -> None:
        """Write everything the intent carries but its id, order, amount and key (status included)."""
        ...
    async def get(self, payment_id: str) -> PaymentIntent | None: ...
    async def for_order(self, order_id: str) -> PaymentIntent | None: ...
    async def capture_pending(self, order_id: str, at: datetime) -> PaymentIntent | None:
        """The order's pending payment set captured in one statement, as it is then (None: none was pending).
        For a payment taken at the counter, where nothing is asked of a provider; the order's row is locked."""
        ...
    async def by_idempotency_key(self, key: str) -> PaymentIntent | None: ...
    async def by_provider_ref(self, provider: str, provider_ref: str) -> PaymentIntent | None: ...
    async def by_charge_id(self, charge_id: str) -> PaymentIntent | None: ...
    async def unsettled(self, providers: Sequence[str]) -> list[PaymentIntent]:
        """The payments of these providers whose outcome the provider may still change, oldest first."""
        ...


class PackRepository(Protocol):
    """Points packs bought with Telegram Stars."""

    async def add(self, purchase: PackPurchase) -> None: ...
    async def get(self, purchase_id: str) -> PackPurchase | None: ...
    async def by_charge_id(self, charge_id: str) -> PackPurchase | None: ...
    async def update(self, purchase: PackPurchase) -> None:
        """Write its status, charge id and time."""
        ...


class ReferralRepository(Protocol):
    """Referrals that hold: one live (not void) invitation per invitee."""

    async def add(self, referral: Referral) -> None: ...
    async def update(self, referral: Referral) -> None:
        """Write its status, order, points and times."""
        ...
    async def for_invitee(self, invitee_id: str) -> list[Referral]:
        """Every invitation of this person, void ones too, oldest first."""
        ...
    async def of_referrer(self, referrer_id: str) -> list[Referral]:
        """The friends this customer invited, newest first."""
        ...
    async def rewarded_since(self, referrer_id: str, since: datetime) -> int:
        """How many friends paid this inviter a bonus since then (voided ones not counted)."""
        ...
    async def reassign(self, source_id: str, target_id: str) -> None:
        """Two customers merged: every invitation of ``source_id``, either side, now names ``target_id``."""
        ...


class LoyaltyRepository(Protocol):
    async def balance(self, customer_id: str) -> int: ...
    async def add(self, entry: LedgerEntry) -> None: ...
    async def entries(self, customer_id: str, limit: int = 50) -> list[LedgerEntry]: ...


class PromoRepository(Protocol):
    async def get(self, code: str) -> Promo | None: ...
    async def all(self) -> list[Promo]:
        """Every code ever created, ended ones too, by code."""
        ...

    async def save(self, promo: Promo) -> None: ...
    async def uses_by(self, code: str, customer_id: str) -> int: ...
    async def record_use(self, code: str, customer_id: str, order_id: str) -> None: ...
    async def release_use(self, code: str, order_id: str) -> None: ...


class StaffRepository(Protocol):
    async def add(self, account: CustomerRef, point_id: str) -> None: ...
    async def remove(self, account: CustomerRef, point_id: str | None = None) -> int: ...
    async def list(self) -> list[tuple[CustomerRef, str]]: ...
    async def points_of(self, accounts: Sequence[CustomerRef]) -> set[str]: ...


class SettingsRepository(Protocol):
    async def get(self, key: str) -> str | None: ...
    async def set(self, key: str, value: str) -> None: ...
    async def all(self) -> dict[str, str]: ...
    async def setdefault(self, key: str, value: str) -> str:
        """Store ``value`` unless the key has one; return the one stored (instances starting together agree)."""
        ...


class VisitRepository(Protocol):
    async def add(self, visit: Visit) -> None: ...
    async def count(self, param: str | None = None) -> int: ...


class ReviewRepository(Protocol):
    async def add(self, review: Review) -> None: ...
    async def exists(self, order_id: str, item_id: str) -> bool: ...
    async def for_item(self, item_id: str, limit: int = 20) -> list[Review]: ...
    async def ratings(self) -> dict[str, tuple[float, int]]:
        """Item id -> (average rating, number of reviews)."""
        ...


class AuditLog(Protocol):
    """The owner's changes, oldest first by id (``journey/audit.py``)."""

    async def add(self, change: Change) -> int:
        """Store it; returns its id."""
        ...

    async def last_undoable(self, actor: str) -> Change | None:
        """This owner's latest ``item:``/``stock:`` change that is not undone (an ``undo`` entry never is)."""
        ...

    async def mark_undone(self, change_id: int) -> None: ...
    async def recent(self, limit: int = 20) -> list[Change]:
        """Newest first."""
        ...


class DialogRepository(Protocol):
    async def get(self, account: str) -> Dialog | None: ...
    async def save(self, dialog: Dialog) -> None:
        """Insert or replace the account's dialog."""
        ...

    async def delete(self, account: str) -> bool: ...


class BroadcastRepository(Protocol):
    """Broadcasts and one row per recipient (``journey/broadcasts.py``). Each change of a row is conditional
    on its status, so of several senders exactly one wins a row."""

    async def add(self, broadcast: Broadcast) -> int:
        """Store it; returns its id."""
        ...

    async def get(self, broadcast_id: int) -> Broadcast | None: ...
    async def latest(self) -> Broadcast | None:
        """The newest one that is no draft."""
        ...

    async def sending(self) -> list[Broadcast]: ...
    async def set_status(self, broadcast_id: int, status: BroadcastStatus, when: datetime) -> None:
        """Also records when it started (``sending``) or ended."""
        ...

    async def audience(self, channels: Sequence[str]) -> list[AudienceMember]:
        """Accounts in these channels of customers who agreed to news, except those marked unreachable."""
        ...

    async def add_recipients(self, broadcast_id: int, members: Sequence[AudienceMember]) -> int: ...
    async def counts(self, broadcast_id: int) -> tuple[dict[str, int], datetime | None]:
        """Rows per status, and when the earliest row waiting after a failure is due."""
        ...

    async def due(self, broadcast_id: int, channels: Sequence[str], now: datetime,
                  limit: int) -> list[BroadcastRecipient]:
        """Pending rows due now while the broadcast is sending, oldest first."""
        ...

    async def claim(self, recipient_id: int, now: datetime) -> bool:
        """``pending -> sending`` while the broadcast is sending; False when another sender has it."""
        ...

    async def attempts(self, recipient_id: int) -> int: ...
    async def mark_sent(self, recipient_id: int, when: datetime) -> None: ...
    async def mark_failed(self, recipient_id: int, error: str, when: datetime) -> None: ...
    async def retry_later(self, recipient_id: int, next_at: datetime, error: str) -> None: ...
    async def expire_claims(self, broadcast_id: int, before: datetime) -> int:
        """Rows claimed before then and never confirmed become ``unconfirmed``; returns how many."""
        ...

    async def claim_milestone(self, broadcast_id: int, percent: int) -> bool:
        """Record that the author was told of ``percent``; False when that (or more) was told already."""
        ...


class StatsQueries(Protocol):
    """Sums for the owner's numbers (``journey/stats.py``), added up by the database: a period is
    ``[since, until)``, orders count by when they were placed."""

    async def visits(self, since: datetime, until: datetime) -> list[VisitCount]:
        """Visits per channel and link (the ``stats.POOLED`` kinds pooled, their parameter "")."""
        ...

    async def orders(self, since: datetime, until: datetime, currency: str) -> list[OrderCount]:
        """Orders per channel and source, and how far they went; revenue in ``currency`` only."""
        ...

    async def repeat_customers(self, since: datetime, until: datetime) -> tuple[int, int]:
        """Customers with a picked-up order of the period, and of them those with two or more."""
        ...

    async def top_items(self, since: datetime, until: datetime, limit: int) -> list[TopItem]:
        """Items by quantity in the picked-up orders, most first (ties by id)."""
        ...

    async def orders_per_day(self, bounds: Sequence[datetime]) -> list[int]:
        """Orders placed between each two consecutive bounds: ``len(bounds) - 1`` counts."""
        ...

    async def orders_page(self, since: datetime | None, after: tuple[datetime, str] | None,
                          limit: int) -> list[Order]:
        """Orders placed since then (all without ``since``) after the ``(created_at, id)`` key, oldest first."""
        ...

    async def customers_page(self, after: tuple[datetime, str] | None, limit: int,
                             currency: str) -> list[CustomerTotal]:
        """Customers not merged into another, after the ``(first_seen, id)`` key, first seen first."""
        ...


class MediaRepository(Protocol):
    """Files Vitrina serves itself (the menu's photos), kept in the database so every instance has them."""

    async def add(self, media: Media) -> None:
        """Store a file; a name already stored keeps its bytes (names are made from the content)."""
        ...

    async def get(self, name: str) -> Media | None: ...


UpdateClaim = Literal["taken", "done", "busy"]  # UpdateLog.begin


class UpdateLog(Protocol):
    """Which updates were handled, and which are being handled by which instance's lease.

    ``claim`` marks an update handled at once. ``begin`` takes a lease instead ("taken"), unless the update
    was handled ("done") or another instance's lease on it is younger than ``lease_seconds`` ("busy": the
    platform is told to send it again later); an older lease is taken over, as its holder died mid-way.
    ``finish`` turns the lease into "handled"; ``release`` gives it up, so a repeat is handled after all.
    """

    async def claim(self, channel: str, update_id: str) -> bool:
        """True the first time an update is seen; False for a redelivery."""
        ...

    async def begin(self, channel: str, update_id: str, lease_seconds: float) -> UpdateClaim: ...

    async def finish(self, channel: str, update_id: str) -> None: ...

    async def release(self, channel: str, update_id: str) -> None:
        """Give up the lease on an update whose handling failed, so the channel's redelivery is handled."""
        ...

    async def prune(self, before: datetime) -> int:
        """Forget update ids claimed before then (channels redeliver within hours, not weeks)."""
        ...


@dataclass(frozen=True, slots=True)
class DeliveryFailure:
    """A stored event a subscriber has not managed to handle yet: tried again at ``next_at``, or given up
    (``dead``) after the relay's bounded number of attempts. ``attempts`` is 0 for an event held back
    behind an earlier failing event of the same order."""

    subscriber: str
    event_id: int
    attempts: int
    next_at: datetime
    error: str = ""
    dead: bool = False
    failed_at: datetime | None = None
    event: DomainEvent | None = None  # filled by the listings


class Reachability(Protocol):
    """Accounts (``channel:id``) that cannot be messaged: blocked the bot, deactivated, never allowed the
    community's messages. Nothing unsolicited goes to them until they write again or reopen the Mini App."""

    async def mark(self, account: str, reason: str, at: datetime) -> None: ...
    async def clear(self, account: str) -> bool:
        """Reachable again; True when it was marked."""
        ...

    async def unreachable(self, accounts: Sequence[str]) -> dict[str, str]:
        """Of these accounts, the marked ones with their reason."""
        ...


class Outbox(Protocol):
    async def add(self, event: DomainEvent) -> None: ...
    async def pending(self, subscriber: str, limit: int = 100, after: int = 0,
                      upto: int | None = None) -> list[DomainEvent]:
        """Stored events (with ids) after ``after`` that this subscriber has not handled yet, oldest first;
        with ``upto``, none above that id (bounds the rows walked when most of them are handled)."""
        ...
    async def latest(self) -> int:
        """The highest event id stored (0 when there is none)."""
        ...
    async def mark_handled(self, subscriber: str, event_id: int) -> bool:
        """Record it; False when it was already recorded (a duplicate delivery)."""
        ...
    async def mark_all_handled(self, subscriber: str, event_ids: Sequence[int]) -> int:
        """Record several at once (the relay's batch); returns how many were not recorded before."""
        ...
    async def is_handled(self, subscriber: str, event_id: int) -> bool: ...
    async def cursor(self, subscriber: str) -> int:
        """The last event id this subscriber's relay has read (0 before its first round)."""
        ...

    async def set_cursor(self, subscriber: str, event_id: int) -> None: ...
    async def record_failure(self, failure: DeliveryFailure) -> None:
        """Insert or replace the subscriber's failure record of that event."""
        ...

    async def clear_failure(self, subscriber: str, event_id: int) -> None: ...
    async def clear_failures(self, subscriber: str, event_ids: Sequence[int]) -> None: ...
    async def failures(self, subscriber: str | None = None, *, dead: bool = False) -> list[DeliveryFailure]:
        """Failure records with their events, oldest event first: those waiting for another attempt, or
        (``dead=True``) those given up; of one subscriber or of all."""
        ...

    async def prune(self, before: datetime) -> int:
        """Delete events stored before then that every subscriber has read and none still owes (waiting or
        dead), with their handled records; returns how many events went."""
        ...


class GroupRepository(Protocol):
    """Group orders (journey/groups.py): the group and its members' lines."""

    async def add(self, group: Group) -> None: ...
    async def get(self, group_id: str) -> Group | None: ...
    async def by_code(self, code: str) -> Group | None: ...
    async def update(self, group: Group) -> None:
        """Write its status, when and why it closed, whether it was discounted, the organiser's order and
        the pickup time its orders got."""
        ...
    async def members(self, group_id: str) -> list[GroupMember]:
        """In the order they first joined."""
        ...
    async def save_member(self, member: GroupMember) -> None:
        """Add a member, or replace the lines of one already there (their first join time stays)."""
        ...
    async def set_member_order(self, group_id: str, customer_id: str, order_id: str) -> None: ...
    async def due(self, now: datetime) -> list[str]:
        """Groups still open past their window, and groups closed whose orders are not all placed yet."""
        ...


# sharing and regulars (journey/sharing.py, journey/regulars.py)
class SharingRepository(Protocol):
    async def add(self, share: Share) -> None: ...
    async def shares(self, since: datetime, until: datetime) -> list[ShareCount]:
        """Shares made in the period, by kind."""
        ...
    async def visits_by_via(self, since: datetime, until: datetime) -> list[ViaCount]:
        """Visits of the period that came by a shared link (``r<code>-<via>``), by how it was shared."""
        ...
    async def pickups(self, customer_id: str) -> int:
        """The customer's picked-up orders (a merged account's orders are the customer's)."""
        ...
    async def regular_since(self, customer_id: str) -> datetime | None:
        """When the customer, or an account merged into them, reached the regulars' threshold."""
        ...
    async def add_regular(self, customer_id: str, order_id: str, pickups: int, at: datetime) -> None: ...


# suggestions and points (journey/suggestions.py, journey/loyalty.py)
class SuggestionRepository(Protocol):
    """Aggregates of picked-up orders: each customer's lines, pairs of items, items by the hour placed."""

    async def add_line(self, customer_id: str, item_id: str, options: str, at: datetime) -> None: ...
    async def add_lines(self, customer_id: str, lines: Sequence[tuple[str, str]], at: datetime) -> None:
        """``add_line`` for each (item id, options key) of an order, in one statement: a line listed twice
        counts twice."""
        ...
    async def add_pairs(self, item_ids: Sequence[str]) -> None:
        """One more order holding each two of these (distinct) items, both ways round."""
        ...
    async def add_hour(self, hour: int, quantities: dict[str, int]) -> None: ...
    async def usual(self, customer_id: str, at_least: int, limit: int) -> list[tuple[str, str, int]]:
        """(item id, options key, times), most often first, then most recent."""
        ...
    async def together(self, item_ids: Sequence[str], at_least: int, limit: int) -> list[tuple[str, int]]:
        """Items picked up with any of these, with how many orders held both, most first."""
        ...
    async def at_hour(self, hour: int, at_least: int, limit: int) -> list[tuple[str, int]]: ...


class PointsRepository(Protocol):
    """Tiers' spending, the ledger as expiry and the history read it, and birthdays."""

    async def spent(self, customer_id: str, since: date) -> int: ...
    async def add_spend(self, customer_id: str, day: date, amount: int) -> None: ...
    async def ledger(self, customer_id: str) -> list[tuple[int, datetime]]:
        """(delta, at) of every entry, in the order written."""
        ...
    async def credited_between(self, since: datetime | None, until: datetime) -> list[str]:
        """Customers with a credit dated after ``since`` (None: ever) and at or before ``until``."""
        ...
    async def history(self, customer_id: str, before: int | None, limit: int) -> list[PointsMove]:
        """Entries with an id below ``before``, newest first, with their order's short code."""
        ...
    async def birthday(self, customer_id: str) -> tuple[int, int] | None: ...
    async def set_birthday(self, customer_id: str, birthday: tuple[int, int] | None, at: datetime) -> None: ...
    async def birthday_used(self, customer_id: str, year: int) -> bool: ...
    async def use_birthday(self, customer_id: str, year: int, order_id: str, at: datetime) -> None: ...
    async def born_on(self, day: int, month: int) -> list[str]: ...
    async def greet(self, customer_id: str, year: int, at: datetime) -> bool: ...
    async def merge(self, source_id: str, target_id: str) -> None: ...


# gifts (journey/gifts.py)
class GiftRepository(Protocol):
    async def add(self, gift: Gift) -> None: ...
    async def get(self, gift_id: str) -> Gift | None: ...
    async def by_code(self, code: str) -> Gift | None: ...
    async def by_order(self, order_id: str) -> Gift | None:
        """The gift an open (or last) order of its friend was placed with."""
        ...
    async def update(self, gift: Gift) -> None: ...
    async def due(self, now: datetime, unpaid_before: datetime) -> list[str]:
        """Paid gifts past their expiry, expired ones whose money is not back yet, and gifts waiting for
        their payment since before ``unpaid_before``."""
        ...
    async def of_customer(self, customer_id: str, limit: int = 20) -> list[Gift]: ...


# abuse limits (journey/limits.py)
class RateLimits(Protocol):
    """Token buckets kept in the database, so every instance draws on the same ones.

    A bucket holds up to ``capacity`` tokens and gains ``refill_per_second`` of them as time passes (by the
    ``now`` given, in seconds since the epoch: the engine's clock); a request takes ``cost`` tokens."""

    async def take(self, key: str, capacity: int, refill_per_second: float, now: float, cost: int = 1) -> float:
        """Take ``cost`` tokens from the bucket ``key`` (created full): 0 when they were there, else nothing is
        taken and the answer is the seconds until they will be. One atomic statement: concurrent takers
        never get more than the bucket holds."""
        ...

    async def prune(self, before: float) -> int:
        """Forget buckets untouched since then (a bucket idle that long is full again); returns how many."""
        ...


# personal data (journey/privacy.py)
class PrivacyRepository(Protocol):
    """Consents, and what the shop keeps about a person: exported and forgotten table by table, as
    ``journey.privacy.PERSONAL_DATA`` lists them. ``person`` is a customer's id with every id merged into it
    (linked accounts); ``accounts`` their ``channel:id`` keys."""

    async def add_consent(self, customer_id: str, consent: Consent) -> None: ...
    async def consent(self, customer_id: str) -> Consent | None:
        """The latest consent of the customer or anyone merged into them."""
        ...
    async def person(self, customer_id: str) -> list[str]:
        """The customer's id first, then every id merged into it, however long the chain."""
        ...
    async def hold(self, customer_id: str, channel: Channel, external_id: str) -> bool:
        """In a unit of work that read the customer by this account: hold the person until it ends, as a forget
        holds them (so a forget and this unit of work go one after the other), then whether the account is
        still there (False: forgotten meanwhile)."""
        ...
    async def export(self, person: Sequence[str], accounts: Sequence[str]) -> dict[str, list[dict[str, object]]]:
        """Every row of every table that holds the person's data, by table: columns by name, values as the
        database keeps them (text, integers, None), JSON columns parsed."""
        ...
    async def forget(self, person: Sequence[str], accounts: Sequence[str], now: datetime) -> None:
        """Delete or scrub what ``PERSONAL_DATA`` says, table by table, and mark the customers forgotten."""
        ...
    async def open_orders(self, person: Sequence[str]) -> list[str]:
        """Ids of the person's orders not yet picked up, cancelled or expired."""
        ...
    async def open_groups(self, person: Sequence[str]) -> list[str]:
        """Ids of the open group orders the person organises."""
        ...
    async def closing_groups(self, person: Sequence[str]) -> list[str]:
        """Ids of the group orders closed but whose orders are not all placed yet (a crash in between) that
        the person organises or has lines in without an order of theirs."""
        ...
    async def seen(self, customer_id: str) -> datetime | None:
        """When the customer was last seen (``touch``), or None."""
        ...
    async def touch(self, customer_id: str, at: datetime) -> None: ...
    async def inactive(self, before: datetime, limit: int) -> list[str]:
        """Customers (not merged into another, not forgotten, not staff) with nothing since ``before``: not
        seen, no order placed or changed, no visit, no points moved, no consent given."""
        ...


class UnitOfWork(Protocol):
    """One transaction. ``async with uow:`` commits on a clean exit and rolls back on an exception."""

    # read-only (properties): an implementation may hold its own repository types, and nobody swaps them
    @property
    def catalog(self) -> CatalogRepository: ...
    @property
    def customers(self) -> CustomerRepository: ...
    @property
    def orders(self) -> OrderRepository: ...
    @property
    def payments(self) -> PaymentRepository: ...
    @property
    def packs(self) -> PackRepository: ...
    @property
    def loyalty(self) -> LoyaltyRepository: ...
    @property
    def promos(self) -> PromoRepository: ...
    @property
    def staff(self) -> StaffRepository: ...
    @property
    def settings(self) -> SettingsRepository: ...
    @property
    def visits(self) -> VisitRepository: ...
    @property
    def reviews(self) -> ReviewRepository: ...
    @property
    def updates(self) -> UpdateLog: ...
    @property
    def outbox(self) -> Outbox: ...
    @property
    def reachability(self) -> Reachability: ...
    @property
    def audit(self) -> AuditLog: ...
    @property
    def dialogs(self) -> DialogRepository: ...
    @property
    def media(self) -> MediaRepository: ...
    @property
    def stats(self) -> StatsQueries: ...
    @property
    def broadcasts(self) -> BroadcastRepository: ...
    # referrals that hold
    @property
    def referrals(self) -> ReferralRepository: ...

    # group orders
    @property
    def groups(self) -> GroupRepository: ...

    # sharing and regulars
    @property
    def sharing(self) -> SharingRepository: ...

    # suggestions and points
    @property
    def suggestions(self) -> SuggestionRepository: ...
    @property
    def points(self) -> PointsRepository: ...

    # gifts
    @property
    def gifts(self) -> GiftRepository: ...

    # personal data
    @property
    def privacy(self) -> PrivacyRepository: ...

    # abuse limits
    @property
    def limits(self) -> RateLimits: ...

    async def __aenter__(self) -> Self: ...
    async def __aexit__(self, exc_type, exc, tb) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self) -> UnitOfWork: ...


# several instances: the background work that runs once across them, and the send-rate budget they share
class JobLocks(Protocol):
    """Which instance runs a background job now (the outbox relay's round for a subscriber, the expiry sweep,
    the reconcile, the broadcaster): each round is run inside ``async with locks.hold(name) as held:`` and only
    when ``held`` is True; a round already running elsewhere is skipped, not waited for.

    ``every`` (seconds) also skips the round when any instance began one of that job less than that long ago,
    so a periodic job runs about once per period however many instances wake for it. A holder that dies
    (killed, its connection gone) frees the job for another: at once on PostgreSQL, after a lease expires on
    SQLite. The storage implementations keep it in the database (``db.job_locks()``)."""

    def hold(self, name: str, every: float = 0.0) -> AbstractAsyncContextManager[bool]: ...


class ProcessLocks:
    """``JobLocks`` for a process alone (no database at hand: the tests, a relay built by hand): one holder
    per name within this process; ``every`` is kept by this process's clock."""

    def __init__(self) -> None:
        self._held: set[str] = set()
        self._started: dict[str, float] = {}

    @asynccontextmanager
    async def hold(self, name: str, every: float = 0.0) -> AsyncIterator[bool]:
        now = time.monotonic()
        if name in self._held or (every > 0 and now - self._started.get(name, -math.inf) < every):
            yield False
            return
        self._held.add(name)
        self._started[name] = now
        try:
            yield True
        finally:
            self._held.discard(name)


@dataclass(frozen=True, slots=True)
class SendCell:
    """One pace a send must keep, as a cell of the generic cell rate algorithm: sends under ``key`` are due
    ``interval`` seconds apart, and may come up to ``tolerance`` seconds early (a burst of
    ``tolerance / interval + 1``). A bot's overall rate is one cell (tolerance 0), a chat's spacing another."""

    key: str
    interval: float
    tolerance: float = 0.0


class SendBudget(Protocol):
    """A send-rate budget shared by every instance (in PostgreSQL, or Redis): each reservation books the first
    moment all its cells allow one more send, by the budget's own clock, so the instances' clocks do not matter.
    """

    async def reserve(self, cells: Sequence[SendCell]) -> float:
        """Book one send under every cell at once; the seconds to wait before sending (0 when due now)."""
        ...

    async def pause(self, key: str, seconds: float) -> None:
        """The platform said "too many": nothing under ``key`` is due for ``seconds``, for every instance."""
        ...


class Messenger(Protocol):
    """Delivers a reply to one channel account.

    ``key`` names this delivery (e.g. the outbox event it tells of): a channel that de-duplicates sends
    (VK's ``random_id``) uses it so that a retried send is not delivered twice.
    """

    channel: Channel

    async def send(self, to: CustomerRef, reply: Reply, key: str = "") -> None: ...


class MiniApp(Protocol):
    """What the Mini App server needs of a channel: its launch-data check and its way in from a QR code."""

    @property
    def channel(self) -> Channel: ...
    @property
    def scheme(self) -> str:
        """The ``Authorization`` scheme its launch data comes with, e.g. ``tma``."""
        ...

    def check(self, launch: str, now: datetime, max_age: int) -> Launch:
        """The verified account, or ``DomainError(UNAUTHORIZED)`` with the reason as detail."""
        ...

    def landing_link(self, param: str) -> LandingLink | None:
        """The button on the QR landing page that opens the shop in this channel with ``param``."""
        ...

    def public(self) -> dict[str, str | int | None]:
        """What the front end may know before anyone signed in (a bot's username, an app id)."""
        ...


class ChannelAdapter(Protocol):
    """Everything channel-specific behind one object, registered by name in the composition root.

    Inbound updates are translated inside the adapter and handed to the conversation it was built with;
    replies go out through ``messenger``. A channel configured for its Mini App alone has no messenger.
    """

    # read-only, so that an adapter may narrow them (its own messenger class, a tuple of chats)
    @property
    def channel(self) -> Channel: ...
    @property
    def capabilities(self) -> Capabilities: ...
    @property
    def messenger(self) -> Messenger | None: ...
    @property
    def mini_app(self) -> MiniApp | None: ...
    @property
    def staff_chats(self) -> Sequence[CustomerRef]:
        """Where staff hear of new orders (a group chat), besides the Mini App."""
        ...

    def describe(self) -> str:
        """A few words for the start-up line, e.g. ``Telegram @coffee_bot``."""
        ...

    def routes(self) -> Sequence[Route]:
        """Webhook or callback routes to mount on the shared server (none when it polls)."""
        ...

    async def start(self) -> None:
        """Check the credentials and prepare; raises ``ChannelError`` naming what to fix."""
        ...

    async def run(self) -> None:
        """Receive updates until ``stop`` (returns at once when they arrive through ``routes``)."""
        ...

    async def stop(self) -> None:
        """Stop receiving, finish or cancel what is in flight, close connections. Safe to call twice."""
        ...


class QrRenderer(Protocol):
    def png(self, data: str, caption: str = "") -> bytes: ...
    def svg(self, data: str, caption: str = "") -> bytes: ...


class PhotoProcessor(Protocol):
    """Makes an owner's photo into the files the Mini App shows (``adapters/images.py``). CPU work,
    safe to run in a worker thread."""

    def prepare(self, data: bytes) -> dict[str, bytes]:
        """JPEG bytes by width in pixels as text (``"480"``: the menu card, ``"1200"``: the item screen), and
        optionally the same sizes in WebP (``"480.webp"``, ``"1200.webp"``), which the Mini App asks for first.
        Raises ``ValueError`` (``journey.photos.PhotoRefused`` with its reason) for what is not a picture,
        is too small, or too large in bytes or pixels."""
        ...


class StoryRenderer(Protocol):
    """Draws the story picture people share (``adapters/story.py``): a 1080x1920 JPEG; CPU work, safe in a
    worker thread."""

    def story(self, card: StoryCard) -> bytes: ...


class ChatInvitations(Protocol):
    """A channel's way into the regulars' closed chat (journey/regulars.py): an invitation for one person,
    or None when the channel has no such chat configured or cannot make one now."""

    @property
    def personal(self) -> bool:
        """Whether each link lets one person in (Telegram) or is the chat's one link (VK)."""
        ...

    async def invite_link(self, name: str) -> str | None:
        """``name`` says whom it is for; ``ConnectionError`` when the platform could not be asked now."""
        ...


class ChartRenderer(Protocol):
    """Draws the owner's stats picture (``adapters/chart.py``); CPU work, safe to run in a worker thread."""

    def png(self, chart: StatsChart) -> bytes: ...


@dataclass(frozen=True, slots=True)
class PaymentResult:
    """What a provider says of a payment. ``status`` is its state in our terms: ``pending`` (waiting for
    the customer), ``authorized`` (held), ``captured``, ``failed`` (never paid: declined, abandoned),
    ``voided`` (a hold released), ``refunded`` (all of it given back)."""

    status: PaymentStatus
    provider_ref: str = ""  # the provider's id of the payment
    confirmation_url: str | None = None  # where the customer completes an online payment (or the invoice link)
    error: str = ""  # why, when the provider refused; "manual" from refund(): nobody can refund it but the owner
    refunded: int = 0  # minor units refunded so far, as the provider counts them
    amount: int | None = None  # the amount the provider holds or took, when it says


@dataclass(frozen=True, slots=True)
class Checkout:
    """What a provider is told when a payment starts."""

    order: Order
    description: str  # "Заказ 123 — Кофейня": shown on the provider's page
    return_url: str = ""  # where the customer comes back after paying (the Mini App's order screen)
    language: str = "ru"
    email: str = ""  # where a 54-FZ receipt goes, when the shop sends receipts


class PaymentProvider(Protocol):
    """A payment gateway. ``name`` is stored on the intent; ``online`` orders wait hidden from staff until
    paid and expire unpaid; ``two_stage`` providers hold at checkout and capture at hand-over; ``link``
    names what the customer opens: ``confirmation_url`` (a page) or ``invoice_link`` (Telegram's
    ``openInvoice``).

    Every call may raise ``PaymentUnavailable`` when the provider cannot be reached or answers 5xx: nothing
    is known then, and the engine asks again later (reconcile). A retried call must be the same request to
    the provider (YooKassa's ``Idempotence-Key`` from our payment id and the operation)."""

    name: str
    online: bool
    two_stage: bool
    link: str

    @property
    def needs_email(self) -> bool:
        """A receipt goes to the customer's e-mail: the checkout must give one."""
        ...

    async def start(self, intent: PaymentIntent, checkout: Checkout) -> PaymentResult: ...
    async def status(self, intent: PaymentIntent) -> PaymentResult:
        """What the provider says now (a notification's payment fetched again, reconcile); a provider that
        cannot be asked answers the intent's own status."""
        ...
    async def capture(self, intent: PaymentIntent) -> PaymentResult: ...
    async def void(self, intent: PaymentIntent) -> PaymentResult: ...
    async def refund(self, intent: PaymentIntent, amount: Money) -> PaymentResult:
        """Give back ``amount`` of a captured payment: ``refunded`` when all of it is back, ``captured``
        with ``refunded`` counted for a part; ``error="manual"`` when this provider cannot refund."""
        ...


class PaymentUnavailable(Exception):
    """The provider could not be reached or failed (network, 5xx, timeout): the outcome is unknown."""


@dataclass(frozen=True, slots=True)
class StarPayment:
    """A payment in Telegram Stars the bot received, as its transaction list tells it."""

    charge_id: str  # the transaction id: telegram_payment_charge_id
    user_id: int
    payload: str
    amount: int  # Stars
    at: datetime | None = None


class StarsGateway(Protocol):
    """Telegram Stars: invoice links, refunds and the bot's transactions (for reconcile)."""

    async def invoice_link(self, title: str, description: str, payload: str, amount: int) -> str: ...
    async def refund(self, user_id: int, charge_id: str) -> bool:
        """True when refunded now or before; ``PaymentUnavailable`` when Telegram cannot be reached."""
        ...
    async def incoming(self, since: datetime | None) -> list[StarPayment]: ...


# operations: what an operator watches (bot/observability.py keeps it in Prometheus' registry)
class Metrics(Protocol):
    """Operational numbers by name and labels. The names and their label names are fixed by the
    implementation (bot/observability.py lists them); a name it does not know is a bug and raises."""

    def count(self, name: str, amount: float = 1.0, **labels: str) -> None:
        """Add to a counter: something happened ``amount`` times."""
        ...

    def observe(self, name: str, value: float, **labels: str) -> None:
        """Record one measurement (e.g. the seconds a request took)."""
        ...

    def set(self, name: str, value: float, **labels: str) -> None:
        """Set a gauge to what it is now."""
        ...


class NoMetrics:
    """The engine's default: counts nothing (tests, commands other than ``vitrina run``)."""

    def count(self, name: str, amount: float = 1.0, **labels: str) -> None:
        pass

    def observe(self, name: str, value: float, **labels: str) -> None:
        pass

    def set(self, name: str, value: float, **labels: str) -> None:
        pass

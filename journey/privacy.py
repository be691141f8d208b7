"""Personal data (152-FZ): consent to processing, export of everything kept about a person, forgetting them,
and anonymizing customers inactive for the retention period.

A person is a customer and every customer merged into it (linked accounts): consent, export and forget all
take the whole person. What each table holds and what forgetting does to it is listed once, in
``PERSONAL_DATA``; both storage backends read it, and a test compares it to the schema so that a new table
naming a customer or an account cannot be added without deciding its treatment.

Forgetting keeps what accounting needs (orders with their lines, amounts and dates, payments, the points
ledger, points packs, gifts paid, referral rewards): those rows stay, attached to the customer's id, whose
row becomes an anonymous tombstone (no name, source, language, referral code, no accounts). Everything
that names or reaches the person is deleted or blanked: accounts, staff rights of those accounts, link
codes, consents, birthdays, habits, dialogs, unreachable marks, review texts, gift messages, names and
chat ids copied into gifts, group orders and outbox events. Open orders are cancelled first through the
order state machine (stock and points back, an online payment released or refunded; an order already made
expires), and the open group orders the person organises are cancelled, so nobody waits for them.
"""
from __future__ import annotations

import contextlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import TYPE_CHECKING, Any

from .channels import CustomerRef
from .errors import DomainError, ErrorCode
from .events import DomainEvent, EventType
from .model import Consent, Customer
from .ports import UnitOfWork

if TYPE_CHECKING:
    from .engine import Engine

__all__ = ["NOW", "PERSONAL_DATA", "Consent", "Expr", "Keyed", "PersonalTable", "Treatment", "anonymize_inactive",
           "consent", "export_data", "forget", "give_consent", "needs_consent"]

log = logging.getLogger(__name__)

EXPORT_FORMAT = "vitrina.personal-data/1"
INACTIVE_BATCH = 200  # customers anonymized per round of the retention job


class Keyed(str, Enum):
    """How a table's rows belong to a person."""

    CUSTOMER = "customer"  # the column holds one of the person's customer ids
    ACCOUNT = "account"  # the column holds one of their accounts as "channel:id"
    EXTERNAL = "external"  # the columns (channel, external id) are one of their accounts
    ORDER = "order"  # the column holds the id of one of the person's orders
    UPDATE = "update"  # processed updates whose id carries a chat id ("m<chat>:<message>")
    EVENT = "event"  # outbox events whose JSON names the person


class Expr(str):
    """A scrubbed column's new value as an SQL expression both backends accept (over the row's own columns)."""


NOW = Expr("<now>")  # the time of forgetting


class Treatment(str, Enum):
    DELETE = "delete"  # the rows go
    SCRUB = "scrub"  # the rows stay (accounting, other people's records); the listed columns are blanked
    KEEP = "keep"  # the rows stay as they are: they point only at the tombstone's id (amounts, dates, items)


@dataclass(frozen=True, slots=True)
class PersonalTable:
    """One way a table holds a person's data, and what forgetting does to those rows."""

    table: str
    keyed: Keyed
    columns: tuple[str, ...]  # the key column(s); for EXTERNAL (channel, external id)
    treatment: Treatment
    scrub: Mapping[str, object] = field(default_factory=dict)  # column -> the value (or ``Expr``) it is set to
    where: str = ""  # further condition in SQL both backends accept (forget only)
    why: str = ""


_C, _A, _E, _O = Keyed.CUSTOMER, Keyed.ACCOUNT, Keyed.EXTERNAL, Keyed.ORDER
_DEL, _SCRUB, _KEEP = Treatment.DELETE, Treatment.SCRUB, Treatment.KEEP

PERSONAL_DATA: tuple[PersonalTable, ...] = (
    PersonalTable("customers", _C, ("id",), _SCRUB,
                  {"name": "", "language": "ru", "source": "", "consent": 0, "referred_by": None,
                   "referral_code": Expr("'forgotten-' || id"), "seen_at": None, "forgotten_at": NOW},
                  why="a tombstone: orders and ledger rows point at it; no messages (consent 0), no referral code"),
    PersonalTable("accounts", _C, ("customer_id",), _DEL, why="the accounts are the person"),
    PersonalTable("consents", _C, ("customer_id",), _DEL, why="withdrawn with the rest"),
    PersonalTable("link_codes", _C, ("customer_id",), _DEL),
    PersonalTable("link_failures", _A, ("account",), _DEL),
    PersonalTable("unreachable_accounts", _A, ("account",), _DEL),
    PersonalTable("dialogs", _A, ("account",), _DEL),
    PersonalTable("staff", _E, ("channel", "external_id"), _DEL,
                  why="a staff member who asks to be forgotten is no longer staff"),
    PersonalTable("broadcast_recipients", _E, ("channel", "external_id"), _DEL),
    PersonalTable("broadcasts", _A, ("author",), _SCRUB, {"author": ""}, why="the owner's text is the shop's"),
    PersonalTable("audit_log", _A, ("actor",), _SCRUB, {"actor": ""}, why="the shop's changes stay, not who"),
    PersonalTable("orders", _C, ("customer_id",), _SCRUB, {"account": ""},
                  why="accounting: lines, amounts, dates stay"),
    PersonalTable("order_history", _O, ("order_id",), _KEEP, why="accounting: when each status was reached"),
    PersonalTable("payments", _O, ("order_id",), _SCRUB,
                  {"link": "", "idempotency_key": Expr("'forgotten:' || id")},
                  why="accounting; the idempotency key is redrawn (it names the account)"),
    PersonalTable("ledger", _C, ("customer_id",), _KEEP, why="accounting: points amounts and dates"),
    PersonalTable("balances", _C, ("customer_id",), _KEEP, why="the sum of the ledger's rows, which stay"),
    PersonalTable("promo_uses", _C, ("customer_id",), _KEEP, why="the promo code's uses count"),
    PersonalTable("pack_purchases", _C, ("customer_id",), _SCRUB, {"account": ""},
                  why="accounting: Stars paid; no refund can reach the person any more"),
    PersonalTable("visits", _C, ("customer_id",), _SCRUB, {"customer_id": None},
                  why="the shop's visit counts stay, not whose"),
    PersonalTable("reviews", _C, ("customer_id",), _SCRUB, {"text": "", "author": ""},
                  why="the rating counts in the item's average; the words and the name go"),
    PersonalTable("referrals", _C, ("invitee_id",), _SCRUB, {"code": ""}, why="the points it paid are accounted"),
    PersonalTable("referrals", _C, ("referrer_id",), _SCRUB, {"code": ""}),
    PersonalTable("gifts", _C, ("giver_id",), _SCRUB,
                  {"giver_external": "", "giver_name": "", "message": ""}, why="accounting: a gift paid"),
    PersonalTable("gifts", _C, ("friend_id",), _SCRUB, {"friend_external": "", "friend_name": ""}),
    PersonalTable("group_orders", _C, ("organiser_id",), _SCRUB,
                  {"organiser_external": "", "organiser_name": "", "email": "", "return_url": ""},
                  why="other members' orders name it"),
    PersonalTable("group_members", _C, ("customer_id",), _DEL,
                  where="group_id IN (SELECT id FROM group_orders WHERE status = 'open')",
                  why="lines in a group still open leave it"),
    PersonalTable("group_members", _C, ("customer_id",), _SCRUB, {"external_id": "", "name": ""}),
    PersonalTable("shares", _C, ("customer_id",), _KEEP, why="the shop's share counts"),
    PersonalTable("regulars", _C, ("customer_id",), _DEL),
    PersonalTable("usual_lines", _C, ("customer_id",), _DEL, why="habits are a profile"),
    PersonalTable("customer_spend", _C, ("customer_id",), _DEL, why="a profile; the orders keep the amounts"),
    PersonalTable("birthdays", _C, ("customer_id",), _DEL),
    PersonalTable("birthday_uses", _C, ("customer_id",), _DEL, why="they tell the birthday"),
    PersonalTable("birthday_greetings", _C, ("customer_id",), _DEL, why="they tell the birthday"),
    PersonalTable("processed_updates", Keyed.UPDATE, ("channel", "update_id"), _DEL,
                  why="a message's update id carries its chat id"),
    PersonalTable("outbox", Keyed.EVENT, ("data",), _SCRUB,
                  why="accounts, names, texts and e-mails in events naming the person are blanked"),
)

# tables with a column that could name a person but does not: what they are (the schema test reads this)
NOT_PERSONAL: Mapping[str, str] = {
    "outbox_handled": "which subscriber handled which event",
    "outbox_failures": "a subscriber's delivery attempts of an event (the event itself is scrubbed)",
    "outbox_cursors": "how far each subscriber has read",
    "promos": "once_per_customer is the promo code's rule, not a person",
}

# keys whose values in an event naming the person are blanked (besides their accounts, wherever they occur)
EVENT_PERSONAL_KEYS = frozenset({"name", "author", "text", "message", "email", "giver_name", "friend_name",
                                 "organiser_name", "external_id", "giver_external", "friend_external",
                                 "organiser_external", "return_url"})


# --- consent -------------------------------------------------------------------------------------------------

async def consent(self: Engine, ref: CustomerRef) -> Consent | None:
    """The latest consent of the person behind this account (across linked accounts), or None."""
    async with self.read() as uow:
        customer = await uow.customers.by_account(ref.channel, ref.external_id)
        return await uow.privacy.consent(customer.id) if customer is not None else None


async def give_consent(self: Engine, ref: CustomerRef, version: str) -> Consent:
    """Record the person's consent to the current policy, with the time and the channel it was given in.
    Refused (``consent_version_stale``) for any version but ``consent_version``: the text they read is not
    the one in force."""
    if self.consent_version is None or version != self.consent_version:
        raise DomainError(ErrorCode.CONSENT_VERSION_STALE, f"version {version!r}")
    from .customers import find_or_create

    now = self.now()
    given = Consent(version, now, ref.channel.value)
    async with self.uow() as uow:
        customer = await find_or_create(self, uow, ref)
        await uow.privacy.add_consent(customer.id, given)
        await uow.privacy.touch(customer.id, now)
        await self.emit(uow, DomainEvent(EventType.CONSENT_GIVEN, {
            "customer_id": customer.id, "version": version, "channel": ref.channel.value}, now))
    return given


async def needs_consent(self: Engine, ref: CustomerRef) -> bool:
    """True when the shop asks for consent (``consent_version``) and the person has none to that version."""
    if self.consent_version is None:
        return False
    given = await consent(self, ref)
    return given is None or given.version != self.consent_version


async def require_consent(engine: Engine, ref: CustomerRef) -> None:
    """For the use cases that create orders or purchases: refused with ``consent_required`` when needed."""
    if await needs_consent(engine, ref):
        raise DomainError(ErrorCode.CONSENT_REQUIRED)


async def admit(engine: Engine, uow: UnitOfWork, ref: CustomerRef, customer: Customer, *, ask: bool) -> None:
    """In an order's unit of work, once its customer is found: hold the person (on PostgreSQL the row lock a
    forget takes too, so a forget and an order of one person go one after the other, never across: the forget
    then cancels the order, or the order finds the account gone), and refuse with ``consent_required`` when
    the account was forgotten meanwhile or, with ``ask``, the person has not consented to the current policy.
    Checked here rather than before the unit of work, where a forget could come in between."""
    if not await uow.privacy.hold(customer.id, ref.channel, ref.external_id):
        raise DomainError(ErrorCode.CONSENT_REQUIRED, "forgotten meanwhile")
    if ask and engine.consent_version is not None:
        given = await uow.privacy.consent(customer.id)
        if given is None or given.version != engine.consent_version:
            raise DomainError(ErrorCode.CONSENT_REQUIRED)


async def seen(engine: Engine, uow: UnitOfWork, customer_id: str) -> bool:
    """Whether the customer's "last seen" is older than a day (then ``touch`` it): one small write a day at
    most, for the retention period."""
    last = await uow.privacy.seen(customer_id)
    return last is None or engine.now() - last >= timedelta(days=1)


# --- export --------------------------------------------------------------------------------------------------

async def export_data(self: Engine, ref: CustomerRef) -> dict[str, Any]:
    """Everything kept about the person behind this account, ready for ``json.dumps``: their customer row
    and accounts, consents, orders with their lines, payments and history, the points ledger, and every other
    table of ``PERSONAL_DATA`` (money in minor units beside its currency, times as ISO-8601 text). An
    account the shop does not know gets an export with nothing in it."""
    now = self.now()
    async with self.read() as uow:
        customer = await uow.customers.by_account(ref.channel, ref.external_id)
        if customer is None:
            return {"format": EXPORT_FORMAT, "exported_at": _iso(now), "customer": None, "accounts": [],
                    "consents": [], "orders": [], "data": {}}
        person = await uow.privacy.person(customer.id)
        accounts = [f"{a.channel.value}:{a.external_id}" for a in await uow.customers.accounts(customer.id)]
        tables = await uow.privacy.export(person, accounts)
        balance = await uow.loyalty.balance(customer.id)
    rows = {name: [_json_ready(r) for r in found] for name, found in tables.items()}
    payments = _by(rows.pop("payments", []), "order_id")
    history = _by(rows.pop("order_history", []), "order_id")
    orders = [{**o, "payments": payments.get(str(o["id"]), []), "history": history.get(str(o["id"]), [])}
              for o in rows.pop("orders", [])]
    customers = rows.pop("customers", [])
    main = next((c for c in customers if c.get("id") == customer.id), None)
    return {
        "format": EXPORT_FORMAT,
        "exported_at": _iso(now),
        "customer": main,
        "merged_customers": [c for c in customers if c.get("id") != customer.id],
        "accounts": rows.pop("accounts", []),
        "consents": rows.pop("consents", []),
        "orders": orders,
        "points": {"balance": balance, "ledger": rows.pop("ledger", [])},
        "data": rows,  # every other table, by name
    }


def _by(rows: list[dict[str, Any]], key: str) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        grouped.setdefault(str(r.get(key)), []).append(r)
    return grouped


def _iso(value: datetime) -> str:
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC).isoformat()


def _json_ready(value: Any) -> Any:
    """str, int, bool, None, lists and dicts only: a time as ISO text, bytes and floats as text."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, datetime):
        return _iso(value)
    if isinstance(value, float):
        return int(value) if value.is_integer() else repr(value)
    if isinstance(value, Mapping):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(v) for v in value]
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    return str(value)


# --- forget --------------------------------------------------------------------------------------------------

async def forget(self: Engine, ref: CustomerRef) -> None:
    """Delete the person behind this account: their profile and every linked account go, open orders are
    cancelled first, and what accounting keeps is anonymized (see the module's text). An account the shop
    does not know (or one forgotten already) is nothing to do. The same account writing again afterwards is
    a new customer with nothing."""
    async with self.read() as uow:
        customer = await uow.customers.by_account(ref.channel, ref.external_id)
    if customer is not None:
        await _forget(self, customer.id, "request")


async def _forget(engine: Engine, customer_id: str, reason: str) -> bool:
    from . import groups, ordering, paying
    from .group_model import GroupStatus
    from .states import OrderStatus

    # a group closed but not ordered yet (a crash came between) is ordered first, as it would be anyway: its
    # orders are placed from the members' accounts, which are about to go
    async with engine.read() as uow:
        closing = await uow.privacy.closing_groups(await uow.privacy.person(customer_id))
    for group_id in closing:
        with contextlib.suppress(DomainError):  # finished meanwhile, or refused: it is not theirs to decide
            await groups._finish(engine, group_id)
    closed: list[str] = []
    async with engine.uow() as uow:
        if await uow.customers.get(customer_id) is None:
            return False
        person = await uow.privacy.person(customer_id)
        accounts = [f"{a.channel.value}:{a.external_id}" for a in await uow.customers.accounts(customer_id)]
        now = engine.now()
        for order_id in await uow.privacy.open_orders(person):
            order = await uow.orders.get(order_id)
            if order is None or not order.status.is_open:
                continue
            # through the state machine: made already (ready) expires, anything before it is cancelled
            target = OrderStatus.EXPIRED if order.status is OrderStatus.READY else OrderStatus.CANCELLED
            await ordering._close(engine, uow, order, target, now, "forgotten")
            closed.append(order.id)
        for group_id in await uow.privacy.open_groups(person):
            group = await uow.groups.get(group_id)
            if group is not None and group.status is GroupStatus.OPEN:
                await groups._end(engine, uow, group, GroupStatus.CANCELLED, "forgotten")
        await uow.privacy.forget(person, accounts, now)
        await engine.emit(uow, DomainEvent(EventType.CUSTOMER_FORGOTTEN, {
            "customer_id": customer_id, "reason": reason, "orders_closed": len(closed)}, now))
    for order_id in closed:  # outside the unit of work: a held payment released, a captured one refunded
        await paying.give_back(engine, order_id)
    return True


async def anonymize_inactive(self: Engine, older_than: timedelta) -> int:
    """Anonymize, like ``forget``, every customer with nothing for ``older_than``: not seen in the chat or the
    Mini App, no order placed or changed, no visit, no points moved. Staff and owners are left alone.
    Returns how many were anonymized."""
    if older_than <= timedelta(0):
        raise DomainError(ErrorCode.BAD_INPUT, "the inactivity period must be positive")
    before = self.now() - older_than
    done = 0
    while True:
        async with self.read() as uow:
            found = await uow.privacy.inactive(before, INACTIVE_BATCH)
            candidates = []
            for customer_id in found:
                accounts = await uow.customers.accounts(customer_id)
                if not any(self.is_owner(CustomerRef(a.channel, a.external_id)) for a in accounts):
                    candidates.append(customer_id)
        for customer_id in candidates:
            if await _forget(self, customer_id, "inactive"):
                done += 1
        if len(found) < INACTIVE_BATCH or not candidates:
            return done

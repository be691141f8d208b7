"""Column lists and conversions between rows and the journey's dataclasses, shared by both backends (the same
columns and representations: times as ISO text in UTC, JSON as text, flags as 0/1), and the few SQL expressions
written alike on both. A row is a tuple (SQLite) or an asyncpg Record: both index and unpack alike. SQL that
differs by placeholders or functions stays in its backend."""
from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from journey.audit import Change
from journey.broadcasts import Broadcast, BroadcastStatus
from journey.catalog import Item, OpeningHours, Option, OptionGroup, PickupPoint
from journey.channels import Channel
from journey.deeplinks import SHARE_VIAS
from journey.dialogs import Dialog
from journey.events import DomainEvent, EventType
from journey.gift_model import Gift, GiftStatus
from journey.gift_model import account_of as gift_account
from journey.group_model import Group, GroupMember, GroupStatus, Payer
from journey.group_model import account_of as group_account
from journey.model import CartLine, Customer, Order, OrderLine, PaymentIntent, Promo, PromoKind
from journey.money import Money
from journey.referrals import Referral, ReferralStatus
from journey.states import OrderStatus, PaymentStatus
from journey.stats import POOLED

# Times ---------------------------------------------------------------------------------------------------------

def ts(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def dt(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def at(value: str) -> datetime:
    """A ``NOT NULL`` time column."""
    return datetime.fromisoformat(value)


# Catalog, customers, orders, payments, promos ------------------------------------------------------------------

def groups_to_json(groups: tuple[OptionGroup, ...]) -> str:
    return json.dumps([
        {"id": g.id, "name": g.name, "required": g.required, "multiple": g.multiple,
         "options": [[o.id, o.name, o.price_delta] for o in g.options]}
        for g in groups
    ], ensure_ascii=False, separators=(",", ":"))


def groups_from_json(text: str) -> tuple[OptionGroup, ...]:
    return tuple(
        OptionGroup(g["id"], g["name"], tuple(Option(*o) for o in g["options"]), g["required"], g["multiple"])
        for g in json.loads(text)
    )


ITEM_COLUMNS = "id, category_id, name, description, photo, price, currency, option_groups, tags, available, position"


def item(row: tuple) -> Item:
    (id_, category_id, name, description, photo, price, currency, groups, tags, available, position) = row
    return Item(id_, category_id, name, Money(price, currency), description, photo,
                groups_from_json(groups), tuple(json.loads(tags)), bool(available), position)


POINT_COLUMNS = "id, name, address, lat, lon, hours, prep_minutes"


def point(row: tuple) -> PickupPoint:
    id_, name, address, lat, lon, hours, prep = row
    return PickupPoint(id_, name, address, lat, lon, OpeningHours.parse(hours), prep)


CUSTOMER_COLUMNS = "id, name, language, source, consent, referral_code, referred_by, created_at"


def customer(row: tuple) -> Customer:
    id_, name, language, source, consent, referral, referred_by, created = row
    return Customer(id_, name, language, source, bool(consent), referral, referred_by, dt(created))


ORDER_COLUMNS = ("id, customer_id, point_id, status, lines, currency, subtotal, discount, points_spent, total,"
                 " promo_code, source, payment_provider, account, short_code, pickup_at, created_at, updated_at")


# the predicate of the unique index of open orders' short codes (migrations), written as it is there: SQLite
# matches an upsert's conflict target to a partial index by the text of its WHERE
OPEN_SHORT_CODES = "status IN ('placed', 'accepted', 'ready')"


def lines_to_json(lines: tuple[OrderLine, ...]) -> str:
    return json.dumps([
        {"item": l.item_id, "name": l.name, "options": list(l.options),
         "option_ids": {k: list(v) for k, v in l.option_ids.items()}, "qty": l.quantity,
         "price": l.unit_price.amount}
        for l in lines
    ], ensure_ascii=False, separators=(",", ":"))


def order(row: tuple) -> Order:
    (id_, customer_id, point_id, status, lines, currency, subtotal, discount, points, total, promo, source,
     provider, account, short_code, pickup_at, created, updated) = row
    parsed = tuple(
        OrderLine(l["item"], l["name"], tuple(l["options"]), {k: tuple(v) for k, v in l["option_ids"].items()},
                  l["qty"], Money(l["price"], currency))
        for l in json.loads(lines)
    )
    return Order(id_, customer_id, point_id, OrderStatus(status), parsed, Money(subtotal, currency),
                 Money(discount, currency), points, Money(total, currency), at(pickup_at), short_code,
                 at(created), at(updated), promo, source, provider, account)


def history_from_json(text: str | None) -> list[tuple[OrderStatus, datetime]]:
    """An order's history read beside its row as a JSON array of ``[status, at]`` (NULL: none)."""
    return [(OrderStatus(s), at(t)) for s, t in json.loads(text)] if text else []


PAYMENT_COLUMNS = ("id, order_id, provider, amount, currency, status, idempotency_key, provider_ref, created_at,"
                   " updated_at, link, refunded, charge_id, provider_charge_id, manual_refund, settled")


def payment(row: tuple) -> PaymentIntent:
    (id_, order_id, provider, amount, currency, status, key, ref, created, updated, link, refunded, charge_id,
     provider_charge_id, manual_refund, settled) = row
    return PaymentIntent(id_, order_id, provider, Money(amount, currency), PaymentStatus(status), key, ref,
                         dt(created), dt(updated), link, refunded, charge_id, provider_charge_id, manual_refund,
                         bool(settled))


PROMO_COLUMNS = "code, kind, value, expires_at, max_uses, used, once_per_customer, active"


def promo(row: tuple) -> Promo:
    code, kind, value, expires, max_uses, used, once, active = row
    return Promo(code, PromoKind(kind), value, dt(expires), max_uses, used, bool(once), bool(active))


def channel(value: str) -> Channel:
    return Channel(value)


# Broadcasts ---------------------------------------------------------------------------------------------------

BROADCAST_COLUMNS = "id, status, text, author, language, channels, created_at, started_at, finished_at, reported"


def broadcast(r: Any) -> Broadcast:  # a row: a tuple or an asyncpg Record
    return Broadcast(r[0], BroadcastStatus(r[1]), r[2], r[3], r[4], tuple(c for c in r[5].split(",") if c), at(r[6]),
                     dt(r[7]), dt(r[8]), r[9])


# Gifts --------------------------------------------------------------------------------------------------------

GIFT_COLUMNS = ("id, code, giver_id, giver_channel, giver_external, giver_name, giver_language, item_id, title,"
                " amount, currency, message, provider, status, created_at, updated_at, expires_at, friend_id,"
                " friend_channel, friend_external, friend_name, friend_language, order_id, reason")


def gift(r: Any) -> Gift:
    friend = gift_account(r[18], r[19], r[20] or "", r[21] or "ru") if r[18] else None
    return Gift(r[0], r[1], r[2], gift_account(r[3], r[4], r[5], r[6]), r[7], r[8], Money(r[9], r[10]), r[11],
                r[12], GiftStatus(r[13]), at(r[14]), at(r[15]), dt(r[16]), r[17], friend, r[22], r[23])



def gift_friend(g: Gift) -> tuple[str | None, str | None, str | None, str | None, str | None]:
    """The friend's columns of a gift: friend_id, friend_channel, friend_external, friend_name, friend_language."""
    f = g.friend
    if f is None:
        return g.friend_id, None, None, None, None
    return g.friend_id, f.channel.value, f.external_id, f.name, f.language


# Group orders -------------------------------------------------------------------------------------------------

GROUP_COLUMNS = ("id, code, organiser_id, organiser_channel, organiser_external, organiser_name,"
                 " organiser_language, point_id, pickup_at, payer, payment, min_people, percent, status, created_at,"
                 " closes_at, closed_at, reason, discounted, email, return_url, order_id")
GROUP_MEMBER_COLUMNS = "group_id, customer_id, channel, external_id, name, language, lines, joined_at, order_id"


def group(r: Any) -> Group:
    return Group(r[0], r[1], r[2], group_account(r[3], r[4], r[5], r[6]), r[7], dt(r[8]), Payer(r[9]), r[10],
                 r[11], r[12], GroupStatus(r[13]), at(r[14]), at(r[15]), dt(r[16]), r[17], bool(r[18]), r[19],
                 r[20], r[21])


def cart_lines_to_json(lines: Sequence[CartLine]) -> str:
    return json.dumps([{"item": l.item_id, "quantity": l.quantity,
                        "options": {g: list(o) for g, o in l.options.items()}} for l in lines],
                      ensure_ascii=False, separators=(",", ":"))


def cart_lines(text: str) -> tuple[CartLine, ...]:
    return tuple(CartLine(l["item"], l["quantity"], {g: tuple(o) for g, o in l["options"].items()})
                 for l in json.loads(text))


def group_member(r: Any) -> GroupMember:
    return GroupMember(r[0], r[1], group_account(r[2], r[3], r[4], r[5]), cart_lines(r[6]), at(r[7]), r[8])


# Audit log and dialogs ----------------------------------------------------------------------------------------

AUDIT_COLUMNS = "id, at, actor, action, target, before, after, undone"


def json_or_none(value: object) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def change(i: int, when: str, actor: str, action: str, target: str, before: str | None, after: str | None,
           undone: int) -> Change:
    return Change(actor, action, target, None if before is None else json.loads(before),
                  None if after is None else json.loads(after), at(when), i, bool(undone))


DIALOG_COLUMNS = "account, kind, state, updated_at"


def dialog(r: Any) -> Dialog:
    return Dialog(r[0], r[1], json.loads(r[2]), at(r[3]))


# Outbox -------------------------------------------------------------------------------------------------------

def event(i: int, t: str, d: str, created: str) -> DomainEvent:
    return DomainEvent(EventType(t), json.loads(d), dt(created), i)


# Referrals ----------------------------------------------------------------------------------------------------

REFERRAL_COLUMNS = ("id, invitee_id, referrer_id, code, status, order_id, invitee_points, referrer_points,"
                    " created_at, updated_at, rewarded_at")


def referral(r: Any) -> Referral:
    return Referral(r[0], r[1], r[2], r[3], ReferralStatus(r[4]), at(r[8]), at(r[9]), r[5], r[6], r[7], dt(r[10]))


# SQL expressions written alike on both backends (no placeholders) ----------------------------------------------

# the tag of a shared link, read from the visit's parameter r<code>-<via> (codes are alphanumeric)
SHARE_VIA = "CASE " + " ".join(f"WHEN param LIKE '%-{via}' THEN '{via}'" for via in SHARE_VIAS) + " END"
POOLED_KINDS = ", ".join(f"'{kind}'" for kind in POOLED)
# an order's source label pooled like its visit's (``stats.source_group`` does the rest)
ORDER_SOURCE = "CASE " + " ".join(f"WHEN substr(o.source, 1, {len(name) + 1}) = '{name}:' THEN '{name}'"
                                  for name in POOLED.values()) + " ELSE o.source END"

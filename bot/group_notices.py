"""What members of a group order are told in the chat (journey/groups.py's events).

The organiser hears who joined; when the group is ordered everyone hears their order (or, when the
organiser pays all, that the organiser's order carries their lines), the discount, the point and the
time; a group called off or closed empty is told too. Each message has a button into the Mini App's
group screen (the ``j<code>`` start parameter), where the member's order is linked.
"""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from journey.channels import Button, CustomerRef, Reply, Text
from journey.errors import ErrorCode
from journey.events import DomainEvent, EventType

from .texts import add_texts, t

if TYPE_CHECKING:
    from .notifications import Notifier

Replies = list[tuple[CustomerRef, Reply]]

add_texts({
    "gn_joined": ("{name} в вашем групповом заказе: {n} из {m}.", "{name} joined your group order: {n} of {m}."),
    "gn_reached": ("{name} в вашем групповом заказе: {n} из {m} — скидка {p}% для всех!",
                   "{name} joined your group order: {n} of {m} — {p}% off for everyone!"),
    "gn_discount": ("скидка {p}% для всех", "{p}% off for everyone"),
    "gn_no_discount": ("без скидки: собралось {n} из {m}", "no discount: {n} of {m} joined"),
    "gn_ordered_own": ("Групповой заказ оформлен, {discount}. Ваш заказ № {code}: {point}, к {time}, оплата на кассе.",
                       "The group order is placed, {discount}. Your order No. {code}: {point}, by {time}, "
                       "paid at the counter."),
    "gn_ordered_all": ("Групповой заказ оформлен, {discount}: один заказ № {code} на всех, {point}, к {time}. "
                       "Платите вы.", "The group order is placed, {discount}: one order No. {code} for everyone, "
                       "{point}, by {time}. You pay."),
    "gn_ordered_friend": ("Групповой заказ оформлен, {discount}: ваши позиции в заказе № {code}, {point}, к {time}. "
                          "Платит организатор.", "The group order is placed, {discount}: your items are in order "
                          "No. {code}, {point}, by {time}. The organiser pays."),
    "gn_refused": ("Ваш заказ в групповом заказе не оформлен: {reason}", "Your order in the group order was not "
                   "placed: {reason}"),
    "gn_cancelled": ("Групповой заказ отменён организатором.", "The group order was called off by its organiser."),
    "gn_failed": ("Групповой заказ не оформлен: {reason}", "The group order could not be placed: {reason}"),
    "gn_expired": ("Групповой заказ закрыт: никто не добавил позиций.",
                   "The group order closed: nobody added anything."),
    "gn_open": ("Открыть групповой заказ", "Open the group order"),
})


def _button(lang: str, code: str) -> tuple[tuple[Button, ...], ...]:
    return ((Button(t(lang, "gn_open"), mini_app=f"j{code}"),),)


def _reason(lang: str, code: str) -> str:
    try:
        return ErrorCode(code).message(lang)
    except ValueError:
        return code


async def joined(notifier: Notifier, event: DomainEvent) -> Replies:
    d = event.data
    if d.get("replaced") or d.get("customer_id") == d["organiser_id"]:
        return []  # the organiser's own lines, or a friend changing theirs: nothing new to tell
    who = await notifier.engine.recipient(d["organiser_id"], d["account"])
    if who is None:
        return []
    reached = d["members"] >= d["min_people"]
    name = (d.get("name") or "").split(" ")[0] or "—"
    text = t(who.language, "gn_reached" if reached else "gn_joined", name=name, n=d["members"], m=d["min_people"],
             p=d["percent"])
    return [(who.to, Text(text, _button(who.language, d["code"])))]


async def ordered(notifier: Notifier, event: DomainEvent) -> Replies:
    d = event.data
    point, zone = await notifier._point_and_zone(d["point_id"])
    at = datetime.fromisoformat(d["pickup_at"]).astimezone(zone).strftime("%H:%M") if d.get("pickup_at") else "—"
    replies: Replies = []
    for told in d.get("told", []):
        who = await notifier.engine.recipient(told["customer_id"], told["account"])
        if who is None:
            continue
        lang = who.language
        discount = (t(lang, "gn_discount", p=d["percent"]) if d.get("discounted")
                    else t(lang, "gn_no_discount", n=d["members"], m=d["min_people"]))
        key = ("gn_ordered_own" if d["payer"] == "each" else
               "gn_ordered_all" if told["customer_id"] == d["organiser_id"] else "gn_ordered_friend")
        text = t(lang, key, discount=discount, code=told["short_code"], point=point, time=at)
        replies.append((who.to, Text(text, _button(lang, d["code"]))))
    for refused in d.get("refused", []):
        who = await notifier.engine.recipient(refused["customer_id"], refused["account"])
        if who is not None:
            replies.append((who.to, Text(t(who.language, "gn_refused", reason=_reason(who.language, refused["error"])),
                                         _button(who.language, d["code"]))))
    return replies


async def ended(notifier: Notifier, event: DomainEvent) -> Replies:
    d = event.data
    reason = d.get("reason", "")
    people = {(m["customer_id"], m["account"]) for m in d.get("members", [])} | {(d["organiser_id"], d["account"])}
    replies: Replies = []
    for customer_id, account in sorted(people):
        who = await notifier.engine.recipient(customer_id, account)
        if who is None:
            continue
        lang = who.language
        text = (t(lang, "gn_expired") if event.type is EventType.GROUP_EXPIRED else
                t(lang, "gn_cancelled") if reason == "organiser" else
                t(lang, "gn_failed", reason=_reason(lang, reason)))
        replies.append((who.to, Text(text)))
    return replies


BUILDERS = {
    EventType.GROUP_JOINED: joined,
    EventType.GROUP_ORDERED: ordered,
    EventType.GROUP_CANCELLED: ended,
    EventType.GROUP_EXPIRED: ended,
}

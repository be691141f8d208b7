"""What a gift's giver and friend are told in the chat (journey/gifts.py's events).

The giver hears that the gift is paid, with its link to send and a button into the Mini App's gift
screen; then that the friend took it and that it was picked up. When it expires both hear it, and the
giver hears that the money is back; when no provider can refund it, every owner is told to refund by
hand, with the amount and the charge.
"""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from journey.channels import Button, CustomerRef, Reply, Text
from journey.events import DomainEvent, EventType
from journey.money import Money

from .texts import add_texts, t

if TYPE_CHECKING:
    from .notifications import Notifier

Replies = list[tuple[CustomerRef, Reply]]

add_texts({
    "gift_n_active": ("🎁 Подарок оплачен: {what}. Отправьте другу ссылку — забрать его можно в Telegram, ВКонтакте "
                      "или в браузере до {until}:\n{link}",
                      "🎁 Your gift is paid: {what}. Send your friend the link — it can be picked up in Telegram, VK "
                      "or the browser until {until}:\n{link}"),
    "gift_n_claimed": ("🎁 {name} принял(а) ваш подарок: {what}.", "🎁 {name} took your gift: {what}."),
    "gift_n_redeemed": ("🎁 Ваш подарок получен: {what}. Спасибо!", "🎁 Your gift was picked up: {what}. Thank you!"),
    "gift_n_expired_giver": ("Подарок ({what}) никто не забрал вовремя: срок истёк, деньги вернутся вам.",
                             "Nobody picked up your gift ({what}) in time: it has expired and the money comes back "
                             "to you."),
    "gift_n_expired_friend": ("Подарок от {name} ({what}) истёк: его срок прошёл.",
                              "The gift from {name} ({what}) has expired."),
    "gift_n_refunded": ("Деньги за подарок возвращены: {amount}. Банк зачислит их в течение нескольких дней.",
                        "The money for your gift is refunded: {amount}. The bank credits it within a few days."),
    "gift_n_refund_manual": ("Верните деньги вручную: {amount} за подарок {code} ({provider}, платёж {charge}). "
                             "Автоматический возврат через этого провайдера невозможен.",
                             "Refund by hand: {amount} for gift {code} ({provider}, charge {charge}). This provider "
                             "cannot refund automatically."),
    "gift_n_failed": ("Подарок не оплачен: оплата не прошла, деньги не списаны.",
                      "The gift is not paid: the payment did not go through, nothing was taken."),
    "gift_n_open": ("Открыть подарок", "Open the gift"),
    "gift_amount": ("подарок на {amount}", "a gift of {amount}"),
})


def what(lang: str, d: dict) -> str:
    """The item given, or "a gift of 500 ₽"."""
    return d.get("title") or t(lang, "gift_amount", amount=Money(int(d["total"]), d["currency"]).format())


def _button(lang: str, code: str) -> tuple[tuple[Button, ...], ...]:
    return ((Button(t(lang, "gift_n_open"), mini_app=f"g{code}"),),)


async def active(notifier: Notifier, event: DomainEvent) -> Replies:
    d = event.data
    who = await notifier.engine.recipient(d["customer_id"], d["account"])
    if who is None:
        return []
    zone = (await notifier.engine.shop_view()).zone
    until = datetime.fromisoformat(d["expires_at"]).astimezone(zone).strftime("%d.%m.%Y") if d.get("expires_at") \
        else "—"
    link = f"{notifier.public_url.rstrip('/')}/go/g{d['code']}"
    text = t(who.language, "gift_n_active", what=what(who.language, d), until=until, link=link)
    return [(who.to, Text(text, _button(who.language, d["code"])))]


async def _giver(notifier: Notifier, event: DomainEvent, key: str, **values: object) -> Replies:
    d = event.data
    who = await notifier.engine.recipient(d["customer_id"], d["account"])
    if who is None:
        return []
    return [(who.to, Text(t(who.language, key, what=what(who.language, d), **values)))]


async def claimed(notifier: Notifier, event: DomainEvent) -> Replies:
    return await _giver(notifier, event, "gift_n_claimed", name=event.data.get("friend_name") or "—")


async def redeemed(notifier: Notifier, event: DomainEvent) -> Replies:
    return await _giver(notifier, event, "gift_n_redeemed")


async def failed(notifier: Notifier, event: DomainEvent) -> Replies:
    return await _giver(notifier, event, "gift_n_failed") if event.data.get("reason") == "payment_failed" else []


async def expired(notifier: Notifier, event: DomainEvent) -> Replies:
    """Both are told: the giver that the money comes back, the friend who took it that it is gone."""
    d = event.data
    # refunded by the owner: the giver hears of the money (gift.refunded), not of an expiry
    replies = [] if d.get("reason") == "refunded" else await _giver(notifier, event, "gift_n_expired_giver")
    if d.get("friend_id") and d.get("friend"):
        who = await notifier.engine.recipient(d["friend_id"], d["friend"])
        if who is not None:
            replies.append((who.to, Text(t(who.language, "gift_n_expired_friend", what=what(who.language, d),
                                           name=d.get("giver_name") or "—"))))
    return replies


async def refunded(notifier: Notifier, event: DomainEvent) -> Replies:
    d = event.data
    amount = Money(int(d.get("amount") or d["total"]), d["currency"]).format()
    return await _giver(notifier, event, "gift_n_refunded", amount=amount)


async def refund_manual(notifier: Notifier, event: DomainEvent) -> Replies:
    d = event.data
    amount = Money(int(d["amount"]), d["currency"]).format()
    text = t("ru", "gift_n_refund_manual", amount=amount, code=d["code"], provider=d.get("provider", ""),
             charge=d.get("provider_charge_id") or d.get("charge_id") or "—")
    return [(owner, Text(text)) for owner in sorted(notifier.engine.owners, key=lambda o: o.key)]


BUILDERS = {
    EventType.GIFT_ACTIVE: active,
    EventType.GIFT_CLAIMED: claimed,
    EventType.GIFT_REDEEMED: redeemed,
    EventType.GIFT_FAILED: failed,
    EventType.GIFT_EXPIRED: expired,
    EventType.GIFT_REFUNDED: refunded,
    EventType.GIFT_REFUND_MANUAL: refund_manual,
}

"""Notifications: domain events from the outbox become replies to customers and staff.

The relay calls ``Notifier`` once per stored event (and skips events it has handled), so each
notification is sent once. A customer who turned messages off (/stop) hears nothing unsolicited.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from journey.channels import Button, Channel, CustomerRef, Photo, Reply, Text
from journey.engine import Engine
from journey.events import DomainEvent, EventType
from journey.money import Money
from journey.notices import NewOrderNotice, points_earned_in
from journey.ports import ChatInvitations, Messenger, QrRenderer
from journey.queries import ShopView
from journey.states import OrderStatus

from . import gift_notices, group_notices, loyalty_notices, referral_notices, regulars_chat, staff_chat
from .texts import add_texts, t

add_texts({
    "board_new": ("Новый заказ № {code} — {point}{table}, к {time}\n{lines}\nИтого {total}, {payment}",
                  "New order No. {code} — {point}{table}, by {time}\n{lines}\nTotal {total}, {payment}"),
    "n_paid": ("Оплата заказа № {code} получена, заказ передан в работу.",
               "The payment for order No. {code} has arrived; the order is being prepared."),
    "n_held": ("Оплата заказа № {code} получена: деньги заблокированы на карте и спишутся, когда вы заберёте "
               "заказ.", "The payment for order No. {code} has arrived: the money is held on your card and taken "
               "when you collect the order."),
    "n_payment_failed": ("Заказ № {code} отменён: оплата не прошла. Баллы и промокод возвращены.",
                         "Order No. {code} is cancelled: the payment did not go through. Your points and promo code "
                         "are back."),
    "n_payment_released": ("Заказ № {code} закрыт: блокировка денег снята, деньги остаются у вас.",
                           "Order No. {code} is closed: the hold on your money is released, nothing was taken."),
    "n_refunded": ("Деньги за заказ № {code} возвращены: {amount}. Банк зачислит их в течение нескольких дней.",
                   "The money for order No. {code} is refunded: {amount}. The bank credits it within a few days."),
    "n_points_bought": ("Начислено {points} баллов за {stars} ⭐. Спасибо!", "{points} points for {stars} ⭐ are "
                        "yours. Thank you!"),
    "n_points_refunded": ("Звёзды возвращены ({stars} ⭐), {points} баллов списано.",
                          "Your {stars} ⭐ are refunded and {points} points taken back."),
    "n_refunded_part": ("За заказ № {code} возвращено {amount}.", "{amount} of order No. {code} is refunded."),
    "n_refund_manual": ("Верните деньги вручную: {amount} за заказ № {code} ({provider}, платёж {charge}). "
                        "Автоматический возврат через этого провайдера невозможен.",
                        "Refund by hand: {amount} for order No. {code} ({provider}, charge {charge}). This "
                        "provider cannot refund automatically."),
})

log = logging.getLogger(__name__)
# Pickup codes are drawn in one thread of their own: drawing is pure Python that holds the GIL, and each thread
# drawing at once (asyncio's default pool has several) takes turns at it with the event loop serving the shop
_DRAWING = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vitrina-qr")
# the marks of the accounts the event being told has read with its recipients (``Recipient.unreachable``, ""
# when reachable)
_MARKS: ContextVar[dict[str, str] | None] = ContextVar("vitrina_notify_marks", default=None)


@dataclass
class Notifier:
    engine: Engine
    qr: QrRenderer
    messengers: dict[Channel, Messenger] = field(default_factory=dict)
    staff_chats: list[CustomerRef] = field(default_factory=list)  # Telegram staff chat, VK staff peer
    name: str = "notify"  # the relay's subscriber name: each recipient's progress is recorded under it
    # regulars: each channel's way into the closed chat (bot/regulars_chat.py tells the customer)
    invitations: dict[Channel, ChatInvitations] = field(default_factory=dict)
    public_url: str = ""  # gifts: the giver's message carries the gift's <public_url>/go/g<code> link
    # seconds the shop's points and time zone are kept between reads: the names in messages, which an owner
    # renames rarely, while under load every ready or new order would read them again
    shop_for: float = 1.0
    _shop: tuple[float, ShopView] | None = field(default=None, init=False, repr=False)

    async def __call__(self, event: DomainEvent) -> None:
        """Tell everyone concerned, each on their own: a customer who blocked the bot is marked unreachable
        and skipped from then on; a network failure leaves that recipient for the relay's next attempt."""
        marks: dict[str, str] = {}
        reset = _MARKS.set(marks)
        try:
            replies = await self.replies(event)
        finally:
            _MARKS.reset(reset)
        sends = []
        for n, (to, reply) in enumerate(replies):
            messenger = self.messengers.get(to.channel)
            if messenger is not None:
                sends.append((to, self._sender(messenger, to, reply, f"event:{event.id}:{n}")))
        if sends:
            configured = {c.key for c in self.staff_chats}
            # the recipients' marks were read with them: deliver_each need not read them again
            known = all(to.key in configured or to.key in marks for to, _ in sends)
            await self.engine.deliver_each(self.name, event, sends, configured=configured,
                                           unreachable={k: v for k, v in marks.items() if v} if known else None)

    @staticmethod
    def _sender(messenger: Messenger, to: CustomerRef, reply: Reply, key: str) -> Callable[[], Awaitable[None]]:
        return lambda: messenger.send(to, reply, key=key)

    async def replies(self, event: DomainEvent) -> list[tuple[CustomerRef, Reply]]:
        build = _BUILDERS.get(event.type)
        return await build(self, event) if build else []

    async def _customer(self, event: DomainEvent) -> tuple[CustomerRef, str] | None:
        """Where and in which language to tell the order's customer; None if they opted out."""
        found = await self.engine.recipient(event.data.get("customer_id", ""), event.data.get("account", ""))
        if found is None:
            return None
        marks = _MARKS.get()
        if marks is not None and found.unreachable is not None:
            marks[found.to.key] = found.unreachable  # "": reachable
        return found.to, found.language

    def _holds(self, provider: str) -> bool:
        """Whether the provider holds the money until hand-over (taken when the staff give the order)."""
        found = self.engine.providers.get(provider)
        return found is not None and found.two_stage

    async def _point_and_zone(self, point_id: str) -> tuple[str, ZoneInfo]:
        now = time.monotonic()
        if self._shop is None or now - self._shop[0] >= self.shop_for:
            self._shop = (now, await self.engine.shop_view())
        shop = self._shop[1]
        return shop.point_name(point_id), shop.zone

    async def accepted(self, event: DomainEvent) -> list[tuple[CustomerRef, Reply]]:
        who = await self._customer(event)
        return [(who[0], Text(t(who[1], "n_accepted", code=event.data["short_code"])))] if who else []

    async def ready(self, event: DomainEvent) -> list[tuple[CustomerRef, Reply]]:
        who = await self._customer(event)
        if not who:
            return []
        point, _ = await self._point_and_zone(event.data["point_id"])
        code = event.data["short_code"]
        token = self.engine.pickup_token(event.data["order_id"])
        # ~5 ms of CPU: drawn in a thread so the event loop serves the shop meanwhile (cached per order)
        image = await asyncio.get_running_loop().run_in_executor(_DRAWING, self.qr.png, token, f"№ {code}")
        return [(who[0], Photo(image, t(who[1], "n_ready", code=code, point=point), f"order-{code}.png"))]

    async def picked_up(self, event: DomainEvent) -> list[tuple[CustomerRef, Reply]]:
        who = await self._customer(event)
        if not who:
            return []
        earned = points_earned_in(event.data)
        if earned is None:  # stored before the event carried them
            earned = await self.engine.points_earned_for(event.data["order_id"])
        rate = Button(t(who[1], "rate"), mini_app="")
        return [(who[0], Text(t(who[1], "n_picked_up", points=earned), ((rate,),)))]

    async def closed(self, event: DomainEvent) -> list[tuple[CustomerRef, Reply]]:
        who = await self._customer(event)
        reason, code = event.data.get("reason", ""), event.data["short_code"]
        key = {"unpaid": "n_expired_unpaid", "not_accepted": "n_expired_not_accepted",
               "payment_failed": "n_payment_failed", "payment_released": "n_payment_released",
               "hold_expired": "n_payment_released"}.get(reason, "n_expired")
        if event.type is EventType.ORDER_CANCELLED and reason not in ("payment_failed", "payment_released"):
            key = "n_cancelled"
        replies: list[tuple[CustomerRef, Reply]] = [(who[0], Text(t(who[1], key, code=code)))] if who else []
        if event.type is EventType.ORDER_EXPIRED and reason == "not_accepted":  # the staff missed it: say so
            point, _ = await self._point_and_zone(event.data["point_id"])
            replies += [(chat, Text(t("ru", "n_staff_expired", code=code, point=point))) for chat in self.staff_chats]
        return replies

    async def paid(self, event: DomainEvent) -> list[tuple[CustomerRef, Reply]]:
        """An online order is paid: the customer hears it, the staff get it as a new order now."""
        who = await self._customer(event)
        key = "n_held" if self._holds(event.data.get("provider", "")) else "n_paid"
        told = [(who[0], Text(t(who[1], key, code=event.data["short_code"])))] if who else []
        return told + await self.placed(event)

    async def refunded(self, event: DomainEvent) -> list[tuple[CustomerRef, Reply]]:
        who = await self._customer(event)
        if not who:
            return []
        amount = Money(int(event.data.get("amount") or event.data["total"]), event.data["currency"]).format()
        key = "n_refunded_part" if event.data.get("partial") else "n_refunded"
        return [(who[0], Text(t(who[1], key, code=event.data["short_code"], amount=amount)))]

    async def pack(self, event: DomainEvent) -> list[tuple[CustomerRef, Reply]]:
        who = await self._customer(event)
        key = "n_points_bought" if event.type is EventType.POINTS_BOUGHT else "n_points_refunded"
        return [(who[0], Text(t(who[1], key, points=event.data["points"], stars=event.data["stars"])))] if who else []

    async def refund_manual(self, event: DomainEvent) -> list[tuple[CustomerRef, Reply]]:
        """No provider could give the money back: every owner is told what to refund by hand."""
        amount = Money(int(event.data["amount"]), event.data["currency"]).format()
        text = t("ru", "n_refund_manual", code=event.data["short_code"], amount=amount,
                 provider=event.data.get("provider", ""), charge=event.data.get("charge_id") or "—")
        return [(owner, Text(text)) for owner in sorted(self.engine.owners, key=lambda o: o.key)]

    async def placed(self, event: DomainEvent) -> list[tuple[CustomerRef, Reply]]:
        if not self.staff_chats or (event.type is EventType.ORDER_PLACED and event.data.get("awaiting_payment")):
            return []  # an order waiting for its online payment reaches the staff once paid (order.paid)
        notice = NewOrderNotice.from_event(event.data)
        if notice is None:  # stored before the event carried what the message shows
            notice = await self.engine.new_order_notice(event.data["order_id"])
        if notice is None:
            return []
        point, zone = await self._point_and_zone(notice.point_id)
        lines = "\n".join(f"• {l.name}{' (' + ', '.join(l.options) + ')' if l.options else ''} × {l.quantity}"
                          for l in notice.lines)
        table = str(event.data.get("table") or "")  # a table-QR order's (not in events stored before)
        replies: list[tuple[CustomerRef, Reply]] = []
        for chat in self.staff_chats:
            lang = "ru"
            payment = t(lang, "pay_counter" if notice.provider == "counter" else
                        "board_held" if self._holds(notice.provider) else "pay_online")
            text = t(lang, "board_new", code=notice.short_code, point=point, time=_hhmm(notice.pickup_at, zone),
                     table=t(lang, "board_table", table=table) if table else "", lines=lines,
                     total=notice.total.format(), payment=payment)
            # the board's buttons: accept, or cancel after a confirmation; each press answers what changed
            replies.append((chat, Text(text, staff_chat.steps(lang, notice.order_id, OrderStatus.PLACED))))
        return replies


def _hhmm(at: datetime, zone: ZoneInfo) -> str:
    return at.astimezone(zone).strftime("%H:%M")


_BUILDERS = {
    EventType.ORDER_PLACED: Notifier.placed,
    EventType.ORDER_ACCEPTED: Notifier.accepted,
    EventType.ORDER_READY: Notifier.ready,
    EventType.ORDER_PICKED_UP: Notifier.picked_up,
    EventType.ORDER_CANCELLED: Notifier.closed,
    EventType.ORDER_EXPIRED: Notifier.closed,
    EventType.ORDER_PAID: Notifier.paid,
    EventType.PAYMENT_REFUNDED: Notifier.refunded,
    EventType.PAYMENT_REFUND_MANUAL: Notifier.refund_manual,
    EventType.POINTS_BOUGHT: Notifier.pack,
    EventType.POINTS_REFUNDED: Notifier.pack,
    # referrals that hold (bot/referral_notices.py)
    EventType.REFERRAL_JOINED: referral_notices.joined,
    EventType.REFERRAL_REWARDED: referral_notices.rewarded,
    EventType.REFERRAL_VOIDED: referral_notices.voided,
    # group orders (bot/group_notices.py)
    **group_notices.BUILDERS,
    # points and the birthday offer (bot/loyalty_notices.py)
    **loyalty_notices.BUILDERS,
    # regulars: the invitation to the closed chat (bot/regulars_chat.py)
    EventType.REGULAR_REACHED: regulars_chat.invitation,
    # gifts (bot/gift_notices.py)
    **gift_notices.BUILDERS,
}

"""The orders board in the chat, for staff (owners are staff everywhere).

``/board``, the word «доска» or the owner's panel button list the open orders of the points the sender
serves, soonest first, one message per order: its code, table, pickup time and lateness, lines, total and
payment, with its next steps as buttons: accept, ready, hand over, cancel. Handing over asks for the code
the customer shows (a dialog: the order goes only to whoever holds its code); cancelling asks first. Every
press answers with what changed; a button pressed after its step was done (by a second press, another
member of staff or the Mini App) says what the order is now and changes nothing. The engine refuses anyone
who is not staff of the order's point (``not_staff``), so a customer learns nothing from these.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from journey.channels import Button, CustomerRef, Reply, Text
from journey.errors import DomainError, ErrorCode
from journey.model import Order
from journey.order_views import OrderDetails, board_next
from journey.states import OrderStatus, PaymentStatus

from .chat import Turn, action, command, dialog, word
from .texts import add_texts, status, t

if TYPE_CHECKING:
    from .conversation import Conversation

Rows = tuple[tuple[Button, ...], ...]
SHOWN = 8  # orders per board: one message each, and a chat takes about one message a second
STALE = (ErrorCode.INVALID_TRANSITION, ErrorCode.ALREADY_PICKED_UP)  # the step was done already

add_texts({
    "board_empty": ("Открытых заказов нет.", "No open orders."),
    "board_more": ("Показаны {shown} ближайших. Следующие — кнопкой ниже, все — в приложении, раздел «Персонал».",
                   "The {shown} soonest are shown. The next ones: the button below; all of them: the app, «Staff»."),
    "board_b_next": ("Следующие", "Next"),
    "board_card": ("№ {code} · {point}{table}\nК {time}{late} · {status}\n{lines}\nИтого {total}, {payment}",
                   "No. {code} · {point}{table}\nBy {time}{late} · {status}\n{lines}\nTotal {total}, {payment}"),
    "board_table": (" · Стол {table}", " · Table {table}"),
    "board_late": (" ⚠ опаздывает на {minutes} мин", " ⚠ {minutes} min late"),
    "board_b_accept": ("Принять", "Accept"), "board_b_ready": ("Готов", "Ready"),
    "board_b_give": ("Выдать", "Hand over"), "board_b_cancel": ("Отменить", "Cancel"),
    "board_b_cancel_ok": ("Да, отменить", "Yes, cancel it"), "board_b_keep": ("Нет, оставить", "No, keep it"),
    "board_accepted": ("Заказ № {code} принят.", "Order No. {code} accepted."),
    "board_ready": ("Заказ № {code} готов, покупатель уведомлён.", "Order No. {code} is ready, the customer is told."),
    "board_given": ("Заказ № {code} выдан.", "Order No. {code} is handed over."),
    "board_cancelled": ("Заказ № {code} отменён, покупатель уведомлён.",
                        "Order No. {code} is cancelled, the customer is told."),
    "board_cancel_ask": ("Отменить заказ № {code}? Покупатель получит сообщение, товар вернётся в наличие.",
                         "Cancel order No. {code}? The customer is told, the stock is given back."),
    "board_kept": ("Заказ № {code} не отменён.", "Order No. {code} is not cancelled."),
    "board_give_ask": ("Выдача заказа № {code}: напишите код, который покажет или назовёт покупатель.",
                       "Handing over order No. {code}: type the code the customer shows or says."),
    "board_wrong_code": ("Код «{typed}» не от заказа № {code}: ничего не выдано. Напишите код ещё раз.",
                         "The code «{typed}» is not order No. {code}'s: nothing is handed over. Type it again."),
    "board_stale": ("Заказ № {code} уже {status}: ничего не изменилось.",
                    "Order No. {code} is {status} already: nothing changed."),
    "board_paid": ("оплачен онлайн", "paid online"),
    "board_held": ("оплачен онлайн, спишется при выдаче", "paid online, taken at hand-over"),
})


# --- what a message shows ---------------------------------------------------------------------------

def card(lang: str, d: OrderDetails, zone: ZoneInfo) -> str:
    o = d.order
    lines = "\n".join(f"• {l.name}{' (' + ', '.join(l.options) + ')' if l.options else ''} × {l.quantity}"
                      for l in o.lines)
    counter = d.payment is None or (d.payment.provider == "counter" and d.payment.status is PaymentStatus.PENDING)
    held = d.payment is not None and d.payment.status is PaymentStatus.AUTHORIZED
    return t(lang, "board_card", code=o.short_code, point=d.point.name if d.point else o.point_id,
             table=t(lang, "board_table", table=d.table) if d.table else "",
             time=o.pickup_at.astimezone(zone).strftime("%H:%M"),
             late=t(lang, "board_late", minutes=d.late_minutes) if d.late_minutes else "",
             status=status(lang, o.status.value), lines=lines, total=o.total.format(),
             payment=t(lang, "pay_counter" if counter else "board_held" if held else "board_paid"))


def steps(lang: str, order_id: str, now: OrderStatus) -> Rows:
    """The buttons of an order's next steps from its status ``now`` (none once it is closed)."""
    ref = {"id": order_id}
    cancel = Button(t(lang, "board_b_cancel"), "bd_cancel", ref)
    match now:
        case OrderStatus.PLACED:
            return ((Button(t(lang, "board_b_accept"), "bd_accept", ref), cancel),)
        case OrderStatus.ACCEPTED:
            return ((Button(t(lang, "board_b_ready"), "bd_ready", ref), cancel),)
        case OrderStatus.READY:
            return ((Button(t(lang, "board_b_give"), "bd_give", ref),),)
    return ()


async def _zone(conv: Conversation) -> ZoneInfo:
    return (await conv.engine.shop_view()).zone


async def _told(conv: Conversation, turn: Turn, key: str, order_id: str) -> list[Reply]:
    """``key`` (what changed, or what the order is now) above the order's card and its next steps."""
    d = await conv.engine.order_details(turn.inbound.sender, order_id)
    head = t(turn.lang, key, code=d.order.short_code, status=status(turn.lang, d.order.status.value))
    return [Text(f"{head}\n\n{card(turn.lang, d, await _zone(conv))}", steps(turn.lang, d.order.id, d.order.status))]


async def _staff_details(conv: Conversation, turn: Turn) -> OrderDetails:
    """The pressed order as staff of its point see it; anyone else is refused (its customer too)."""
    d = await conv.engine.order_details(turn.inbound.sender, turn.inbound.payload.get("id", ""))
    if not d.staff:
        raise DomainError(ErrorCode.NOT_STAFF)
    return d


# --- the board ----------------------------------------------------------------------------------------

@command("board")
@action("board", "adm_board")
@word("доска", "board")
async def board(conv: Conversation, turn: Turn) -> list[Reply]:
    return await _page(conv, turn, None)


@action("bd_next")
async def next_page(conv: Conversation, turn: Turn) -> list[Reply]:
    return await _page(conv, turn, turn.inbound.payload.get("id") or None)


async def _page(conv: Conversation, turn: Turn, after: str | None) -> list[Reply]:
    """One page of the board (``SHOWN`` orders) after the order ``after``; its "next" button carries the id of
    the page's last order, where the next page starts."""
    found = await conv.engine.staff_board(turn.inbound.sender, after=after, limit=SHOWN)
    if not found:
        return [Text(t(turn.lang, "board_empty"))]
    zone = await _zone(conv)
    replies: list[Reply] = [Text(card(turn.lang, d, zone), steps(turn.lang, d.order.id, d.order.status))
                            for d in found]
    if (after := board_next(found, SHOWN)) is not None:
        replies.append(Text(t(turn.lang, "board_more", shown=SHOWN),
                            ((Button(t(turn.lang, "board_b_next"), "bd_next", {"id": after}),
                              Button(t(turn.lang, "open_app"), mini_app="")),)))
    return replies


# --- the steps ----------------------------------------------------------------------------------------

Change = Callable[[CustomerRef, str], Awaitable[Order]]


async def _step(conv: Conversation, turn: Turn, change: Change, said: str, order_id: str = "") -> list[Reply]:
    """Make one change to the order (the pressed one by default) and say what changed, or what the order
    is now when the step was done already."""
    order_id = order_id or turn.inbound.payload.get("id", "")
    try:
        order = await change(turn.inbound.sender, order_id)
    except DomainError as e:
        if e.code not in STALE:
            raise
        return await _told(conv, turn, "board_stale", order_id)
    return await _told(conv, turn, said, order.id)


@action("bd_accept")
async def accept(conv: Conversation, turn: Turn) -> list[Reply]:
    return await _step(conv, turn, conv.engine.accept, "board_accepted")


@action("bd_ready")
async def ready(conv: Conversation, turn: Turn) -> list[Reply]:
    return await _step(conv, turn, conv.engine.mark_ready, "board_ready")


@action("bd_cancel")
async def cancel_ask(conv: Conversation, turn: Turn) -> list[Reply]:
    d = await _staff_details(conv, turn)
    if d.order.status not in (OrderStatus.PLACED, OrderStatus.ACCEPTED):
        return await _told(conv, turn, "board_stale", d.order.id)
    ref = {"id": d.order.id}
    return [Text(t(turn.lang, "board_cancel_ask", code=d.order.short_code),
                 ((Button(t(turn.lang, "board_b_cancel_ok"), "bd_cancel_ok", ref),
                   Button(t(turn.lang, "board_b_keep"), "bd_keep", ref)),))]


@action("bd_cancel_ok")
async def cancel(conv: Conversation, turn: Turn) -> list[Reply]:
    await _staff_details(conv, turn)  # a customer's own order is cancelled in the app, not from here
    return await _step(conv, turn, lambda actor, order_id: conv.engine.cancel(actor, order_id, "staff"),
                       "board_cancelled")


@action("bd_keep")
async def keep(conv: Conversation, turn: Turn) -> list[Reply]:
    d = await _staff_details(conv, turn)
    return await _told(conv, turn, "board_kept", d.order.id)


@action("bd_give")
async def give_ask(conv: Conversation, turn: Turn) -> list[Reply]:
    d = await _staff_details(conv, turn)
    if d.order.status is not OrderStatus.READY:
        return await _told(conv, turn, "board_stale", d.order.id)
    await conv.engine.open_dialog(turn.inbound.sender, "board_give", {"id": d.order.id})
    return [Text(t(turn.lang, "board_give_ask", code=d.order.short_code),
                 ((Button(t(turn.lang, "cancel"), "cancel"),),))]


@dialog("board_give")
async def give(conv: Conversation, turn: Turn) -> list[Reply]:
    """The code typed for the order whose «Выдать» was pressed: handed over by that code (the engine's
    pickup by short code, staff of its point only) when the code is that order's; any other code changes
    nothing and may be typed again."""
    assert turn.dialog is not None
    engine, actor = conv.engine, turn.inbound.sender
    order_id, typed = turn.dialog.state["id"], turn.inbound.text.strip()
    pressed = (await engine.order_details(actor, order_id)).order
    if pressed.status is not OrderStatus.READY:  # handed over, cancelled or expired meanwhile
        await engine.end_dialog(actor)
        return await _told(conv, turn, "board_stale", order_id)
    try:
        found: Order | None = await engine.find_for_pickup(actor, short_code=typed, point_id=pressed.point_id)
    except DomainError as e:
        if e.code is not ErrorCode.PICKUP_CODE_INVALID and e.code not in STALE:
            raise
        found = None
    if found is None or found.id != order_id:
        return [Text(t(turn.lang, "board_wrong_code", typed=typed[:12], code=pressed.short_code),
                     ((Button(t(turn.lang, "cancel"), "cancel"),),))]
    await engine.end_dialog(actor)
    return await _step(conv, turn, lambda who, _: engine.hand_over(who, short_code=typed, point_id=pressed.point_id),
                       "board_given", order_id)

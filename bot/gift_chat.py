"""A gift's link in the chat: ``/start g<code>`` in Telegram, VK's ``ref`` — who it is from and what, and the
button into the Mini App's gift screen, where it is taken (journey/gifts.py). ``vitrina qr gift CODE`` reads
a real gift the same way (bot/qr_codes.py)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from journey.channels import CustomerRef
from journey.deeplinks import DeepLink
from journey.errors import DomainError
from journey.gift_model import GiftStatus

from .gift_notices import what
from .qr_codes import QrError
from .texts import add_texts, t

if TYPE_CHECKING:
    from journey.engine import Engine
    from journey.gifts import GiftView

add_texts({
    "greet_gift": ("🎁 Вам подарок от {name}: {what}.{message} Нажмите «Открыть приложение», чтобы забрать его, "
                   "выбрать точку и время.", "🎁 A gift for you from {name}: {what}.{message} Tap “Open the app” to "
                   "take it and choose a point and a time."),
    "greet_gift_own": ("🎁 Это ваш подарок: отправьте ссылку другу.", "🎁 This is your own gift: send the link to a "
                       "friend."),
    "greet_gift_taken": ("🎁 Подарок от {name}: {what} — ваш. Откройте приложение, чтобы заказать его.",
                         "🎁 The gift from {name}: {what} — is yours. Open the app to order it."),
    "greet_gift_gone": ("🎁 Этот подарок уже нельзя взять.", "🎁 This gift can no longer be taken."),
})


def _data(view: GiftView) -> dict:
    g = view.gift
    return {"title": g.title, "total": g.amount.amount, "currency": g.amount.currency}


def describe(lang: str, view: GiftView) -> str:
    """What the caller hears of a gift's link."""
    g = view.gift
    name = g.giver_name or "—"
    if view.giver:
        return t(lang, "greet_gift_own")
    if view.taker and g.status is GiftStatus.CLAIMED:
        return t(lang, "greet_gift_taken", name=name, what=what(lang, _data(view)))
    if not view.claimable:
        return t(lang, "greet_gift_gone")
    message = f" «{g.message}»" if g.message else ""
    return t(lang, "greet_gift", name=name, what=what(lang, _data(view)), message=message)


async def greeting(engine: Engine, sender: CustomerRef, lang: str, link: DeepLink) -> str:
    try:
        view = await engine.gift_view(sender, link.code or "")
    except DomainError as e:
        return e.code.message(lang)
    return describe(lang, view)


class GiftCardError(QrError):
    """``vitrina qr gift CODE`` for a code that is no gift one could take: one line saying why."""


async def card_caption(engine: Engine, code: str) -> str:
    """The caption of a real gift's printed card: who it is from and what; refused for an unknown code or a
    gift nobody could take any more."""
    try:
        gift = await engine.gift_card(code)
    except DomainError:
        raise GiftCardError(f"no gift with the code {code!r}: check the code (the part after g in its link)") from None
    if not gift.status.usable:
        raise GiftCardError(f"gift {code!r} is {gift.status.value.replace('_', ' ')}: it cannot be taken")
    data = {"title": gift.title, "total": gift.amount.amount, "currency": gift.amount.currency}
    return f"Вам подарок от {gift.giver_name or 'друга'}: {what('ru', data)}"


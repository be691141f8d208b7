"""Sharing in the chat: the shop's card the bot's inline mode answers with (Telegram), in the sharer's
language, carrying their referral code tagged as shared by card (``r<code>-ti``, journey/sharing.py)."""
from __future__ import annotations

from collections.abc import Awaitable, Callable

from journey.channels import CustomerRef, ShareCard
from journey.engine import Engine
from journey.sharing import ShareKind

from .texts import add_texts, t

add_texts({
    "sh_card_description": ("Заказ заранее, без очереди. По ссылке — баллы вам и другу.",
                            "Order ahead, skip the queue. By this link you and your friend get points."),
    "sh_card_text": ("Заказываю в «{shop}» заранее и забираю без очереди. Заходи по кнопке — после твоего первого "
                     "заказа баллы получим оба.",
                     "I order at {shop} ahead and skip the queue. Come in with the button: after your first order "
                     "we both get points."),
    "sh_card_button": ("Открыть магазин", "Open the shop"),
})

CardMaker = Callable[[CustomerRef], Awaitable[ShareCard | None]]


def card_maker(engine: Engine, public_url: str) -> CardMaker:
    """What the Telegram adapter asks for an inline query: the sharer's card (the customer is created on
    first contact, so a person who never opened the shop still shares their own code). The story picture
    is the card's picture when the public address is https (Telegram fetches it)."""
    picture = f"{public_url}/share/story.jpg" if public_url.startswith("https://") else ""

    async def card(ref: CustomerRef) -> ShareCard | None:
        offer = await engine.share_offer(ref)
        lang = await engine.language(ref)
        return ShareCard(offer.shop, t(lang, "sh_card_description"), t(lang, "sh_card_text", shop=offer.shop),
                         t(lang, "sh_card_button"), offer.start(ShareKind.TELEGRAM_INLINE),
                         picture if engine.stories is not None else "")

    return card

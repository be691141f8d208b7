"""Regulars in the chat: the customer who reached the shop's number of pickups is invited to the closed
chat, in their channel and language, with a link the channel makes (``ports.ChatInvitations``: Telegram one
for this person alone, VK the chat's link). A channel without a closed chat configured says nothing."""
from __future__ import annotations

from typing import TYPE_CHECKING

from journey.channels import Button, CustomerRef, Reply, Text
from journey.events import DomainEvent

from .texts import add_texts, t

if TYPE_CHECKING:
    from .notifications import Notifier

add_texts({
    "n_regular": ("Вы забрали у нас уже {n}-й заказ — спасибо! Приглашаем вас в закрытый чат постоянных гостей: "
                  "новинки первыми, вопросы бариста и свои люди.",
                  "That was your order No. {n} with us — thank you! You are invited to our regulars' closed chat: "
                  "news first, questions to the baristas, and friendly faces."),
    "n_regular_personal": ("Ссылка только для вас: по ней войдёт один человек.",
                           "The link is yours alone: it lets one person in."),
    "n_regular_join": ("Войти в чат", "Join the chat"),
})


async def invitation(notifier: Notifier, event: DomainEvent) -> list[tuple[CustomerRef, Reply]]:
    """One invitation, in the channel the order that reached the threshold came from; nothing when that
    channel has no closed chat or the customer turned messages off. A link that cannot be made now raises
    ``ConnectionError`` from the channel, so the relay tries the event again."""
    found = await notifier.engine.recipient(event.data["customer_id"], event.data.get("account", ""))
    if found is None:
        return []
    chat = notifier.invitations.get(found.to.channel)
    if chat is None:
        return []
    name = f"{event.data.get('name') or 'guest'} · {event.data['customer_id']}"
    link = await chat.invite_link(name)
    if not link:
        return []
    lang = found.language
    text = t(lang, "n_regular", n=event.data["pickups"])
    if chat.personal:
        text += "\n" + t(lang, "n_regular_personal")
    return [(found.to, Text(text, ((Button(t(lang, "n_regular_join"), url=link),),)))]

"""The two translators: aiogram updates -> ``Inbound``, ``Reply`` buttons -> aiogram keyboards."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial

from aiogram.filters.callback_data import CallbackData
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    Message,
    User,
    WebAppInfo,
)

from journey.channels import Button, Capabilities, Channel, CustomerRef, Inbound, ShareCard

CAPABILITIES = Capabilities(inline_buttons=True, mini_app_buttons=True, photos=True, invoices=True, max_text=4096,
                            files=True)


class Act(CallbackData, prefix="v"):
    """A button's action and its one argument; Telegram allows 64 bytes of callback data."""

    name: str
    arg: str = ""


def sender(user: User) -> CustomerRef:
    name = " ".join(filter(None, (user.first_name, user.last_name)))
    return CustomerRef(Channel.TELEGRAM, str(user.id), name, user.language_code or "ru")


def attached_file(message: Message) -> str | None:
    """The file_id of the picture a message carries: a photo's largest size, or a file sent as a document
    (a picture sent "as a file" keeps its full size; what it really is the bytes will tell)."""
    if message.photo:
        return max(message.photo, key=lambda size: (size.width * size.height, size.file_size or 0)).file_id
    return message.document.file_id if message.document else None


def from_message(message: Message, update_id: int | None = None,
                 fetch: Callable[[str], Awaitable[bytes]] | None = None) -> Inbound | None:
    """``fetch(file_id)`` downloads a file: with it, an attached picture becomes ``Inbound.photo``."""
    if message.from_user is None or message.from_user.is_bot:
        return None
    uid = str(update_id or f"m{message.chat.id}:{message.message_id}")
    group_chat = message.chat.type != "private"
    if message.web_app_data is not None:
        return Inbound(sender(message.from_user), action="web_app_data",
                       payload={"id": message.web_app_data.data[:4096]}, update_id=uid, raw=message,
                       group_chat=group_chat)
    text = (message.text or message.caption or "").strip()
    command, argument = None, ""
    if text.startswith("/"):
        head, _, argument = text.partition(" ")
        command = head[1:].split("@", 1)[0].lower() or None
        argument = argument.strip()
    file_id = attached_file(message) if fetch else None
    photo = partial(fetch, file_id) if fetch and file_id else None
    return Inbound(sender(message.from_user), text=text, command=command, argument=argument, update_id=uid,
                   photo=photo, raw=message, group_chat=group_chat)


def from_callback(query: CallbackQuery, update_id: int | None = None) -> Inbound:
    try:
        act = Act.unpack(query.data or "")
        action, payload = act.name, ({"id": act.arg} if act.arg else {})
    except (TypeError, ValueError):
        action, payload = "unknown", {}
    chat = getattr(query.message, "chat", None)  # an old message's chat may be unknown: taken as private
    return Inbound(sender(query.from_user), action=action, payload=payload,
                   update_id=str(update_id or f"c{query.id}"), raw=query,
                   group_chat=chat is not None and chat.type != "private")


def keyboard(rows: tuple[tuple[Button, ...], ...], mini_app_url: str) -> InlineKeyboardMarkup | None:
    """Inline keyboard; a Mini App button is a ``web_app`` button on https, a link otherwise."""
    out = []
    for row in rows:
        buttons = []
        for b in row:
            if b.mini_app is not None:
                if not mini_app_url:
                    continue
                url = mini_app_url + (f"?start={b.mini_app}" if b.mini_app else "")
                if mini_app_url.startswith("https://"):
                    buttons.append(InlineKeyboardButton(text=b.text, web_app=WebAppInfo(url=url)))
                else:
                    buttons.append(InlineKeyboardButton(text=b.text, url=url))
            elif b.url:
                buttons.append(InlineKeyboardButton(text=b.text, url=b.url))
            elif b.action:
                data = Act(name=b.action, arg=b.payload.get("id", "")).pack()
                buttons.append(InlineKeyboardButton(text=b.text, callback_data=data))
        if buttons:
            out.append(buttons)
    return InlineKeyboardMarkup(inline_keyboard=out) if out else None


def inline_card(card: ShareCard, bot_username: str) -> InlineQueryResultArticle:
    """The shop's card as an inline result (sharing): its button opens the bot with the sharer's start
    parameter (``t.me/<bot>?start=r<code>-ti``): a friend in Telegram lands in the shop's chat, which
    records the visit and the invitation. Inline results cannot carry Mini App buttons."""
    url = f"https://t.me/{bot_username}?start={card.start}"
    return InlineQueryResultArticle(
        id=card.start[:64], title=card.title, description=card.description,
        input_message_content=InputTextMessageContent(message_text=card.text),
        reply_markup=InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text=card.button, url=url)]]),
        thumbnail_url=card.picture or None)

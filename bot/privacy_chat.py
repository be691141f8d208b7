"""Personal data in the chat (152-FZ): consent before the first order, ``/mydata`` and ``/forget``.

- Consent: when the engine refuses an order with ``CONSENT_REQUIRED`` (``Conversation.handle`` hands the turn
  here), the customer gets a short text with the policy page's address (``<public URL>/privacy``) and an
  «Согласен» button. The button carries the step that asked (a button's action and its argument, such as
  the repeat confirmation's nonce): pressing it records the consent to ``Engine.consent_version`` and takes
  that step again, so the order goes on where it stopped (its nonce keeps it placed once however often the
  button is pressed). A second press records nothing new.
- ``/mydata`` (and the «Мои данные» button under /help) sends everything the shop keeps about the person
  as a JSON file, ``vitrina-mydata-<date>.json``; in a group chat (the staff's) it and ``/forget`` are
  refused with a pointer to the private chat, where nobody else sees the file.
- ``/forget`` says what is deleted and what the shop keeps for its accounts, and asks with «Удалить» /
  «Отмена». The confirmation is bound to the account that asked (a token of its own, compared in constant
  time): someone else's press is refused and deletes nothing, and the engine only ever forgets the sender.
  A second press (a double tap) finds the account forgotten and forgets again whatever the press itself
  brought back (the conversation makes a profile for anyone who writes): nothing fails, nothing is kept.
"""
from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import replace
from typing import TYPE_CHECKING

from journey.channels import Button, Document, Inbound, Reply, Text
from journey.errors import DomainError, ErrorCode

from .chat import ACTIONS, Turn, action, command
from .texts import add_texts, t

if TYPE_CHECKING:
    from .conversation import Conversation

Rows = tuple[tuple[Button, ...], ...]
POLICY_PATH = "/privacy"
CONSENT = "consent"  # the «Согласен» button's action
THEN = "~"  # between the step's action and its argument in the button's data
MAX_THEN = 48  # Telegram's 64 bytes of callback data, less ``v:consent:``, with room to spare

add_texts({
    "pv_consent_ask": ("Перед первым заказом нам нужно ваше согласие на обработку персональных данных: имени, "
                       "аккаунта в мессенджере и истории заказов — чтобы принять, приготовить и выдать заказ. "
                       "Что мы храним и как, — в политике: {url}\nНажмите «Согласен», и заказ продолжится.",
                       "Before your first order we need your consent to process your personal data: your name, "
                       "messenger account and order history — to take, prepare and hand over your orders. What "
                       "we keep and how is in the policy: {url}\nPress «I agree» and the order goes on."),
    "pv_agree": ("Согласен", "I agree"),
    "pv_consented": ("Спасибо, согласие записано.", "Thank you, your consent is recorded."),
    "pv_mydata": ("Всё, что магазин хранит о вас, — в этом файле (JSON). Удалить свои данные — /forget.",
                  "Everything the shop keeps about you is in this file (JSON). To delete your data — /forget."),
    "pv_forget_ask": ("Удалить ваши данные? Мы удалим ваш профиль: имя, аккаунты Telegram и ВКонтакте, баллы "
                      "(они сгорят), тексты отзывов, приглашения, подарки и настройки сообщений. "
                      "Открытые заказы будут отменены.\n"
                      "Для бухгалтерии магазин сохранит суммы, даты и состав заказов и оплат — без связи с вами.\n"
                      "Вернуть удалённое будет нельзя.",
                      "Delete your data? We will delete your profile: your name, Telegram and VK accounts, "
                      "points (they are lost), review texts, invitations, gifts and message settings. "
                      "Open orders will be cancelled.\n"
                      "For its accounts the shop keeps the amounts, dates and items of orders and payments — "
                      "no longer linked to you.\nWhat is deleted cannot be brought back."),
    "pv_b_delete": ("Удалить", "Delete"),
    "pv_b_cancel": ("Отмена", "Cancel"),
    "pv_forgotten": ("Готово: ваши данные удалены. Если захотите вернуться — /start, и мы познакомимся заново.",
                     "Done: your data is deleted. If you come back — /start, and we will meet anew."),
    "pv_kept": ("Хорошо, ничего не удалено.", "All right, nothing was deleted."),
    "pv_not_yours": ("Эта кнопка не для вас: ничего не удалено. Удалить свои данные — /forget.",
                     "This button is not for you: nothing was deleted. To delete your own data — /forget."),
    "pv_private_only": ("Это личное: напишите мне /mydata или /forget в личные сообщения, не в общий чат.",
                        "That is private: send /mydata or /forget to me directly, not in a group chat."),
    "pv_b_mydata": ("Мои данные", "My data"),
    "pv_b_forget": ("Удалить мои данные", "Delete my data"),
})


def policy_url(c: Conversation) -> str:
    return c.public_url.rstrip("/") + POLICY_PATH


def help_row(lang: str) -> tuple[Button, ...]:
    """The buttons /help shows for one's data."""
    return (Button(t(lang, "pv_b_mydata"), "mydata"), Button(t(lang, "pv_b_forget"), "forget"))


# --- consent --------------------------------------------------------------------------------------------

def _then(inbound: Inbound) -> str:
    """The button step to take again once the customer agrees ("" for a command or text: nothing to repeat)."""
    if not inbound.action or inbound.action == CONSENT or inbound.action not in ACTIONS:
        return ""
    then = inbound.action + THEN + inbound.payload.get("id", "")
    return then if len(then.encode()) <= MAX_THEN else ""


async def ask_consent(c: Conversation, turn: Turn) -> list[Reply]:
    """The engine wants consent before this step: the text, the policy's address and «Согласен»."""
    then = _then(turn.inbound)
    agree_button = Button(t(turn.lang, "pv_agree"), CONSENT, {"id": then} if then else {})
    return [Text(t(turn.lang, "pv_consent_ask", url=policy_url(c)), ((agree_button,),))]


@action(CONSENT)
async def agree(c: Conversation, turn: Turn) -> list[Reply]:
    """Record the consent (once) and take again the step that asked for it."""
    engine, sender, lang = c.engine, turn.inbound.sender, turn.lang
    if engine.consent_version is not None and await engine.needs_consent(sender):
        await engine.give_consent(sender, engine.consent_version)
    thanks = Text(t(lang, "pv_consented"))
    name, _, argument = turn.inbound.payload.get("id", "").partition(THEN)
    route = ACTIONS.get(name) if name != CONSENT else None
    if route is None or (route.owner and not engine.is_owner(sender)):
        return [thanks]
    step = Turn(replace(turn.inbound, action=name, payload={"id": argument} if argument else {}), turn.profile)
    try:
        return [thanks, *await route.handler(c, step)]
    except DomainError as e:
        if e.code is ErrorCode.CONSENT_REQUIRED:  # the policy changed in between: ask again
            raise
        return [thanks, Text(e.message(lang))]


# --- /mydata --------------------------------------------------------------------------------------------

async def my_data(c: Conversation, turn: Turn) -> list[Reply]:
    if turn.inbound.group_chat:  # the file would be seen by everyone in the chat
        return [Text(t(turn.lang, "pv_private_only"))]
    data = await c.engine.export_data(turn.inbound.sender)
    day = c.engine.now().astimezone((await c.engine.shop_view()).zone).date().isoformat()
    content = json.dumps(data, indent=2, ensure_ascii=False).encode("utf-8")
    return [Document(f"vitrina-mydata-{day}.json", content, "application/json", t(turn.lang, "pv_mydata"))]


# --- /forget --------------------------------------------------------------------------------------------

def _token(c: Conversation, turn: Turn) -> str:
    """Binds a confirmation to the account that asked for it (not secret: it only tells accounts apart)."""
    key = c.engine.secret or b"vitrina"
    return hmac.new(key, f"forget:{turn.inbound.sender.key}".encode(), hashlib.sha256).hexdigest()[:16]


async def ask_forget(c: Conversation, turn: Turn) -> list[Reply]:
    lang = turn.lang
    if turn.inbound.group_chat:
        return [Text(t(lang, "pv_private_only"))]
    return [Text(t(lang, "pv_forget_ask"), ((Button(t(lang, "pv_b_delete"), "forget_ok", {"id": _token(c, turn)}),
                                              Button(t(lang, "pv_b_cancel"), "forget_no")),))]


@action("forget_ok")
async def forget(c: Conversation, turn: Turn) -> list[Reply]:
    if not hmac.compare_digest(turn.inbound.payload.get("id", "").encode(), _token(c, turn).encode()):
        return [Text(t(turn.lang, "pv_not_yours"))]
    await c.engine.forget(turn.inbound.sender)
    return [Text(t(turn.lang, "pv_forgotten"))]


@action("forget_no")
async def keep(c: Conversation, turn: Turn) -> list[Reply]:
    return [Text(t(turn.lang, "pv_kept"))]


for _name, _handler in (("mydata", my_data), ("forget", ask_forget)):
    command(_name)(_handler)
    action(_name)(_handler)

"""The owner's broadcast in the chat: /broadcast, the text, a preview with the recipients, Send, progress, stop.

``/broadcast`` (or the panel's button) asks for the text; the next text message becomes a draft, shown
as customers will see it, with how many will get it in each channel and the Send and Cancel buttons.
Send starts it; the sender (``bot/broadcaster.py``, run by ``vitrina run``) tells the owner how it goes.
``/broadcast`` while one is being sent shows its progress; ``/broadcast stop`` stops it.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from journey.broadcasts import BroadcastStatus, Progress
from journey.channels import Button, Reply, Text

from .broadcaster import broadcast_reply, progress_text, stop_button
from .chat import Turn, action, command, dialog
from .texts import add_texts, t

if TYPE_CHECKING:
    from .conversation import Conversation

KIND = "broadcast"
CHANNEL_NAMES = {"telegram": ("Telegram", "Telegram"), "vk": ("ВКонтакте", "VK")}

add_texts({
    "bc_ask": ("Пришлите текст рассылки одним сообщением. Её получат покупатели, согласные на новости: {counts}.",
               "Send the broadcast text in one message. Customers who agreed to news will get it: {counts}."),
    "bc_preview": ("☝️ Так сообщение увидят покупатели.\nПолучателей: {total} ({counts}). Отправить?",
                   "☝️ This is how customers will see it.\nRecipients: {total} ({counts}). Send it?"),
    "bc_send": ("Отправить", "Send"),
    "bc_nobody": ("Сейчас рассылку некому отправить: нет покупателей, согласных на новости, в подключённых "
                  "каналах.",
                  "There is nobody to send a broadcast to now: no customer who agreed to news in the connected "
                  "channels."),
    "bc_text_only": ("Рассылка — это текст: пришлите его без фото и файлов или нажмите «Отмена».",
                     "A broadcast is text: send it without photos or files, or press «Cancel»."),
    "bc_started": ("📣 Рассылка началась: получателей {total}. Я напишу, как она идёт. Остановить — /broadcast stop.",
                   "📣 The broadcast has started: {total} recipients. I will tell you how it goes. "
                   "To stop it — /broadcast stop."),
    "bc_stopped": ("Рассылка остановлена: отправлено {sent} из {total}, не отправлено {left}.",
                   "The broadcast is stopped: {sent} of {total} sent, {left} not sent."),
    "bc_stale": ("Этот предпросмотр уже не действует. Начните заново — /broadcast.",
                 "This preview is no longer valid. Start again — /broadcast."),
})


def _counts(lang: str, per_channel: dict[str, int]) -> str:
    index = 1 if lang == "en" else 0
    return ", ".join(f"{CHANNEL_NAMES.get(c, (c, c))[index]}: {n}" for c, n in per_channel.items()) or "—"


def _cancel(lang: str) -> tuple[tuple[Button, ...], ...]:
    return ((Button(t(lang, "cancel"), "cancel"),),)


def _progress_reply(progress: Progress, lang: str) -> Reply:
    return Text(progress_text(progress, lang), stop_button(lang))


async def _begin(conv: Conversation, turn: Turn) -> list[Reply]:
    """Show the broadcast being sent, or ask for the text of a new one."""
    sender, lang = turn.inbound.sender, turn.lang
    progress = await conv.engine.broadcast_progress(sender)
    if progress is not None and progress.broadcast.status is BroadcastStatus.SENDING:
        return [_progress_reply(progress, lang)]
    audience = await conv.engine.broadcast_audience(sender)
    if not sum(audience.values()):
        return [Text(t(lang, "bc_nobody"))]
    await conv.engine.open_dialog(sender, KIND, {"step": "text"})
    return [Text(t(lang, "bc_ask", counts=_counts(lang, audience)), _cancel(lang))]


async def _stop(conv: Conversation, turn: Turn) -> list[Reply]:
    progress = await conv.engine.stop_broadcast(turn.inbound.sender)
    return [Text(t(turn.lang, "bc_stopped", sent=progress.sent, total=progress.total, left=progress.left))]


@command("broadcast", owner=True)
async def broadcast(conv: Conversation, turn: Turn) -> list[Reply]:
    if turn.inbound.argument.strip().lower() in ("stop", "стоп"):
        return await _stop(conv, turn)
    return await _begin(conv, turn)


@action("adm_broadcast", owner=True)
async def broadcast_button(conv: Conversation, turn: Turn) -> list[Reply]:
    return await _begin(conv, turn)


@dialog(KIND, owner=True)
async def broadcast_text(conv: Conversation, turn: Turn) -> list[Reply]:
    """The text: kept as a draft and shown as customers will see it, with Send and Cancel."""
    sender, lang = turn.inbound.sender, turn.lang
    if turn.inbound.photo is not None or not turn.inbound.text.strip():
        return [Text(t(lang, "bc_text_only"), _cancel(lang))]
    preview = await conv.engine.draft_broadcast(sender, turn.inbound.text)
    if not preview.total:
        await conv.engine.end_dialog(sender)
        return [Text(t(lang, "bc_nobody"))]
    await conv.engine.open_dialog(sender, KIND, {"step": "confirm", "id": preview.broadcast.id})
    buttons = ((Button(t(lang, "bc_send"), "bc_send", {"id": str(preview.broadcast.id)}),
                Button(t(lang, "cancel"), "cancel")),)
    return [broadcast_reply(preview.broadcast.text, lang),
            Text(t(lang, "bc_preview", total=preview.total, counts=_counts(lang, preview.per_channel)), buttons)]


@action("bc_send", owner=True)
async def send(conv: Conversation, turn: Turn) -> list[Reply]:
    """Send the draft the open dialog shows; a preview left behind (cancelled, replaced, sent) does nothing."""
    sender, lang = turn.inbound.sender, turn.lang
    wanted = turn.inbound.payload.get("id", "")
    open_now = await conv.engine.dialog(sender)
    if open_now is None or open_now.kind != KIND or str(open_now.state.get("id")) != wanted or not wanted.isdigit():
        return [Text(t(lang, "bc_stale"))]
    await conv.engine.end_dialog(sender)
    progress = await conv.engine.confirm_broadcast(sender, int(wanted))
    return [Text(t(lang, "bc_started", total=progress.total), stop_button(lang))]


@action("bc_stop", owner=True)
async def stop(conv: Conversation, turn: Turn) -> list[Reply]:
    return await _stop(conv, turn)

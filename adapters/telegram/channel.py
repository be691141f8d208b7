"""The Telegram bot: aiogram's dispatcher routing updates to the channel-neutral conversation.

``handle`` (the conversation) and ``claim`` (update de-duplication) are injected by the composition
root, so this adapter knows nothing of ``bot`` or ``storage``.
"""
from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable

from aiogram import Bot, Dispatcher, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import (BotCommand, BotCommandScopeDefault, CallbackQuery, MenuButtonWebApp, Message, Update,
                           WebAppInfo)
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from journey.channels import Channel, CustomerRef, Inbound, Reply

from .messenger import TelegramMessenger
from .translate import from_callback, from_message

log = logging.getLogger(__name__)
WEBHOOK_PATH = "/telegram/webhook"

COMMANDS = {
    "ru": [("start", "Начать"), ("menu", "Меню"), ("orders", "Мои заказы"), ("points", "Баллы"),
           ("link", "Связать с ВКонтакте"), ("lang", "English"), ("help", "Помощь"), ("stop", "Не присылать сообщения")],
    "en": [("start", "Start"), ("menu", "Menu"), ("orders", "My orders"), ("points", "Points"),
           ("link", "Link with VK"), ("lang", "Русский"), ("help", "Help"), ("stop", "Stop messages")],
}


class TelegramChannel:
    def __init__(self, token: str, *, handle: Callable[[Inbound], Awaitable[list[Reply]]],
                 claim: Callable[[str], Awaitable[bool]], api_base: str = "https://api.telegram.org",
                 mini_app_url: str = "", webhook_url: str = "", webhook_secret: str | None = None) -> None:
        session = AiohttpSession(api=TelegramAPIServer.from_base(api_base))
        self.bot = Bot(token, session=session)
        self.handle = handle
        self.claim = claim
        self.mini_app_url = mini_app_url
        self.webhook_url = webhook_url
        self.webhook_secret = webhook_secret
        self.messenger = TelegramMessenger(self.bot, mini_app_url)
        self.username = ""
        self.dispatcher = Dispatcher()
        router = Router(name="vitrina")
        router.message.register(self._on_message)
        router.callback_query.register(self._on_callback)
        self.dispatcher.include_router(router)

    # --- updates -----------------------------------------------------------------------------------

    async def _on_message(self, message: Message, event_update: Update) -> None:
        inbound = from_message(message, event_update.update_id)
        if inbound is not None:
            await self._serve(inbound, message.chat.id)

    async def _on_callback(self, query: CallbackQuery, event_update: Update) -> None:
        await query.answer()
        chat_id = query.message.chat.id if query.message else query.from_user.id
        await self._serve(from_callback(query, event_update.update_id), chat_id)

    async def _serve(self, inbound: Inbound, chat_id: int) -> None:
        if not await self.claim(inbound.update_id):
            log.info("telegram update %s seen before: skipped", inbound.update_id)
            return
        for reply in await self.handle(inbound):
            await self.messenger.send(CustomerRef(Channel.TELEGRAM, str(chat_id)), reply)

    # --- running -----------------------------------------------------------------------------------

    async def setup(self) -> None:
        """Who we are, the command list in Russian and English, and the menu button opening the Mini App."""
        me = await self.bot.get_me()
        self.username = me.username or ""
        for language, commands in COMMANDS.items():
            await self.bot.set_my_commands([BotCommand(command=c, description=d) for c, d in commands],
                                           scope=BotCommandScopeDefault(),
                                           language_code=None if language == "ru" else language)
        if self.mini_app_url.startswith("https://"):
            await self.bot.set_chat_menu_button(menu_button=MenuButtonWebApp(
                text="Меню", web_app=WebAppInfo(url=self.mini_app_url)))
        else:
            log.warning("the Mini App address is not https: Telegram shows no menu button for it")

    async def run_polling(self) -> None:
        await self.bot.delete_webhook(drop_pending_updates=False)
        await self.dispatcher.start_polling(self.bot, handle_signals=False, close_bot_session=False,
                                            allowed_updates=["message", "callback_query"])

    async def stop_polling(self) -> None:
        with contextlib.suppress(RuntimeError):  # "Polling is not started"
            await self.dispatcher.stop_polling()

    def mount_webhook(self, app: web.Application) -> None:
        """Answer Telegram's webhook calls on the Mini App's server; a wrong secret gets 401."""
        SimpleRequestHandler(self.dispatcher, self.bot, secret_token=self.webhook_secret).register(app, WEBHOOK_PATH)

    async def set_webhook(self) -> None:
        await self.bot.set_webhook(self.webhook_url, secret_token=self.webhook_secret,
                                   allowed_updates=["message", "callback_query"])

    async def close(self) -> None:
        await self.bot.session.close()

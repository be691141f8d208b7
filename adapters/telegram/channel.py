"""The Telegram channel: aiogram's dispatcher feeding the channel-neutral conversation, its Mini App check,
its messenger and its webhook, behind the one ``ChannelAdapter`` shape.

``handle`` (the conversation), ``claim``, ``finish`` and ``release`` (update de-duplication) and ``desk``
(payments collected in the chat) are injected by the composition root, so this adapter knows nothing of
``bot`` or ``storage``.

Several instances: with a webhook every instance sets the same address and secret at start (Telegram takes
that as often as it comes) and none deletes it on stop, so starting or stopping one leaves the others
receiving; any of them may get any update. ``claim`` takes it under a lease and ``finish`` marks it handled
once the conversation has answered: a repeat of a handled update is a no-op answered 200, one arriving while
another instance holds the lease is answered 503 (``UpdateBusy``), and an update whose handling failed is
released and answered 500 (``TelegramWebhook``) for Telegram to send again. An instance killed mid-way
leaves its lease, and the repeat is taken over when it lapses. Long
polling is for one instance only (Telegram answers a second ``getUpdates`` with 409 Conflict, and polling
deletes the webhook). Built with ``receive=False`` (``vitrina run --only webapp``) the channel serves the
Mini App only: it checks the token and learns the bot's name, and neither sets, deletes nor polls for
anything.

Payments: a ``pre_checkout_query`` is checked by the desk within ``check_budget`` seconds (Telegram waits
10) and answered yes or no; a message with ``successful_payment`` goes to the desk, never to the
conversation, every time Telegram sends it: the desk fulfils a charge once, however often it hears of it.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence

from aiogram import Bot, Dispatcher, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramUnauthorizedError,
)
from aiogram.types import (
    BotCommand,
    BotCommandScopeDefault,
    CallbackQuery,
    InlineQuery,
    InlineQueryResultUnion,
    MenuButtonWebApp,
    Message,
    PreCheckoutQuery,
    Update,
    WebAppInfo,
)
from aiogram.utils.token import TokenValidationError, validate_token
from aiohttp import ClientError

from journey.channels import (
    Channel,
    ChannelError,
    CustomerRef,
    DeliveryError,
    Inbound,
    InvoiceDesk,
    InvoicePayment,
    Reply,
    Route,
    ShareCard,
    UpdateBusy,
)
from journey.customers import language_of
from journey.photos import MAX_BYTES, PhotoRefused

from ..download import TIMEOUT, read_capped
from .invitations import TelegramInvitations  # regulars
from .launch import TelegramMiniApp
from .messenger import TelegramMessenger
from .translate import CAPABILITIES, from_callback, from_message, inline_card, sender
from .webhook import TelegramWebhook

log = logging.getLogger(__name__)
WEBHOOK_PATH = "/telegram/webhook"
UPDATES = ["message", "callback_query", "pre_checkout_query", "inline_query"]
CARD_SECONDS = 300  # Telegram may keep one person's card this long (it is personal: it carries their code)
CHECK_SECONDS = 8.0  # Telegram cancels a payment whose pre-checkout is not answered within 10 seconds
PAY_REFUSED = {
    "ru": ("Магазин не успел проверить заказ. Попробуйте оплатить ещё раз.",
           "Оплата в этом боте сейчас не принимается."),
    "en": ("The shop could not check the order in time. Please try paying again.",
           "This bot does not take payments right now."),
}

COMMANDS = {
    "ru": [("start", "Начать"), ("menu", "Меню"), ("orders", "Мои заказы"), ("points", "Баллы"),
           ("link", "Связать с ВКонтакте"), ("lang", "English"), ("help", "Помощь"),
           ("stop", "Не присылать сообщения"), ("mydata", "Мои данные"), ("forget", "Удалить мои данные")],
    "en": [("start", "Start"), ("menu", "Menu"), ("orders", "My orders"), ("points", "Points"),
           ("link", "Link with VK"), ("lang", "Русский"), ("help", "Help"), ("stop", "Stop messages"),
           ("mydata", "My data"), ("forget", "Delete my data")],
}


class TelegramChannel:
    channel = Channel.TELEGRAM
    capabilities = CAPABILITIES

    def __init__(self, token: str, *, handle: Callable[[Inbound], Awaitable[list[Reply]]],
                 claim: Callable[[str], Awaitable[bool]], release: Callable[[str], Awaitable[None]] | None = None,
                 finish: Callable[[str], Awaitable[None]] | None = None, receive: bool = True, api_base: str = "https://api.telegram.org",
                 mini_app_url: str = "", webhook_url: str = "", webhook_secret: str | None = None,
                 staff_chat_id: int | None = None, desk: InvoiceDesk | None = None, provider_token: str = "",
                 receipt_vat_code: int | None = None,
                 cards: Callable[[CustomerRef], Awaitable[ShareCard | None]] | None = None,
                 regulars_chat_id: int | None = None) -> None:
        """``desk`` answers payments in the chat (none: every pre-checkout is refused); ``provider_token`` is
        BotFather's payment provider token for invoices in roubles; ``receipt_vat_code`` (YooKassa's VAT
        code) adds a 54-FZ receipt's data to them when YooKassa is that provider. ``cards`` makes the shop's
        card the inline mode answers with (sharing; none: inline queries get no results);
        ``regulars_chat_id`` the closed chat regulars are invited to, one person per link."""
        try:
            validate_token(token)
        except TokenValidationError:
            raise ChannelError("this is not a bot token (expected digits, a colon and the secret, "
                               "as @BotFather gives it)", "token") from None
        self.api_base = api_base
        self.bot = Bot(token, session=AiohttpSession(api=TelegramAPIServer.from_base(api_base)))
        self.handle = handle
        self.claim = claim
        self.release = release
        self.finish = finish
        self.receive = receive
        self.mini_app_url = mini_app_url
        self.webhook_url = webhook_url
        self.webhook_secret = webhook_secret
        self.desk = desk
        self.cards = cards  # sharing
        # regulars: one-person invitations to the closed chat, for the notifier (ports.ChatInvitations)
        self.invitations = TelegramInvitations(self.bot, regulars_chat_id) if regulars_chat_id else None
        self.check_budget = CHECK_SECONDS
        self.messenger = TelegramMessenger(self.bot, mini_app_url, provider_token=provider_token,
                                           receipt_vat_code=receipt_vat_code)
        self.mini_app = TelegramMiniApp(token, lambda: self.username)
        self.staff_chats = (CustomerRef(Channel.TELEGRAM, str(staff_chat_id)),) if staff_chat_id else ()
        self.username = ""
        self.dispatcher = Dispatcher()
        router = Router(name="vitrina")
        router.message.register(self._on_message)
        router.callback_query.register(self._on_callback)
        router.pre_checkout_query.register(self._on_pre_checkout)
        router.inline_query.register(self._on_inline_query)  # sharing
        self.dispatcher.include_router(router)
        self.webhook = TelegramWebhook(self.dispatcher, self.bot, webhook_secret) if webhook_url and receive else None

    def describe(self) -> str:
        return f"Telegram @{self.username}"

    @property
    def polls(self) -> bool:
        """Receives updates by long polling (one instance at a time), not through the webhook."""
        return self.receive and not self.webhook_url

    # --- updates -----------------------------------------------------------------------------------

    async def _on_message(self, message: Message, event_update: Update) -> None:
        if message.successful_payment is not None:
            await self._on_paid(message)
            return
        if message.refunded_payment is not None:  # Telegram's note of a Stars refund we made: not a word to us
            return
        inbound = from_message(message, event_update.update_id, self.download)
        if inbound is not None:
            await self._serve(inbound, message.chat.id)

    async def download(self, file_id: str) -> bytes:
        """A file a person sent (``Inbound.photo``): getFile, then its bytes from the Bot API's file address
        (under ``api_base``). ``PhotoRefused`` over 20 MB, ``ConnectionError`` when it cannot be had."""
        try:
            found = await self.bot.get_file(file_id)
        except TelegramBadRequest as e:
            if "too big" in e.message.lower():
                raise PhotoRefused("too_large", e.message) from None
            raise ConnectionError(f"Telegram refused getFile: {e.message}") from e
        except (TelegramAPIError, ClientError, TimeoutError, OSError) as e:
            raise ConnectionError(f"getFile failed: {e!r}") from e
        if found.file_size and found.file_size > MAX_BYTES:
            raise PhotoRefused("too_large", f"{found.file_size} bytes, at most {MAX_BYTES}")
        if not found.file_path:
            raise ConnectionError("Telegram gave no address for the file")
        url = self.bot.session.api.file_url(self.bot.token, found.file_path)
        try:
            return await read_capped(self.bot.session.stream_content(url, timeout=TIMEOUT), MAX_BYTES)
        except (ClientError, TimeoutError) as e:
            raise ConnectionError(f"cannot download the file: {e!r}") from e

    async def _on_callback(self, query: CallbackQuery, event_update: Update) -> None:
        try:  # stops the button's spinner; a repeat of the update finds the query answered already
            await query.answer()
        except (TelegramAPIError, ClientError, TimeoutError, OSError) as e:
            log.warning("answerCallbackQuery %s failed: %r", query.id, e)
        chat_id = query.message.chat.id if query.message else query.from_user.id
        await self._serve(from_callback(query, event_update.update_id), chat_id)

    async def _on_pre_checkout(self, query: PreCheckoutQuery, event_update: Update) -> None:
        """Approve or refuse within the budget: a slow check refuses with "try again" rather than letting
        Telegram give up on the payer."""
        payer = sender(query.from_user)
        payment = InvoicePayment(query.invoice_payload, query.currency, query.total_amount)
        slow, closed = PAY_REFUSED[language_of(query.from_user.language_code)]
        claimed = False
        try:
            async with asyncio.timeout(self.check_budget):
                if not await self.claim(str(event_update.update_id)):
                    log.info("telegram pre-checkout %s seen before: skipped", event_update.update_id)
                    return
                claimed = True
                refusal = closed if self.desk is None else await self.desk.check(payer, payment)
        except UpdateBusy:  # another instance is checking it and answers
            log.info("telegram pre-checkout %s is being checked by another instance", event_update.update_id)
            return
        except TimeoutError:
            log.warning("pre-checkout of %s not checked within %ss: refused", payment.payload, self.check_budget)
            refusal = slow
        except Exception:
            log.exception("pre-checkout of %s failed: refused", payment.payload)
            refusal = slow
        try:
            await self.bot.answer_pre_checkout_query(query.id, ok=refusal is None, error_message=refusal)
        except (TelegramAPIError, ClientError, TimeoutError, OSError) as e:
            log.warning("answerPreCheckoutQuery for %s failed: %r", payment.payload, e)
        if claimed:
            await self._finish(str(event_update.update_id))

    async def _on_paid(self, message: Message) -> None:
        """The money is taken. Not claimed by update id: Telegram says it again under new ids, and a claim
        made before a crash would lose the payment; the desk fulfils once per charge id."""
        paid = message.successful_payment
        if paid is None or message.from_user is None:
            return
        payment = InvoicePayment(paid.invoice_payload, paid.currency, paid.total_amount,
                                 paid.telegram_payment_charge_id, paid.provider_payment_charge_id)
        if self.desk is None:
            log.error("payment %s (charge %s, %s %s) arrived with no invoice desk: give it back by hand",
                      payment.payload, payment.charge_id, payment.total, payment.currency)
            return
        try:
            replies = await self.desk.paid(sender(message.from_user), payment)
        except Exception:
            log.exception("payment %s (charge %s) could not be recorded: Telegram may say it again (a webhook "
                          "answers 500 for it), else look it up by the charge id", payment.payload, payment.charge_id)
            raise
        to = CustomerRef(Channel.TELEGRAM, str(message.chat.id))
        for reply in replies:
            try:
                await self.messenger.send(to, reply)
            except DeliveryError as e:
                log.warning("the reply to payment %s did not reach %s: %s", payment.payload, to.key, e)

    async def _on_inline_query(self, query: InlineQuery) -> None:
        """Sharing: whatever was typed after the bot's name, the answer is the sharer's card of the shop
        (personal, as it carries their referral code); no card, no results."""
        card = None
        if self.cards is not None and self.username:
            try:
                card = await self.cards(sender(query.from_user))
            except Exception:
                log.exception("the shop's card for inline query %s could not be made", query.id)
        results: list[InlineQueryResultUnion] = [inline_card(card, self.username)] if card is not None else []
        try:
            await self.bot.answer_inline_query(query.id, results, cache_time=CARD_SECONDS, is_personal=True)
        except (TelegramAPIError, ClientError, TimeoutError, OSError) as e:
            log.warning("answerInlineQuery %s failed: %r", query.id, e)

    async def _serve(self, inbound: Inbound, chat_id: int) -> None:
        """Claim, handle, mark handled, reply. A failure to handle releases the claim and raises (the webhook
        answers 500 and Telegram sends the update again); a reply that cannot be delivered is logged, as the
        update was handled and handling it again would do its deed twice. ``UpdateBusy`` from the claim
        passes on (503)."""
        if not await self.claim(inbound.update_id):
            log.info("telegram update %s seen before: skipped", inbound.update_id)
            return
        try:
            replies = await self.handle(inbound)
        except BaseException:  # a stopping instance's cancellation too: another instance gets the repeat
            if self.release is not None:
                try:
                    await self.release(inbound.update_id)
                except Exception:
                    log.exception("telegram update %s could not be released: its repeat waits for the lease",
                                  inbound.update_id)
            raise
        await self._finish(inbound.update_id)
        to = CustomerRef(Channel.TELEGRAM, str(chat_id))
        for reply in replies:
            try:
                await self.messenger.send(to, reply)
            except DeliveryError as e:
                log.warning("the reply to telegram update %s did not reach %s: %s", inbound.update_id, to.key, e)

    async def _finish(self, update_id: str) -> None:
        if self.finish is None:
            return
        try:
            await self.finish(update_id)
        except Exception:  # handled all the same: answered 200, so no repeat comes to be handled twice
            log.exception("telegram update %s handled but not recorded so", update_id)

    # --- lifecycle ---------------------------------------------------------------------------------

    def routes(self) -> Sequence[Route]:
        """Telegram's webhook calls on the Mini App's server: a wrong secret 401, any malformed call 4xx."""
        return (Route("POST", WEBHOOK_PATH, self.webhook.handle),) if self.webhook else ()

    async def start(self) -> None:
        """Who we are (which checks the token), the command list in Russian and English, the menu button
        opening the Mini App, and the webhook when one is configured; only who we are when not receiving."""
        try:
            me = await self.bot.get_me()
        except TelegramUnauthorizedError:
            raise ChannelError("Telegram refused the bot token (401 Unauthorized): copy it again from "
                               "@BotFather", "token") from None
        except TelegramNotFound:
            raise ChannelError(f"{self.api_base} answered 404 to getMe: the token or the Bot API address "
                               "is wrong", "token") from None
        except TelegramNetworkError as e:
            raise ChannelError(f"cannot reach the Bot API at {self.api_base}: {_cause(e)}", "api_base") from None
        except TelegramAPIError as e:
            raise ChannelError(f"the Bot API at {self.api_base} refused getMe: {e.message}", "api_base") from None
        self.username = me.username or ""
        if not self.receive:  # the Mini App's instance: the bot's face and its webhook are the receivers' to set
            return
        for language, commands in COMMANDS.items():
            await self.bot.set_my_commands([BotCommand(command=c, description=d) for c, d in commands],
                                           scope=BotCommandScopeDefault(),
                                           language_code=None if language == "ru" else language)
        if self.mini_app_url.startswith("https://"):
            await self.bot.set_chat_menu_button(menu_button=MenuButtonWebApp(
                text="Меню", web_app=WebAppInfo(url=self.mini_app_url)))
        else:
            log.warning("the Mini App address is not https: Telegram shows no menu button for it")
        if self.webhook_url:
            try:
                await self.bot.set_webhook(self.webhook_url, secret_token=self.webhook_secret, allowed_updates=UPDATES)
            except TelegramAPIError as e:
                raise ChannelError(f"Telegram refused the webhook address: {e.message}", "webhook_url") from None

    async def run(self) -> None:
        """Long polling until ``stop``; with a webhook the updates arrive through ``routes`` instead, and an
        instance that does not receive returns at once (it never deletes the webhook others rely on)."""
        if not self.polls:
            return
        await self.bot.delete_webhook(drop_pending_updates=False)
        await self.dispatcher.start_polling(self.bot, handle_signals=False, close_bot_session=False,
                                            allowed_updates=UPDATES)

    async def stop(self) -> None:
        with contextlib.suppress(RuntimeError):  # "Polling is not started"
            await self.dispatcher.stop_polling()
        await self.bot.session.close()  # the webhook stays set: other instances may be receiving through it


def _cause(error: TelegramNetworkError) -> str:
    return error.message.removeprefix("HTTP Client says - ")

"""A fake Telegram Bot API server that the real aiogram ``Bot`` talks to over loopback HTTP.

With ``push=True`` the fake delivers updates the way Telegram does to a webhook: once ``setWebhook`` names an
address, every update is POSTed there (with ``X-Telegram-Bot-Api-Secret-Token`` when a secret was set), the
updates of one chat one at a time in order, and anything but a 2xx answer (a 5xx, a refused or dropped
connection, a timeout) is tried again after a growing pause until it is taken; ``deliveries`` records every
attempt. A client may call the API under ``/via/<name>/`` to be told apart (``Call.via``, ``Sent.via``).

Tests play the user's side (``send_message``, ``send_photo``, ``send_document``, ``press_button``,
``push_update``, and paying: ``pay_invoice``, ``pay_invoice_link``, ``resend_successful_payment``) and read
what the bot did (``calls``, ``sent``, ``next_message``, ``wait_for``). Results follow https://core.telegram.org/bots/api
closely enough for aiogram's models to parse them, and the answers a bot must survive (401, 404, 409,
429, "message is not modified") come back the way Telegram sends them::

    async with FakeTelegram() as fake:
        bot = Bot(fake.token, session=AiohttpSession(api=TelegramAPIServer.from_base(fake.base_url)))
"""
from __future__ import annotations

import asyncio
import contextlib
import contextvars
import itertools
import json
import math
import mimetypes
import re
import secrets
import time
import uuid
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web

# Free-text fields stay strings even when they look like JSON ("42", "true"); everything else is
# decoded, because aiogram JSON-encodes numbers, booleans, keyboards and lists alike.
TEXT_FIELDS = frozenset({"text", "caption", "data", "url", "title", "description", "short_description",
                         "query", "callback_query_id", "inline_message_id", "secret_token", "file_id",
                         "payload", "provider_token", "provider_data", "start_parameter", "currency",
                         "error_message", "pre_checkout_query_id", "telegram_payment_charge_id"})
# Telegram's flood limits count messages, not every request.
LIMITED = re.compile(r"^(send(?!ChatAction)|edit|copy|forward)")
COMMAND = re.compile(r"(?<!\S)/[A-Za-z0-9_]+(?:@\w+)?")
_VIA: contextvars.ContextVar[str] = contextvars.ContextVar("via", default="")  # the /via/<name>/ of a request


@dataclass(frozen=True)
class Upload:
    """A file the bot uploaded as a multipart part."""
    filename: str
    data: bytes


@dataclass
class Call:
    """One Bot API request; ``attach://`` references are replaced by their ``Upload``."""
    method: str
    params: dict[str, Any]
    status: int = 200  # the HTTP status the fake answered with
    via: str = ""  # the client's /via/<name>/ prefix, if it used one


@dataclass
class Sent:
    """A message the bot sent. Edits change it in place; ``text`` holds the caption of a photo."""
    chat_id: int
    message_id: int
    text: str | None
    reply_markup: dict | None
    photo: bytes | str | None = None  # uploaded bytes, or the file_id / URL the bot passed
    photo_id: str | None = None
    date: int = 0
    edit_date: int | None = None
    deleted: bool = False
    invoice: FakeInvoice | None = None  # what sendInvoice asked the user to pay
    via: str = ""  # the /via/<name>/ prefix of the client that sent it
    document: Upload | None = None  # the file sendDocument uploaded (``text`` holds its caption)


@dataclass
class FakeInvoice:
    """An invoice the bot made: a link (createInvoiceLink) or a message in a chat (sendInvoice)."""
    title: str
    description: str
    payload: str
    currency: str
    amount: int  # the prices added up: minor units, or Stars
    provider_token: str
    params: dict[str, Any]  # everything the bot passed (need_email, provider_data, ...)
    link: str | None = None


@dataclass(frozen=True)
class PaymentOutcome:
    """What came of a user paying an invoice: the pre-checkout's answer and, when approved, the charge."""
    user_id: int
    payload: str
    currency: str
    total: int
    approved: bool
    error_message: str | None = None
    charge_id: str = ""  # telegram_payment_charge_id
    provider_charge_id: str = ""  # provider_payment_charge_id
    successful_payment: dict | None = None


@dataclass(frozen=True)
class Delivery:
    """One attempt at POSTing an update to the webhook (push mode)."""
    update_id: int
    status: int  # the HTTP status answered; 0 when the connection was refused, dropped or timed out
    error: str = ""


class ApiError(Exception):
    """An answer with ``ok: false``; raised by method handlers, turned into the error envelope."""

    def __init__(self, code: int, description: str, **parameters: Any) -> None:
        super().__init__(description)
        self.code, self.description, self.parameters = code, description, parameters

    def response(self) -> web.Response:
        body: dict[str, Any] = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return web.json_response(body, status=self.code)


def _chat_of(update: dict) -> Any:
    """The chat an update belongs to, for keeping its order: the message's chat, else who sent it."""
    for value in update.values():
        if isinstance(value, dict):
            if isinstance(value.get("chat"), dict):
                return value["chat"].get("id")
            if isinstance(value.get("message"), dict) and isinstance(value["message"].get("chat"), dict):
                return value["message"]["chat"].get("id")
            if isinstance(value.get("from"), dict):
                return value["from"].get("id")
    return update.get("update_id")


def _utf16_len(text: str) -> int:
    # entity offsets and lengths are counted in UTF-16 code units, as Telegram does
    return len(text.encode("utf-16-le")) // 2


def _command_entities(text: str) -> list[dict]:
    return [{"type": "bot_command", "offset": _utf16_len(text[:m.start()]), "length": _utf16_len(m.group())}
            for m in COMMAND.finditer(text)]


class FakeTelegram:
    """An in-process Bot API on 127.0.0.1, free port. Use as ``async with`` or ``start()``/``stop()``."""

    def __init__(self, token: str = "123:ABC", bot_username: str = "vitrina_demo_bot", *, push: bool = False,
                 retry_delay: float = 0.05, max_retry_delay: float = 1.0, max_connections: int = 40) -> None:
        self.token = token
        bot_id = token.split(":")[0]
        self.bot_user = {"id": int(bot_id) if bot_id.isdigit() else 1, "is_bot": True,
                         "first_name": "Vitrina", "username": bot_username}
        self.calls: list[Call] = []
        self.too_many = 0  # number of 429 answers given
        self.webhook_url = ""
        self._updates: list[dict] = []  # not yet confirmed by an offset
        self._update_ids = itertools.count(1)
        self._new_update = asyncio.Event()
        self._messages: dict[int, list[Sent]] = defaultdict(list)
        self._message_ids: dict[int, itertools.count] = defaultdict(lambda: itertools.count(1))
        self._read: dict[int, int] = defaultdict(int)  # next_message cursor per chat
        self._users: dict[int, dict] = {}
        self._file_ids = itertools.count(1)
        self.files: dict[str, tuple[str, bytes]] = {}  # file_id -> (file_path, bytes) of what users sent
        self.downloads: list[str] = []  # file paths the bot downloaded
        self.lose_files = False  # the file server answers 404 to every download, as for a file gone
        self._callback_ids = itertools.count(1)
        self._limits: tuple[float, float] | None = None
        self._recent: deque[float] = deque()
        self._recent_per_chat: dict[Any, deque[float]] = defaultdict(deque)
        self._fail_next: dict[str, int] = {}
        self._refused: dict[int, tuple[int, str]] = {}  # chat -> (status, description) for every send
        self._failing: dict[int, list[str]] = defaultdict(list)  # chat -> the next sends' failures
        self._broken: dict[str, list[tuple[int, str]]] = defaultdict(list)  # method -> the next calls' failures
        self.invoices: list[FakeInvoice] = []  # every invoice made, links and messages
        self._links: dict[str, FakeInvoice] = {}
        self._query_ids = itertools.count(1)
        self._checkouts: dict[str, dict | None] = {}  # pre-checkout query id -> its answer (None: waiting)
        self._charges = itertools.count(1)
        self.payments: list[PaymentOutcome] = []  # what users paid, in order
        self.star_transactions: list[dict] = []  # the bot's Stars history, oldest first (getStarTransactions)
        self._star_charges: dict[str, dict] = {}  # charge id -> {"user_id", "amount", "payload", "refunded"}
        # sharing and regulars
        self.inline_answers: dict[str, dict | None] = {}  # inline query id -> answerInlineQuery's parameters
        self.admin_of: set[int] = set()  # chats where the bot may make invite links
        self.invite_links: list[tuple[int, dict]] = []  # (chat id, ChatInviteLink) made, in order
        self._invite_ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self._port = 0
        self._closing = False
        # push mode: updates POSTed to the webhook
        self.push = push
        self.webhook_secret = ""
        self.deliveries: list[Delivery] = []
        self.retry_delay, self.max_retry_delay = retry_delay, max_retry_delay
        self._connections = asyncio.Semaphore(max_connections)  # setWebhook's max_connections
        self._pushing: set[Any] = set()  # chats with an update on its way
        self._push_wakeup = asyncio.Event()
        self._pusher: asyncio.Task | None = None
        self._push_tasks: set[asyncio.Task] = set()
        self._http: aiohttp.ClientSession | None = None

    # -- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._file)
        app.router.add_route("*", "/via/{via}/bot{token}/{method}", self._handle)
        app.router.add_get("/via/{via}/file/bot{token}/{path:.+}", self._file)
        # a long poll left open by a stopped client must not hold up shutdown
        self._runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=1)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self._port = self._runner.addresses[0][1]
        if self.push:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
            self._pusher = asyncio.create_task(self._push_updates())

    async def stop(self) -> None:
        self._closing = True
        self._new_update.set()
        self._push_wakeup.set()
        for task in [*self._push_tasks, *([self._pusher] if self._pusher else [])]:
            task.cancel()
        await asyncio.gather(*self._push_tasks, *([self._pusher] if self._pusher else []), return_exceptions=True)
        if self._http is not None:
            await self._http.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> FakeTelegram:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        if not self._port:
            raise RuntimeError("FakeTelegram is not started")
        return f"http://127.0.0.1:{self._port}"

    # -- the user's side -------------------------------------------------------------------------

    def push_update(self, update: dict) -> dict:
        """Queue a raw Update for getUpdates; an ``update_id`` is assigned when missing."""
        update.setdefault("update_id", next(self._update_ids))
        self._updates.append(update)
        self._new_update.set()
        self._push_wakeup.set()
        return update

    def base_url_via(self, name: str) -> str:
        """The Bot API's address for a client to be told apart by: its calls and messages carry ``via``."""
        return f"{self.base_url}/via/{name}"

    # -- push mode: the webhook --------------------------------------------------------------------

    def pending(self) -> list[dict]:
        """Updates not yet taken: not confirmed by an offset (polling) or a 2xx answer (webhook)."""
        return list(self._updates)

    def answered(self, update_id: int) -> list[int]:
        """The statuses the webhook answered for an update, attempt by attempt (0: no answer)."""
        return [d.status for d in self.deliveries if d.update_id == update_id]

    async def _push_updates(self) -> None:
        """Start delivering every update whose chat has none on its way, oldest first; one chat's updates
        go one after another, as Telegram keeps their order."""
        while not self._closing:
            self._push_wakeup.clear()
            if self.webhook_url:
                waiting: set[Any] = set()
                for update in list(self._updates):
                    key = _chat_of(update)
                    if key in self._pushing or key in waiting:
                        waiting.add(key)
                        continue
                    waiting.add(key)
                    self._pushing.add(key)
                    task = asyncio.create_task(self._push_one(update, key))
                    self._push_tasks.add(task)
                    task.add_done_callback(self._push_tasks.discard)
            await self._push_wakeup.wait()

    async def _push_one(self, update: dict, key: Any) -> None:
        delay = self.retry_delay
        try:
            while not self._closing:
                status, error = await self._post_update(update)
                self.deliveries.append(Delivery(update["update_id"], status, error))
                if 200 <= status < 300:
                    with contextlib.suppress(ValueError):
                        self._updates.remove(update)
                    return
                await asyncio.sleep(delay)  # Telegram tries again later, and later still
                delay = min(delay * 2, self.max_retry_delay)
        finally:
            self._pushing.discard(key)
            self._push_wakeup.set()

    async def _post_update(self, update: dict) -> tuple[int, str]:
        assert self._http is not None
        headers = {"X-Telegram-Bot-Api-Secret-Token": self.webhook_secret} if self.webhook_secret else {}
        async with self._connections:
            try:
                async with self._http.post(self.webhook_url, json=update, headers=headers) as answer:
                    await answer.read()
                    return answer.status, "" if answer.status < 300 else (await answer.text())[:200]
            except (aiohttp.ClientError, TimeoutError, OSError) as e:
                return 0, f"{type(e).__name__}: {e}"[:200]

    def send_message(self, user_id: int, text: str, *, first_name: str | None = None,
                     language_code: str | None = None) -> dict:
        """The user writes ``text`` in their private chat; bot commands get their entities."""
        message = {"message_id": next(self._message_ids[user_id]), "date": int(time.time()),
                   "chat": self._chat(user_id), "from": self._user(user_id, first_name, language_code),
                   "text": text}
        if entities := _command_entities(text):
            message["entities"] = entities
        return self.push_update({"message": message})

    def send_photo(self, user_id: int, data: bytes, caption: str | None = None, *, width: int = 1280,
                   height: int = 960, thumbnail: bytes | None = None) -> dict:
        """The user sends a photo, as Telegram gives it to bots: a list of sizes, smallest first, each a
        file the bot fetches with getFile and a GET of ``/file/bot<token>/<file_path>``. ``data`` is the
        largest size; ``thumbnail`` (when given) a smaller one before it."""
        sizes = []
        if thumbnail is not None:
            sizes.append(self._photo_size(thumbnail, 90, max(1, 90 * height // max(width, 1))))
        sizes.append(self._photo_size(data, width, height))
        return self._user_message(user_id, {"photo": sizes}, caption)

    def send_document(self, user_id: int, data: bytes, file_name: str, mime_type: str,
                      caption: str | None = None) -> dict:
        """The user sends a file (a picture sent "as a file" keeps its full size)."""
        file_id, unique = self._add_file(data, f"documents/{file_name}")
        document = {"file_id": file_id, "file_unique_id": unique, "file_name": file_name, "mime_type": mime_type,
                    "file_size": len(data)}
        return self._user_message(user_id, {"document": document}, caption)

    def _user_message(self, user_id: int, content: dict, caption: str | None) -> dict:
        message = {"message_id": next(self._message_ids[user_id]), "date": int(time.time()),
                   "chat": self._chat(user_id), "from": self._user(user_id), **content}
        if caption is not None:
            message["caption"] = caption
            if entities := _command_entities(caption):
                message["caption_entities"] = entities
        return self.push_update({"message": message})

    def _photo_size(self, data: bytes, width: int, height: int) -> dict:
        file_id, unique = self._add_file(data, "photos/file_{n}.jpg")
        return {"file_id": file_id, "file_unique_id": unique, "width": width, "height": height,
                "file_size": len(data)}

    def _add_file(self, data: bytes, path: str) -> tuple[str, str]:
        n = next(self._file_ids)
        file_id = f"user-file-{n}"
        self.files[file_id] = (path.format(n=n), data)
        return file_id, f"u{n}"

    def press_button(self, user_id: int, message_id: int, data: str, *, chat_id: int | None = None) -> dict:
        """The user presses the inline button carrying ``data`` under a message the bot sent them (or sent
        to the group ``chat_id`` the user is in)."""
        chat = user_id if chat_id is None else chat_id
        sent = next((s for s in self._messages[chat] if s.message_id == message_id and not s.deleted), None)
        if sent is None:
            raise LookupError(f"chat {chat} shows no message {message_id}")
        buttons = [b.get("callback_data") for row in (sent.reply_markup or {}).get("inline_keyboard", [])
                   for b in row]
        if data not in buttons:
            raise AssertionError(f"message {message_id} has no button {data!r}; it has {buttons}")
        query = {"id": str(next(self._callback_ids)), "from": self._user(user_id), "data": data,
                 "chat_instance": str(chat), "message": self._message_json(sent)}
        return self.push_update({"callback_query": query})

    # -- paying --------------------------------------------------------------------------------------

    async def pay_invoice(self, user_id: int, *, payload: str, currency: str, total: int,
                          provider_payment_charge_id: str | None = None, timeout: float = 10) -> PaymentOutcome:
        """The user pays: a ``pre_checkout_query`` update, then (waiting up to ``timeout`` seconds, Telegram's
        10) the bot's ``answerPreCheckoutQuery``; when approved, a message with ``successful_payment`` and a
        fresh charge id (a Stars payment also enters the bot's transactions). ``TimeoutError`` when the
        bot never answers."""
        query_id = f"pcq{next(self._query_ids)}"
        self._checkouts[query_id] = None
        self.push_update({"pre_checkout_query": {"id": query_id, "from": self._user(user_id), "currency": currency,
                                                 "total_amount": total, "invoice_payload": payload}})
        answer = await self.wait_for(lambda _: self._checkouts.get(query_id), timeout)
        if not answer["ok"]:
            outcome = PaymentOutcome(user_id, payload, currency, total, False, answer.get("error_message"))
            self.payments.append(outcome)
            return outcome
        n = next(self._charges)
        stars = currency == "XTR"
        charge_id = f"stx{n:06d}{secrets.token_hex(8)}" if stars else f"{n:06d}-{secrets.token_hex(8)}"
        if provider_payment_charge_id is None:
            provider_payment_charge_id = "" if stars else str(uuid.uuid4())
        paid = {"currency": currency, "total_amount": total, "invoice_payload": payload,
                "telegram_payment_charge_id": charge_id, "provider_payment_charge_id": provider_payment_charge_id}
        if stars:
            self._star_charges[charge_id] = {"user_id": user_id, "amount": total, "payload": payload,
                                             "refunded": False}
            self.star_transactions.append({"id": charge_id, "amount": total, "date": int(time.time()),
                                           "source": self._partner(user_id, payload)})
        outcome = PaymentOutcome(user_id, payload, currency, total, True, None, charge_id,
                                 provider_payment_charge_id, paid)
        self.payments.append(outcome)
        self._user_message(user_id, {"successful_payment": paid}, None)
        return outcome

    async def pay_invoice_link(self, user_id: int, link: str, **kw: Any) -> PaymentOutcome:
        """The user opens an invoice link (``openInvoice`` in the Mini App) and pays it."""
        invoice = self.invoice_by_link(link)
        return await self.pay_invoice(user_id, payload=invoice.payload, currency=invoice.currency,
                                      total=invoice.amount, **kw)

    def invoice_by_link(self, link: str) -> FakeInvoice:
        if link not in self._links:
            raise LookupError(f"no invoice link {link!r}; made: {sorted(self._links)}")
        return self._links[link]

    def resend_successful_payment(self, outcome: PaymentOutcome) -> dict:
        """Telegram delivers the same ``successful_payment`` again, in a new message under a new update id."""
        if outcome.successful_payment is None:
            raise ValueError("that payment was refused: there is nothing to send again")
        return self._user_message(outcome.user_id, {"successful_payment": dict(outcome.successful_payment)}, None)

    def _partner(self, user_id: int, payload: str) -> dict:
        return {"type": "user", "transaction_type": "invoice_payment", "user": self._user(user_id),
                "invoice_payload": payload}

    # -- what the bot did ------------------------------------------------------------------------

    def sent(self, chat_id: int) -> list[Sent]:
        """Messages the bot sent to the chat that are still there (deleted ones are left out)."""
        return [s for s in self._messages[chat_id] if not s.deleted]

    def calls_of(self, method: str) -> list[dict]:
        """Parameters of the calls of ``method`` that succeeded."""
        return [c.params for c in self.calls if c.method == method and c.status == 200]

    async def wait_for(self, predicate: Callable[[list[Call]], Any], timeout: float = 5) -> Any:
        """Poll ``predicate(self.calls)`` every 10 ms until it is truthy; return its value."""
        deadline = asyncio.get_running_loop().time() + timeout
        while not (result := predicate(self.calls)):
            if asyncio.get_running_loop().time() > deadline:
                tail = [f"{c.method}:{c.status}" for c in self.calls[-10:]]
                raise TimeoutError(f"condition not met within {timeout}s; last calls: {tail}")
            await asyncio.sleep(0.01)
        return result

    async def next_message(self, chat_id: int, timeout: float = 5) -> Sent:
        """The first message sent to the chat since the previous ``next_message`` for it."""
        index = self._read[chat_id]
        await self.wait_for(lambda _: len(self._messages[chat_id]) > index, timeout)
        self._read[chat_id] = index + 1
        return self._messages[chat_id][index]

    # -- misbehaving like Telegram ---------------------------------------------------------------

    def limit(self, per_second: float = 30, per_chat_per_second: float = 1) -> None:
        """Answer 429 when more messages than this go out within any one second."""
        self._limits = (per_second, per_chat_per_second)

    def unlimit(self) -> None:
        self._limits = None

    def fail_next(self, method: str, retry_after: int = 1) -> None:
        """The next call of ``method`` answers 429 once."""
        self._fail_next[method] = retry_after

    def refuse(self, chat_id: int, status: int = 403,
               description: str = "Forbidden: bot was blocked by the user") -> None:
        """Every message to the chat is refused from now on, e.g. the user blocked the bot."""
        self._refused[chat_id] = (status, description)

    def allow(self, chat_id: int) -> None:
        """The user unblocked the bot: messages to the chat go through again."""
        self._refused.pop(chat_id, None)

    def fail(self, chat_id: int, times: int = 1, kind: str = "server") -> None:
        """The next ``times`` messages to the chat fail for a while: ``server`` answers 500, ``network``
        drops the connection without an answer."""
        assert kind in ("server", "network")
        self._failing[chat_id].extend([kind] * times)

    def break_method(self, method: str, times: int = 1, status: int = 500,
                     description: str = "Internal Server Error") -> None:
        """The next ``times`` calls of ``method`` answer ``status`` with ``description``; status 0 drops the
        connection without an answer."""
        self._broken[method].extend([(status, description)] * times)

    def _misbehave(self, method: str, params: dict) -> str | None:
        """Refusals and failures switched on for a method or the chat of a send; "network" when the
        connection drops."""
        if self._broken.get(method):
            status, description = self._broken[method].pop(0)
            if status == 0:
                return "network"
            raise ApiError(status, description)
        if not LIMITED.match(method) or "chat_id" not in params:
            return None
        chat = int(params["chat_id"])
        if chat in self._refused:
            raise ApiError(*self._refused[chat])
        if self._failing.get(chat):
            if self._failing[chat].pop(0) == "network":
                return "network"
            raise ApiError(500, "Internal Server Error")
        return None

    def _throttle(self, method: str, params: dict) -> None:
        if (retry_after := self._fail_next.pop(method, None)) is not None:
            self._refuse(retry_after)
        if self._limits is None or not LIMITED.match(method):
            return
        now = time.monotonic()
        per_chat = self._recent_per_chat[params.get("chat_id")]
        for window, allowed in ((self._recent, self._limits[0]), (per_chat, self._limits[1])):
            while window and window[0] <= now - 1:
                window.popleft()
            if len(window) >= allowed:
                self._refuse(math.ceil(window[0] + 1 - now))
        self._recent.append(now)
        per_chat.append(now)

    def _refuse(self, retry_after: float) -> None:
        self.too_many += 1
        seconds = max(1, int(retry_after))
        raise ApiError(429, f"Too Many Requests: retry after {seconds}", retry_after=seconds)

    # -- HTTP --------------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return ApiError(401, "Unauthorized").response()
        name = request.match_info["method"]
        _VIA.set(request.match_info.get("via", ""))  # each request is a task of its own
        call = Call(name, await self._params(request), via=_VIA.get())
        self.calls.append(call)
        handler = getattr(self, "_api_" + re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower(), None)
        try:
            if handler is None:
                raise ApiError(404, "Not Found: method not found")
            self._throttle(name, call.params)
            if self._misbehave(name, call.params) == "network":
                call.status = 0
                assert request.transport is not None
                request.transport.close()  # the client sees the connection drop, no answer
                return web.Response(status=500)
            result = await handler(call.params)
        except ApiError as error:
            call.status = error.code
            return error.response()
        except (KeyError, ValueError) as error:
            call.status = 400
            return ApiError(400, f"Bad Request: {error}").response()
        return web.json_response({"ok": True, "result": result})

    async def _file(self, request: web.Request) -> web.Response:
        """A file's bytes, as https://api.telegram.org/file/bot<token>/<file_path> serves them."""
        if request.match_info["token"] != self.token:
            return web.Response(status=401, text="Unauthorized")
        path = request.match_info["path"]
        found = next((data for p, data in self.files.values() if p == path), None)
        if found is None or self.lose_files:
            return web.Response(status=404, text="Not Found")
        self.downloads.append(path)
        return web.Response(body=found, content_type="application/octet-stream")

    @staticmethod
    async def _params(request: web.Request) -> dict[str, Any]:
        form = {**request.query, **(await request.post())}
        files = {k: Upload(v.filename, v.file.read()) for k, v in form.items() if isinstance(v, web.FileField)}
        params: dict[str, Any] = {}
        for key, value in form.items():
            if isinstance(value, web.FileField):
                continue
            if not isinstance(value, str):  # a form field's raw bytes
                value = bytes(value).decode()
            if value.startswith("attach://") and value[9:] in files:
                params[key] = files.pop(value[9:])
            elif key in TEXT_FIELDS:
                params[key] = value
            else:
                try:
                    params[key] = json.loads(value)
                except ValueError:
                    params[key] = value
        return params | files  # files sent directly under their field name

    # -- Bot API methods: one ``_api_<snake_case>`` coroutine each -----------------------------------

    async def _api_get_me(self, p: dict) -> dict:
        return {**self.bot_user, "can_join_groups": True, "can_read_all_group_messages": False,
                "supports_inline_queries": False, "can_connect_to_business": False, "has_main_web_app": False}

    async def _api_get_updates(self, p: dict) -> list[dict]:
        if self.webhook_url:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active; "
                                "use deleteWebhook to delete the webhook first")
        if (offset := int(p.get("offset", 0))) > 0:  # everything before offset is confirmed
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + float(p.get("timeout", 0))
        while not self._updates and not self._closing and (left := deadline - loop.time()) > 0:
            self._new_update.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new_update.wait(), left)
        return self._updates[:int(p.get("limit", 100))]

    async def _api_send_message(self, p: dict) -> dict:
        if not p.get("text"):
            raise ApiError(400, "Bad Request: message text is empty")
        if _utf16_len(p["text"]) > 4096:
            raise ApiError(400, "Bad Request: message is too long")
        return self._message_json(self._store(p, p["text"]))

    async def _api_send_photo(self, p: dict) -> dict:
        photo = p.get("photo")
        if not isinstance(photo, (Upload, str)):
            raise ApiError(400, "Bad Request: there is no photo in the request")
        if isinstance(photo, Upload):  # Telegram answers with a file_id the bot may reuse later
            photo, file_id = photo.data, f"photo{next(self._file_ids)}"
        else:
            file_id = photo
        return self._message_json(self._store(p, p.get("caption"), photo, file_id))

    async def _api_send_document(self, p: dict) -> dict:
        document = p.get("document")
        if not isinstance(document, Upload):  # a file_id or URL is not what this fake keeps
            raise ApiError(400, "Bad Request: there is no document in the request")
        if not document.data:
            raise ApiError(400, "Bad Request: file must be non-empty")
        if p.get("caption") and _utf16_len(p["caption"]) > 1024:
            raise ApiError(400, "Bad Request: message caption is too long")
        sent = self._store(p, p.get("caption"))
        sent.document = document
        return self._message_json(sent)

    async def _api_get_file(self, p: dict) -> dict:
        if p.get("file_id") not in self.files:
            raise ApiError(400, "Bad Request: invalid file_id")
        path, data = self.files[p["file_id"]]
        if len(data) > 20 * 1024 * 1024:  # the Bot API hands out files of 20 MB at most
            raise ApiError(400, "Bad Request: file is too big")
        return {"file_id": p["file_id"], "file_unique_id": "u" + p["file_id"].rsplit("-", 1)[-1],
                "file_size": len(data), "file_path": path}

    async def _api_edit_message_text(self, p: dict) -> dict:
        sent = self._find(p, "message to edit not found")
        if sent.photo is not None or sent.document is not None:
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        return self._edit(sent, p["text"], p.get("reply_markup"))

    async def _api_edit_message_reply_markup(self, p: dict) -> dict:
        sent = self._find(p, "message to edit not found")
        return self._edit(sent, sent.text, p.get("reply_markup"))

    async def _api_delete_message(self, p: dict) -> bool:
        self._find(p, "message to delete not found").deleted = True
        return True

    async def _api_set_webhook(self, p: dict) -> bool:
        self.webhook_url = p["url"]
        self.webhook_secret = str(p.get("secret_token") or "")
        self._push_wakeup.set()
        return True

    async def _api_delete_webhook(self, p: dict) -> bool:
        self.webhook_url = ""
        return True

    async def _api_get_webhook_info(self, p: dict) -> dict:
        return {"url": self.webhook_url, "has_custom_certificate": False,
                "pending_update_count": len(self._updates)}

    async def _api_get_chat(self, p: dict) -> dict:
        gifts = dict.fromkeys(("unlimited_gifts", "limited_gifts", "unique_gifts", "premium_subscription",
                               "gifts_from_channels"), False)
        return {**self._chat(int(p["chat_id"])), "accent_color_id": 0, "max_reaction_count": 11,
                "accepted_gift_types": gifts}

    async def _api_create_invoice_link(self, p: dict) -> str:
        invoice = self._invoice(p)
        invoice.link = f"https://t.me/${secrets.token_urlsafe(12)}"
        self._links[invoice.link] = invoice
        return invoice.link

    async def _api_send_invoice(self, p: dict) -> dict:
        invoice = self._invoice(p)
        sent = self._store(p, None)
        sent.invoice = invoice
        return self._message_json(sent)

    async def _api_answer_pre_checkout_query(self, p: dict) -> bool:
        query_id = p["pre_checkout_query_id"]
        if query_id not in self._checkouts or self._checkouts[query_id] is not None:
            raise ApiError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
        ok = bool(p["ok"])
        if not ok and not p.get("error_message"):
            raise ApiError(400, "Bad Request: error_message must be non-empty when ok is false")
        self._checkouts[query_id] = {"ok": ok, "error_message": p.get("error_message")}
        return True

    async def _api_refund_star_payment(self, p: dict) -> bool:
        user_id, charge_id = int(p["user_id"]), p["telegram_payment_charge_id"]
        charge = self._star_charges.get(charge_id)
        if charge is None or charge["user_id"] != user_id:
            raise ApiError(400, "Bad Request: CHARGE_NOT_FOUND")
        if charge["refunded"]:
            raise ApiError(400, "Bad Request: CHARGE_ALREADY_REFUNDED")
        charge["refunded"] = True
        self.star_transactions.append({"id": charge_id, "amount": charge["amount"], "date": int(time.time()),
                                       "receiver": self._partner(user_id, charge["payload"])})
        # the user's chat shows the refund, and the bot hears of it as a service message
        self._user_message(user_id, {"refunded_payment": {
            "currency": "XTR", "total_amount": charge["amount"], "invoice_payload": charge["payload"],
            "telegram_payment_charge_id": charge_id}}, None)
        return True

    async def _api_get_star_transactions(self, p: dict) -> dict:
        offset, limit = int(p.get("offset", 0)), int(p.get("limit", 100))
        if not 1 <= limit <= 100:
            raise ApiError(400, "Bad Request: limit must be between 1 and 100")
        return {"transactions": self.star_transactions[offset:offset + limit]}

    def _invoice(self, p: dict) -> FakeInvoice:
        """An invoice's fields checked the way the Bot API checks them."""
        title, description, payload = p.get("title", ""), p.get("description", ""), p.get("payload", "")
        currency, token = p.get("currency", ""), p.get("provider_token", "")
        prices = p.get("prices")
        if not 1 <= len(title) <= 32:
            raise ApiError(400, "Bad Request: TITLE_INVALID")
        if not 1 <= len(description) <= 255:
            raise ApiError(400, "Bad Request: DESCRIPTION_INVALID")
        if not 1 <= len(payload.encode()) <= 128:
            raise ApiError(400, "Bad Request: INVOICE_PAYLOAD_INVALID")
        if not isinstance(prices, list) or not prices or not all(
                isinstance(x, dict) and x.get("label") and isinstance(x.get("amount"), int) for x in prices):
            raise ApiError(400, "Bad Request: can't parse prices JSON object")
        total = sum(x["amount"] for x in prices)
        if currency == "XTR":
            if token or len(prices) != 1:
                raise ApiError(400, "Bad Request: STARS_INVOICE_INVALID")
        elif not re.fullmatch(r"[A-Z]{3}", currency):
            raise ApiError(400, "Bad Request: CURRENCY_INVALID")
        elif not token:
            raise ApiError(400, "Bad Request: PAYMENT_PROVIDER_INVALID")
        if total <= 0:
            raise ApiError(400, "Bad Request: CURRENCY_TOTAL_AMOUNT_INVALID")
        invoice = FakeInvoice(title, description, payload, currency, total, token, dict(p))
        self.invoices.append(invoice)
        return invoice

    async def _accept(self, p: dict) -> bool:
        return True

    _api_answer_callback_query = _api_set_my_commands = _api_set_chat_menu_button = _accept
    _api_send_chat_action = _api_delete_my_commands = _accept

    # -- sharing: inline mode (the shop's card) -------------------------------------------------------

    def inline_query(self, user_id: int, query: str = "", *, first_name: str | None = None,
                     language_code: str | None = None, chat_type: str = "sender") -> dict:
        """The user types ``@<bot> <query>`` in a chat (or the Mini App's switchInlineQuery put it there)."""
        inline = {"id": str(next(self._query_ids)), "from": self._user(user_id, first_name, language_code),
                  "query": query, "offset": "", "chat_type": chat_type}
        self.inline_answers.setdefault(inline["id"], None)
        return self.push_update({"inline_query": inline})

    async def inline_answer(self, query_id: str, timeout: float = 5) -> dict:
        """What the bot answered to an inline query: ``answerInlineQuery``'s parameters."""
        async with asyncio.timeout(timeout):
            while self.inline_answers.get(query_id) is None:
                await asyncio.sleep(0.01)
        answer = self.inline_answers[query_id]
        assert answer is not None
        return answer

    async def _api_answer_inline_query(self, p: dict) -> bool:
        query_id = str(p["inline_query_id"])  # a form field that looks like a number arrives as one
        if query_id not in self.inline_answers or self.inline_answers[query_id] is not None:
            raise ApiError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
        results = p["results"]
        if not isinstance(results, list) or len(results) > 50:
            raise ApiError(400, "Bad Request: RESULTS_TOO_MUCH")
        for result in results:
            if result.get("type") not in ("article", "photo") or not 1 <= len(str(result.get("id", ""))) <= 64:
                raise ApiError(400, "Bad Request: RESULT_ID_INVALID")
            if result["type"] == "article" and not (result.get("title") and result.get("input_message_content")):
                raise ApiError(400, "Bad Request: RESULT_TYPE_INVALID")
        self.inline_answers[query_id] = p
        return True

    # -- regulars: one-person invite links to a closed chat -----------------------------------------

    async def _api_create_chat_invite_link(self, p: dict) -> dict:
        chat_id = int(p["chat_id"])
        if chat_id not in self.admin_of:
            raise ApiError(400, "Bad Request: not enough rights to manage chat invite links")
        limit = p.get("member_limit")
        if limit is not None and not 1 <= int(limit) <= 99999:
            raise ApiError(400, "Bad Request: member limit is invalid")
        if limit is not None and p.get("creates_join_request"):
            raise ApiError(400, "Bad Request: member limit can't be specified for links requiring administrator "
                                "approval")
        link = {"invite_link": f"https://t.me/+fake{next(self._invite_ids)}", "creator": self.bot_user,
                "creates_join_request": bool(p.get("creates_join_request")), "is_primary": False,
                "is_revoked": False, **({"name": p["name"]} if p.get("name") else {}),
                **({"member_limit": int(limit)} if limit is not None else {})}
        self.invite_links.append((chat_id, link))
        return link

    # -- building results --------------------------------------------------------------------------

    def _user(self, user_id: int, first_name: str | None = None, language_code: str | None = None) -> dict:
        user = self._users.setdefault(user_id, {"id": user_id, "is_bot": False, "first_name": f"User{user_id}",
                                                "language_code": "ru"})
        user.update({k: v for k, v in (("first_name", first_name), ("language_code", language_code)) if v})
        return user

    def _chat(self, chat_id: int) -> dict:
        if chat_id < 0:
            return {"id": chat_id, "type": "supergroup", "title": f"Group {chat_id}"}
        return {"id": chat_id, "type": "private", "first_name": self._user(chat_id)["first_name"]}

    def _store(self, p: dict, text: str | None, photo: bytes | str | None = None,
               photo_id: str | None = None) -> Sent:
        chat_id = int(p["chat_id"])
        for row in (p.get("reply_markup") or {}).get("inline_keyboard", []):
            for button in row:
                if len(button.get("callback_data", "").encode()) > 64:
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
        sent = Sent(chat_id, next(self._message_ids[chat_id]), text, p.get("reply_markup"), photo, photo_id,
                    int(time.time()), via=_VIA.get())
        self._messages[chat_id].append(sent)
        return sent

    def _find(self, p: dict, not_found: str) -> Sent:
        chat_id, message_id = int(p["chat_id"]), int(p["message_id"])
        for sent in self._messages[chat_id]:
            if sent.message_id == message_id and not sent.deleted:
                return sent
        raise ApiError(400, f"Bad Request: {not_found}")

    def _edit(self, sent: Sent, text: str | None, reply_markup: dict | None) -> dict:
        # Telegram drops the keyboard when an edit does not repeat it, and refuses no-op edits
        if (sent.text, sent.reply_markup) == (text, reply_markup):
            raise ApiError(400, "Bad Request: message is not modified: specified new message content and "
                                "reply markup are exactly the same as a current content and reply markup "
                                "of the message")
        sent.text, sent.reply_markup, sent.edit_date = text, reply_markup, int(time.time())
        return self._message_json(sent)

    def _message_json(self, sent: Sent) -> dict:
        message: dict[str, Any] = {"message_id": sent.message_id, "date": sent.date,
                                   "chat": self._chat(sent.chat_id), "from": self.bot_user}
        if sent.invoice is not None:
            invoice = sent.invoice
            message["invoice"] = {"title": invoice.title, "description": invoice.description,
                                  "start_parameter": invoice.params.get("start_parameter", ""),
                                  "currency": invoice.currency, "total_amount": invoice.amount}
        elif sent.photo is not None:
            size = len(sent.photo) if isinstance(sent.photo, bytes) else 0
            message["photo"] = [{"file_id": sent.photo_id, "file_unique_id": sent.photo_id, "width": 800,
                                 "height": 600, "file_size": size}]
            if sent.text:
                message["caption"] = sent.text
        elif sent.document is not None:
            document = sent.document
            message["document"] = {"file_id": f"doc-{sent.chat_id}-{sent.message_id}",
                                   "file_unique_id": f"d{sent.chat_id}x{sent.message_id}",
                                   "file_name": document.filename, "file_size": len(document.data),
                                   "mime_type": mimetypes.guess_type(document.filename)[0]
                                   or "application/octet-stream"}
            if sent.text:
                message["caption"] = sent.text
        else:
            message["text"] = sent.text
        if sent.edit_date:
            message["edit_date"] = sent.edit_date
        # only inline keyboards come back in a Message; reply keyboards stay on the client
        if sent.reply_markup and "inline_keyboard" in sent.reply_markup:
            message["reply_markup"] = sent.reply_markup
        return message

"""A fake VK API server that the real vkbottle talks to over HTTP on loopback.

Point vkbottle at it with ``API.API_URL = fake.api_url``. It serves the API methods a community bot
uses (``/method/<name>``, POST form or query, ``access_token`` and ``v`` in the query string as vkbottle
sends them), the Bots Long Poll server (``/longpoll``), a photo upload node (``/upload``) and the photos'
files (``/photo/<name>``, what the ``url`` of a photo's size points to), a document upload node
(``/upload_doc``: ``docs.getMessagesUploadServer``, then ``docs.save``; ``docs`` keeps what was saved), and
answers with VK's envelopes: ``{"response": ...}``, ``{"error": {"error_code", "error_msg",
"request_params"}}``, ``{"ts", "updates"}`` and ``{"failed": n, "ts"}``. Everything is recorded so a
test can assert on what the bot really sent, and failures (rate limit, one-shot errors, a broken upload
node, a lost long-poll key) can be switched on to exercise the unhappy paths.

The Callback API: ``await fake.set_callback(url, secret, confirmation_code)`` adds a server as a community's
settings do (VK first posts a ``confirmation`` event and expects the code in answer); from then on every
event is POSTed there with the secret, one peer's events one at a time in order, and an answer other than
"ok" (a 5xx, a refused or dropped connection, a timeout) is tried again after a growing pause until it is
taken; ``deliveries`` records every attempt. A client may call the API under ``/via/<name>/method/`` to be
told apart (``Call.via``, ``Message.via``).
"""
from __future__ import annotations

import asyncio
import contextlib
import contextvars
import itertools
import json
import secrets
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

API_VERSION = "5.199"
ERRORS = {3: "Unknown method passed", 5: "User authorization failed: invalid access_token (4).",
          6: "Too many requests per second", 9: "Flood control", 10: "Internal server error",
          100: "One of the parameters specified was missing or invalid", 121: "Invalid hash",
          7: "Permission to perform this action is denied", 18: "User was deleted or banned",
          900: "Can't send messages for users from blacklist",
          901: "Can't send messages for users without permission",
          902: "Can't send messages to this user due to their privacy settings", 911: "Keyboard format is invalid"}
# Parameters VK takes as JSON strings; the record holds them decoded.
JSON_PARAMS = ("keyboard", "payload", "template", "forward", "content_source", "event_data")
_VIA: contextvars.ContextVar[str] = contextvars.ContextVar("via", default="")  # the /via/<name>/ of a request
BUTTON_ACTIONS = ["text", "vkpay", "open_app", "location", "open_link", "callback",
                  "intent_subscribe", "intent_unsubscribe"]


class VKError(Exception):
    def __init__(self, code: int, detail: str = "") -> None:
        super().__init__(ERRORS.get(code, "Unknown error") + (f": {detail}" if detail else ""))
        self.code = code


@dataclass(frozen=True)
class Call:
    method: str
    params: dict[str, Any]
    error: int | None = None  # the VK error code the call was answered with, if any
    via: str = ""  # the client's /via/<name>/ prefix, if it used one


@dataclass
class Message:
    """A message the community sent (messages.send), as the recipient would see it."""
    id: int
    peer_id: int
    conversation_message_id: int
    text: str
    keyboard: dict | None = None
    attachment: str | None = None
    random_id: int = 0
    params: dict[str, Any] = field(default_factory=dict)
    edited: bool = False
    via: str = ""  # the /via/<name>/ prefix of the client that sent it


@dataclass(frozen=True)
class Delivery:
    """One attempt at POSTing an event to the Callback API server."""
    event_id: str
    status: int  # the HTTP status answered; 0 when the connection was refused, dropped or timed out
    body: str = ""  # what was answered ("ok" takes the event), or the error


@dataclass(frozen=True)
class Photo:
    id: int
    owner_id: int
    access_key: str
    data: bytes

    @property
    def attachment(self) -> str:
        return f"photo{self.owner_id}_{self.id}_{self.access_key}"


@dataclass(frozen=True)
class Doc:
    """A document the community uploaded for a conversation (``docs.save``)."""
    id: int
    owner_id: int
    peer_id: int  # the conversation its upload server was asked for
    title: str
    filename: str  # the name of the uploaded part
    data: bytes

    @property
    def attachment(self) -> str:
        return f"doc{self.owner_id}_{self.id}"


class FakeVK:
    def __init__(self, token: str = "vk-token", group_id: int = 1, name: str = "Кофейня") -> None:
        self.token, self.group_id, self.name = token, group_id, name
        self.calls: list[Call] = []
        self.messages: list[Message] = []
        self.answers: list[dict[str, Any]] = []  # messages.sendMessageEventAnswer params
        self.events: list[dict[str, Any]] = []  # the long-poll history; ts is an index into it
        self.photos: dict[str, Photo] = {}  # by attachment string
        self.docs: dict[str, Doc] = {}  # by attachment string
        self._doc_uploads: dict[str, tuple[int, str, bytes]] = {}  # token -> (peer, filename, bytes)
        self.users: dict[int, tuple[str, str]] = {}  # id -> (first_name, last_name)
        self.too_many = 0
        self.fail_uploads = False
        self._per_second: int | None = None
        self._recent: deque[float] = deque()
        self._fail_next: dict[str, list[int]] = defaultdict(list)
        self._refused: dict[int, int] = {}  # peer -> the error code every message to it gets
        self._failing: dict[int, list[str]] = defaultdict(list)  # peer -> the next sends' failures
        self._lp_fail: int | None = None
        self._lp_key = secrets.token_hex(8)
        self._ids = itertools.count(1)
        self._cmids: dict[int, itertools.count] = defaultdict(lambda: itertools.count(1))
        self._by_random_id: dict[tuple[int, int], Message] = {}
        self._uploads: dict[str, bytes] = {}
        self.files: dict[str, bytes] = {}  # name -> bytes served at /photo/<name>
        self.downloads: list[str] = []  # names of the files fetched
        self.lose_files = False  # /photo/ answers 404 to every download, as for a file gone
        self._cursor: dict[int, int] = defaultdict(int)
        self._changed = asyncio.Event()  # replaced by a fresh one after every change
        self._closing = False
        self._runner: web.AppRunner | None = None
        self.base_url = ""
        # the Callback API (set_callback)
        self.on_call: Callable[[Call], Any] | None = None  # told of each call answered, before the client is
        self.callback_url = ""
        self.callback_secret = ""
        self.deliveries: list[Delivery] = []
        self.retry_delay, self.max_retry_delay = 0.05, 1.0
        self._unsent: list[dict[str, Any]] = []  # events not yet taken by the callback server
        self._pushing: set[Any] = set()
        self._push_wakeup = asyncio.Event()
        self._pusher: asyncio.Task | None = None
        self._push_tasks: set[asyncio.Task] = set()
        self._http: aiohttp.ClientSession | None = None

    # --- lifecycle -------------------------------------------------------------------------------
    async def start(self) -> FakeVK:
        app = web.Application()
        app.router.add_route("*", "/method/{method}", self._method)
        app.router.add_route("*", "/via/{via}/method/{method}", self._method)
        app.router.add_route("*", "/longpoll", self._longpoll)
        app.router.add_post("/upload", self._upload)
        app.router.add_post("/upload_doc", self._upload_doc)
        app.router.add_get("/photo/{name}", self._photo_file)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.base_url = "http://{}:{}".format(*self._runner.addresses[0][:2])
        return self

    async def stop(self) -> None:
        self._closing = True  # lets hanging long polls return at once
        self._notify()
        self._push_wakeup.set()
        tasks = [*self._push_tasks, *([self._pusher] if self._pusher else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._http is not None:
            await self._http.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeVK:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def api_url(self) -> str:
        """What to assign to vkbottle's ``API.API_URL``."""
        return self.base_url + "/method/"

    def api_url_via(self, name: str) -> str:
        """The API's address for a client to be told apart by: its calls and messages carry ``via``."""
        return f"{self.base_url}/via/{name}/method/"

    # --- the Callback API ------------------------------------------------------------------------
    async def set_callback(self, url: str, secret: str, confirmation_code: str) -> None:
        """Add a Callback API server, as the community's settings do: VK posts a ``confirmation`` event and
        the server must answer the code; then every event (those already waiting too) is POSTed there."""
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        async with self._http.post(url, json={"type": "confirmation", "group_id": self.group_id}) as answer:
            body = await answer.text()
        if answer.status != 200 or body != confirmation_code:
            raise AssertionError(f"the server at {url} did not confirm: {answer.status} {body[:200]!r}")
        self.callback_url, self.callback_secret = url, secret
        if self._pusher is None:
            self._pusher = asyncio.create_task(self._push_events())
        self._push_wakeup.set()

    def undelivered(self) -> list[dict[str, Any]]:
        """Events the callback server has not taken yet (answered "ok")."""
        return list(self._unsent)

    def answered(self, event_id: str) -> list[int]:
        """The statuses the callback server answered for an event, attempt by attempt (0: no answer)."""
        return [d.status for d in self.deliveries if d.event_id == event_id]

    async def _push_events(self) -> None:
        while not self._closing:
            self._push_wakeup.clear()
            waiting: set[Any] = set()
            for event in list(self._unsent):
                key = _peer_of(event)
                if key in self._pushing or key in waiting:
                    waiting.add(key)
                    continue
                waiting.add(key)
                self._pushing.add(key)
                task = asyncio.create_task(self._push_one(event, key))
                self._push_tasks.add(task)
                task.add_done_callback(self._push_tasks.discard)
            await self._push_wakeup.wait()

    async def _push_one(self, event: dict[str, Any], key: Any) -> None:
        delay = self.retry_delay
        try:
            while not self._closing:
                status, body = await self._post_event(event)
                self.deliveries.append(Delivery(event["event_id"], status, body))
                if status == 200 and body == "ok":
                    with contextlib.suppress(ValueError):
                        self._unsent.remove(event)
                    self._notify()
                    return
                self._notify()
                await asyncio.sleep(delay)  # VK sends the event again, later each time
                delay = min(delay * 2, self.max_retry_delay)
        finally:
            self._pushing.discard(key)
            self._push_wakeup.set()

    async def _post_event(self, event: dict[str, Any]) -> tuple[int, str]:
        assert self._http is not None
        try:
            async with self._http.post(self.callback_url, json={**event, "secret": self.callback_secret}) as answer:
                return answer.status, (await answer.text())[:200]
        except (aiohttp.ClientError, TimeoutError, OSError) as e:
            return 0, f"{type(e).__name__}: {e}"[:200]

    # --- switches --------------------------------------------------------------------------------
    def limit(self, per_second: int | None = 20) -> None:
        """Answer error 6 to API calls beyond ``per_second`` in any one-second window (None: off)."""
        self._per_second = per_second
        self._recent.clear()

    def fail_next(self, method: str, code: int = 6) -> None:
        """The next call of ``method`` is answered with VK error ``code`` (queue several if needed)."""
        self._fail_next[method].append(code)

    def refuse(self, peer_id: int, code: int = 901) -> None:
        """Every message to the peer is refused with VK error ``code`` from now on (901: the user never
        allowed the community's messages)."""
        self._refused[peer_id] = code

    def fail(self, peer_id: int, times: int = 1, kind: str = "server") -> None:
        """The next ``times`` messages to the peer fail for a while: ``server`` answers HTTP 500, ``network``
        drops the connection without an answer."""
        assert kind in ("server", "network")
        self._failing[peer_id].extend([kind] * times)

    def fail_longpoll(self, failed: int) -> None:
        """The next long-poll request gets ``{"failed": n}``; 2 and 3 also invalidate the key."""
        self._lp_fail = failed

    # --- events ----------------------------------------------------------------------------------
    def push_event(self, event: dict[str, Any]) -> dict[str, Any]:
        self.events.append(event)
        self._unsent.append(event)
        self._push_wakeup.set()
        self._notify()
        return event

    def _event(self, kind: str, obj: dict[str, Any]) -> dict[str, Any]:
        return self.push_event({"group_id": self.group_id, "type": kind, "event_id": secrets.token_hex(20),
                                "v": API_VERSION, "object": obj})

    def photo_attachment(self, data: bytes, width: int = 1280, height: int = 960,
                         thumbnail: bytes | None = None) -> dict[str, Any]:
        """A photo a user attaches to a message, as VK gives it: its sizes (each a file this server serves at
        its ``url``), the largest last. ``thumbnail`` is the bytes of a small size (the real data when None)."""
        photo_id = next(self._ids)
        sizes = []
        for kind, w, h, blob in (("s", 75, 75 * height // max(width, 1), thumbnail or data),
                                 ("w", width, height, data)):
            name = f"{photo_id}_{kind}.jpg"
            self.files[name] = blob
            sizes.append({"type": kind, "url": f"{self.base_url}/photo/{name}", "width": w, "height": h})
        return {"type": "photo", "photo": {"id": photo_id, "owner_id": 1, "album_id": -3, "date": int(time.time()),
                                           "access_key": secrets.token_hex(6), "text": "", "sizes": sizes}}

    def message_new(self, from_id: int, text: str, ref: str | None = None,
                    payload: dict | str | None = None, ref_source: str | None = None,
                    attachments: list[dict[str, Any]] | None = None, peer_id: int | None = None) -> dict[str, Any]:
        """A user writes to the community (``ref`` arrives on a first message from vk.me/<group>?ref=), or in
        the group chat ``peer_id`` (2000000000 + its number) the community is in.
        Writing allows the community to answer, as in VK: a refusal with error 901 ends."""
        if self._refused.get(from_id) == 901:
            del self._refused[from_id]
        message = {
            "date": int(time.time()), "from_id": from_id, "peer_id": peer_id or from_id, "id": next(self._ids),
            "conversation_message_id": next(self._cmids[peer_id or from_id]), "out": 0, "version": 1,
            "text": text, "attachments": attachments or [], "fwd_messages": [], "important": False,
            "is_hidden": False, "random_id": 0,
        }
        if ref is not None:
            message["ref"] = ref
            message["ref_source"] = ref_source or ""
        if payload is not None:
            message["payload"] = payload if isinstance(payload, str) else json.dumps(payload)
        client_info = {"button_actions": BUTTON_ACTIONS, "keyboard": True, "inline_keyboard": True,
                       "carousel": True, "lang_id": 0}
        return self._event("message_new", {"message": message, "client_info": client_info})

    def message_event(self, user_id: int, payload: dict | None, conversation_message_id: int | None = None,
                      peer_id: int | None = None) -> dict[str, Any]:
        """A user presses a callback button (under a message with ``conversation_message_id``)."""
        return self._event("message_event", {
            "user_id": user_id, "peer_id": peer_id or user_id, "event_id": secrets.token_hex(6),
            "payload": payload, "conversation_message_id": conversation_message_id})

    # --- inspection ------------------------------------------------------------------------------
    def sent(self, peer_id: int | None = None) -> list[Message]:
        return [m for m in self.messages if peer_id is None or m.peer_id == peer_id]

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    async def next_message(self, peer_id: int, timeout: float = 5) -> Message:
        """The next message to ``peer_id`` not yet returned by this method."""
        await self.wait_for(lambda: len(self.sent(peer_id)) > self._cursor[peer_id], timeout,
                            f"a message to {peer_id}")
        self._cursor[peer_id] += 1
        return self.sent(peer_id)[self._cursor[peer_id] - 1]

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 5, what: str = "") -> Any:
        """Wait until ``predicate()`` is truthy (re-checked after every call and event); return it."""
        async def check() -> Any:
            while not (result := predicate()):
                await self._changed.wait()
            return result
        try:
            return await asyncio.wait_for(check(), timeout)
        except TimeoutError:
            recent = [(c.method, c.params, c.error) for c in self.calls[-5:]]
            raise TimeoutError(f"{what or predicate} not seen in {timeout}s; last calls: {recent}") from None

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    # --- HTTP ------------------------------------------------------------------------------------
    async def _params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if request.method == "POST":
            params.update(await request.post())
        for key in JSON_PARAMS:
            if isinstance(params.get(key), str):
                with contextlib.suppress(ValueError):
                    params[key] = json.loads(params[key])
        return params

    async def _method(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        via = request.match_info.get("via", "")
        _VIA.set(via)  # each request is a task of its own
        params = await self._params(request)
        token = params.pop("access_token", None)
        params.pop("v", None)
        try:
            if token != self.token:
                raise VKError(5)
            self._check_rate()
            peer = params.get("peer_id") if method == "messages.send" else None
            if peer is not None and str(peer).lstrip("-").isdigit():
                if int(peer) in self._refused:
                    raise VKError(self._refused[int(peer)])
                if self._failing.get(int(peer)):
                    kind = self._failing[int(peer)].pop(0)
                    self.calls.append(Call(method, params, 10 if kind == "server" else -1))
                    self._notify()
                    if kind == "network":
                        assert request.transport is not None
                        request.transport.close()
                    return web.Response(status=500, text="Internal Server Error")
            if self._fail_next.get(method):
                raise VKError(self._fail_next[method].pop(0))
            handler = getattr(self, "_" + method.replace(".", "_"), None)
            if handler is None:
                raise VKError(3)
            body: dict[str, Any] = {"response": handler(params)}
            self.calls.append(Call(method, params, via=via))
            if self.on_call is not None:
                self.on_call(self.calls[-1])
        except VKError as e:
            self.calls.append(Call(method, params, e.code, via))
            echoed = {"method": method, "oauth": "1", **params}
            body = {"error": {"error_code": e.code, "error_msg": str(e), "request_params": [
                {"key": k, "value": v if isinstance(v, str) else json.dumps(v)} for k, v in echoed.items()]}}
        self._notify()
        return web.json_response(body)

    def _check_rate(self) -> None:
        if self._per_second is None:
            return
        now = time.monotonic()
        while self._recent and now - self._recent[0] >= 1:
            self._recent.popleft()
        if len(self._recent) >= self._per_second:
            self.too_many += 1
            raise VKError(6)
        self._recent.append(now)

    async def _longpoll(self, request: web.Request) -> web.Response:
        params = await self._params(request)
        if self._lp_fail is not None:
            failed, self._lp_fail = self._lp_fail, None
            if failed in (2, 3):
                self._lp_key = secrets.token_hex(8)
            return web.json_response({"failed": failed, "ts": str(len(self.events))})
        if params.get("act") != "a_check" or params.get("key") != self._lp_key:
            return web.json_response({"failed": 2})
        ts = int(params["ts"]) if str(params.get("ts", "")).isdigit() else -1
        if not 0 <= ts <= len(self.events):
            return web.json_response({"failed": 1, "ts": str(len(self.events))})
        wait = min(float(params.get("wait", 25)), 90)
        with contextlib.suppress(TimeoutError):
            await self.wait_for(lambda: len(self.events) > ts or self._closing, wait)
        return web.json_response({"ts": str(len(self.events)), "updates": self.events[ts:]})

    async def _photo_file(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in self.files or self.lose_files:
            return web.Response(status=404, text="Not Found")
        self.downloads.append(name)
        return web.Response(body=self.files[name], content_type="image/jpeg")

    async def _upload(self, request: web.Request) -> web.Response:
        if self.fail_uploads:  # a broken upload node: an HTTP error with a non-JSON body
            return web.Response(status=500, text="Internal Server Error")
        form = await request.post()
        photo = form.get("photo")
        if not isinstance(photo, web.FileField):  # VK answers an upload without a file like this
            return web.json_response({"server": 1, "photo": "[]", "hash": ""})
        token = secrets.token_hex(8)
        self._uploads[token] = photo.file.read()
        return web.json_response({"server": 1, "photo": json.dumps([{"photo": token}]), "hash": token})

    async def _upload_doc(self, request: web.Request) -> web.Response:
        if self.fail_uploads:
            return web.Response(status=500, text="Internal Server Error")
        peer = request.query.get("peer", "")
        form = await request.post()
        file = form.get("file")
        if not isinstance(file, web.FileField) or not peer.lstrip("-").isdigit():
            return web.json_response({"error": "no_file", "error_descr": "file is required"})
        data = file.file.read()
        if not data:
            return web.json_response({"error": "empty_file", "error_descr": "file is empty"})
        token = secrets.token_hex(8)
        self._doc_uploads[token] = (int(peer), file.filename or "", data)
        return web.json_response({"file": token})

    # --- API methods: each takes the decoded params and returns the "response" value -------------
    def _groups_getById(self, params: dict) -> dict:
        group = {"id": self.group_id, "name": self.name, "screen_name": f"club{self.group_id}",
                 "is_closed": 0, "type": "group", "photo_50": "", "photo_100": "", "photo_200": ""}
        return {"groups": [group], "profiles": []}

    def _groups_getLongPollServer(self, params: dict) -> dict:
        if str(params.get("group_id", self.group_id)) != str(self.group_id):
            raise VKError(100, "group_id")
        return {"server": self.base_url + "/longpoll", "key": self._lp_key, "ts": str(len(self.events))}

    def _utils_getServerTime(self, params: dict) -> int:
        return int(time.time())

    def _users_get(self, params: dict) -> list[dict]:
        ids = [int(i) for i in str(params.get("user_ids", "")).split(",") if i.strip()]
        names = {i: self.users.get(i, (f"User{i}", "Test")) for i in ids}
        return [{"id": i, "first_name": first, "last_name": last, "can_access_closed": True,
                 "is_closed": False} for i, (first, last) in names.items()]

    def _messages_send(self, params: dict) -> int | list[dict]:
        if "random_id" not in params:
            raise VKError(100, "random_id is a required parameter")
        if not params.get("message") and not params.get("attachment"):
            raise VKError(100, "message is empty or invalid")
        _check_keyboard(params.get("keyboard"))
        if "peer_ids" in params:
            peers = [int(p) for p in str(params["peer_ids"]).split(",")]
            return [{"peer_id": m.peer_id, "message_id": m.id,
                     "conversation_message_id": m.conversation_message_id}
                    for m in (self._store(p, params) for p in peers)]
        peer = params.get("peer_id") or params.get("user_id")
        if peer is None:
            raise VKError(100, "peer_id")
        return self._store(int(peer), params).id

    def _store(self, peer_id: int, params: dict) -> Message:
        random_id = int(params["random_id"])
        if random_id and (peer_id, random_id) in self._by_random_id:  # VK drops the resend
            return self._by_random_id[(peer_id, random_id)]
        message = Message(next(self._ids), peer_id, next(self._cmids[peer_id]), params.get("message", ""),
                          params.get("keyboard"), params.get("attachment"), random_id, params, via=_VIA.get())
        self.messages.append(message)
        if random_id:
            self._by_random_id[(peer_id, random_id)] = message
        return message

    def _messages_edit(self, params: dict) -> int:
        peer, cmid, mid = (int(params.get(k, 0)) for k in ("peer_id", "conversation_message_id", "message_id"))
        found = [m for m in self.sent(peer) if cmid == m.conversation_message_id or mid == m.id]
        if not found:
            raise VKError(100, "message not found")
        _check_keyboard(params.get("keyboard"))
        message = found[0]
        message.text = params.get("message", message.text)
        message.keyboard = params.get("keyboard", message.keyboard)
        message.attachment = params.get("attachment", message.attachment)
        message.edited = True
        return 1

    def _messages_sendMessageEventAnswer(self, params: dict) -> int:
        if not all(k in params for k in ("event_id", "user_id", "peer_id")):
            raise VKError(100)
        self.answers.append(params)
        return 1

    def _photos_getMessagesUploadServer(self, params: dict) -> dict:
        return {"upload_url": self.base_url + "/upload", "album_id": -3, "group_id": self.group_id}

    def _photos_saveMessagesPhoto(self, params: dict) -> list[dict]:
        token = params.get("hash", "")
        if token not in self._uploads or token not in str(params.get("photo", "")):
            raise VKError(121)
        photo = Photo(next(self._ids), -self.group_id, secrets.token_hex(6), self._uploads.pop(token))
        self.photos[photo.attachment] = photo
        self.files[f"{photo.id}.jpg"] = photo.data
        size = {"type": "x", "url": f"{self.base_url}/photo/{photo.id}.jpg", "width": 604, "height": 604}
        return [{"id": photo.id, "owner_id": photo.owner_id, "access_key": photo.access_key, "album_id": -3,
                 "date": int(time.time()), "text": "", "has_tags": False, "sizes": [size]}]


    def _docs_getMessagesUploadServer(self, params: dict) -> dict:
        if params.get("type", "doc") not in ("doc", "audio_message", "graffiti"):
            raise VKError(100, "type")
        peer = str(params.get("peer_id", ""))
        if not peer.lstrip("-").isdigit():
            raise VKError(100, "peer_id is a required parameter")
        return {"upload_url": f"{self.base_url}/upload_doc?peer={peer}"}

    def _docs_save(self, params: dict) -> dict:
        upload = self._doc_uploads.pop(str(params.get("file", "")), None)
        if upload is None:
            raise VKError(100, "file")
        peer, filename, data = upload
        doc = Doc(next(self._ids), -self.group_id, peer, str(params.get("title") or filename), filename, data)
        self.docs[doc.attachment] = doc
        ext = filename.rpartition(".")[2] if "." in filename else ""
        return {"type": "doc", "doc": {"id": doc.id, "owner_id": doc.owner_id, "title": doc.title,
                                       "size": len(data), "ext": ext, "date": int(time.time()), "type": 1}}


def _peer_of(event: dict[str, Any]) -> Any:
    """The conversation an event belongs to, for keeping its order."""
    obj = event.get("object") or {}
    message = obj.get("message") if isinstance(obj.get("message"), dict) else {}
    return message.get("peer_id") or obj.get("peer_id") or obj.get("user_id") or event.get("event_id")


def _check_keyboard(keyboard: Any) -> None:
    """VK's own limits: at most 5 buttons a row, 10 rows (6 inline), a payload of 255 characters."""
    if keyboard is None:
        return
    if not isinstance(keyboard, dict):
        raise VKError(911)
    rows = keyboard.get("buttons", [])
    payloads = [b.get("action", {}).get("payload") for b in itertools.chain.from_iterable(rows)]
    if (len(rows) > (6 if keyboard.get("inline") else 10) or any(len(r) > 5 for r in rows)
            or any(len(p if isinstance(p, str) else json.dumps(p)) > 255 for p in payloads if p is not None)):
        raise VKError(911)

"""Two ``vitrina run`` processes on one database behind a round-robin balancer, as a shop runs on several machines.

The fake Bot API and the fake VK API push: Telegram POSTs every update to the webhook both instances set
(``setWebhook`` with the balancer's address and the secret), VK every event to the Callback API server
added in the community's settings (the balancer's ``/vk/callback``, confirmed with the code); both try
again after a 5xx or a refused connection. The balancer sends each request to the next instance in turn,
skips one that refuses connections (for a while, then tries it again), and answers 502 when an instance
drops a request it was sent (a POST is not sent twice, as a reverse proxy does not). Each instance calls
the fakes under ``/via/<its name>/``, so every message the fakes record says which instance sent it.

The shop is seeded through the CLI as processes: ``vitrina menu import`` (a pickup point open day and
night; coffee made to order, croissants counted, the last eclairs), ``vitrina staff add`` for a barista in
Telegram and one in VK. Customers write in the chat (the fakes' users), order in the Mini App (its API
through the balancer, launch data signed as Telegram and VK sign it), and the baristas press the buttons
under the new-order notices in their staff chats or use the Mini App's staff screen.
"""
from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
from aiohttp import web
from fake_telegram import FakeTelegram, Sent
from fake_vk import FakeVK, Message
from launch_data import telegram_init_data, vk_launch_params

VITRINA = str(Path(sys.executable).with_name("vitrina"))
TOKEN = "4242:SECRET"
WEBHOOK_SECRET = "hook-s3cret"
VK_GROUP, VK_SECRET, VK_CODE = 7, "callback-s3cret", "c0nf1rm"
APP_ID, APP_SECRET = 51234, "app-secret"
OWNER = 42  # telegram:42
BARISTA_TG, BARISTA_VK = 77, 88  # staff at the point, added with the CLI
STAFF_CHAT, STAFF_PEER = -100777, 2000000001
POINT = "center"
ECLAIRS = 5  # the last units of an item, raced for
WAIT = 120.0  # seconds any one condition may take before the test fails saying which

MENU = f"""
points:
  - id: {POINT}
    name: Кофейня на Пушкина
    address: ул. Пушкина, 10
    hours: mon-sun 00:00-24:00
    prep_minutes: 5
items:
  - id: latte
    category: Кофе
    name: Латте
    price: 220
  - id: croissant
    category: Выпечка
    name: Круассан
    price: 160
    stock: {{{POINT}: 500}}
  - id: eclair
    category: Выпечка
    name: Эклер
    price: 190
    stock: {{{POINT}: {ECLAIRS}}}
"""

T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VITRINA_")}
    # no consent step unless a test asks for one, as tests/bot/cli.py: these journeys predate it
    env["VITRINA_PRIVACY__ASK_CONSENT"] = "false"
    env.update(extra)
    return env


def cli(cwd: Path, env: dict[str, str], *args: str) -> str:
    """``vitrina ARGS`` as an owner runs it; its output, or the test fails with it."""
    done = subprocess.run([VITRINA, *args], cwd=cwd, env=clean_env(**env), capture_output=True, text=True,
                          timeout=120)
    if done.returncode != 0:
        raise AssertionError(f"vitrina {' '.join(args)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return done.stdout


# --- the balancer ----------------------------------------------------------------------------------------

@dataclass
class Passed:
    """One request the balancer passed on: to which instance, and what came of it (0: cut off)."""
    backend: str
    method: str
    path: str
    status: int
    update: str = ""  # a webhook call's update id (Telegram) or event id (VK)


HOP = {"host", "content-length", "transfer-encoding", "connection", "keep-alive"}


class Balancer:
    """Round robin over the instances; one that refuses a connection is skipped for ``down_for`` seconds
    and the request goes to the next; one that drops a request it was sent gets a 502 answered for it (a
    GET is tried on the next, as it is safe to repeat)."""

    def __init__(self, backends: dict[str, str], down_for: float = 2.0) -> None:
        self.backends = backends  # name -> base URL
        self.down_for = down_for
        self.log: list[Passed] = []
        self.in_flight: Counter[tuple[str, str]] = Counter()  # (instance, "webhook" or "api") -> requests
        self._down: dict[str, float] = {}
        self._turn = itertools.cycle(list(backends))
        self._runner: web.AppRunner | None = None
        self._http: aiohttp.ClientSession | None = None
        self.url = ""

    async def __aenter__(self) -> Balancer:
        # a new connection per request: a killed instance refuses the next one, as it would a proxy
        self._http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True), auto_decompress=False,
                                           timeout=aiohttp.ClientTimeout(total=60))
        app = web.Application(client_max_size=4 * 1024 * 1024)
        app.router.add_route("*", "/{path:.*}", self.forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._http is not None:
            await self._http.close()

    def served(self, backend: str, path_start: str = "/") -> int:
        return sum(1 for p in self.log if p.backend == backend and p.path.startswith(path_start) and p.status)

    def cut_off(self, backend: str) -> list[Passed]:
        return [p for p in self.log if p.backend == backend and p.status == 0]

    def _pick(self, tried: set[str]) -> str | None:
        now = time.monotonic()
        for _ in range(len(self.backends)):
            name = next(self._turn)
            if name not in tried and self._down.get(name, 0) <= now:
                return name
        left = [n for n in self.backends if n not in tried]  # all marked down: try one anyway
        return left[0] if left else None

    async def forward(self, request: web.Request) -> web.StreamResponse:
        assert self._http is not None
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP}
        update = _update_of(request.path, body)
        tried: set[str] = set()
        while (name := self._pick(tried)) is not None:
            tried.add(name)
            url = self.backends[name] + request.path_qs
            kind = "webhook" if update else "api"
            self.in_flight[name, kind] += 1
            try:
                async with self._http.request(request.method, url, data=body, headers=headers,
                                              allow_redirects=False) as answer:
                    payload = await answer.read()
                    self.log.append(Passed(name, request.method, request.path, answer.status, update))
                    kept = {k: v for k, v in answer.headers.items() if k.lower() not in HOP}
                    return web.Response(status=answer.status, body=payload, headers=kept)
            except aiohttp.ClientConnectorError:  # refused: it never saw the request
                self._down[name] = time.monotonic() + self.down_for
                continue
            except (aiohttp.ClientError, TimeoutError):  # it took the request and dropped it
                self._down[name] = time.monotonic() + self.down_for
                self.log.append(Passed(name, request.method, request.path, 0, update))
                if request.method in ("GET", "HEAD"):
                    continue
                return web.Response(status=502, text="bad gateway: the instance dropped the request")
            finally:
                self.in_flight[name, kind] -= 1
        return web.Response(status=502, text="bad gateway: no instance answers")


def _update_of(path: str, body: bytes) -> str:
    if path not in ("/telegram/webhook", "/vk/callback"):
        return ""
    with contextlib.suppress(ValueError, AttributeError):
        data = json.loads(body)
        return str(data.get("update_id") or data.get("event_id") or "")
    return ""


# --- an instance -----------------------------------------------------------------------------------------

class Instance:
    """``vitrina run`` as a process; its output is read all the time (a full pipe would stall it)."""

    def __init__(self, name: str, port: int, env: dict[str, str], cwd: Path) -> None:
        self.name, self.port, self.env, self.cwd = name, port, env, cwd
        self.output: list[str] = []
        self.process: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task | None = None
        self.killed = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            VITRINA, "run", cwd=self.cwd, env=clean_env(**self.env), stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT, start_new_session=True)
        self._reader = asyncio.create_task(self._read())
        deadline = time.monotonic() + 120
        while not any("is running at" in line for line in self.output):
            if self.process.returncode is not None or self._reader.done():
                await self._reader
                raise AssertionError(f"instance {self.name} exited ({self.process.returncode}):\n{self.tail(60)}")
            if time.monotonic() > deadline:
                raise AssertionError(f"instance {self.name} did not start in 120 s:\n{self.tail(60)}")
            await asyncio.sleep(0.05)

    async def _read(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        while raw := await self.process.stdout.readline():
            self.output.append(raw.decode(errors="replace"))

    def tail(self, lines: int = 30) -> str:
        return "".join(f"  [{self.name}] {line}" for line in self.output[-lines:])

    def kill_now(self) -> None:
        """SIGKILL, as the machine's power going off would: nothing is finished or answered."""
        assert self.process is not None
        self.killed = True
        os.killpg(self.process.pid, signal.SIGKILL)

    async def stop(self) -> None:
        if self.process is None:
            return
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGINT)
            try:
                await asyncio.wait_for(self.process.wait(), 30)
            except TimeoutError:
                os.killpg(self.process.pid, signal.SIGKILL)
                await self.process.wait()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)


# --- the shop on two instances ---------------------------------------------------------------------------

@dataclass
class Order:
    id: str
    code: str


@dataclass
class Cluster:
    tmp: Path
    database_url: str
    telegram: FakeTelegram
    vk: FakeVK
    balancer: Balancer
    instances: dict[str, Instance]
    http: aiohttp.ClientSession
    db: Any  # the same database, opened in the test through the storage port, to see the outbox
    notes: list[str] = field(default_factory=list)
    # replies lost in the one window a kill may leave (see ``reply_to``): (channel, update, what)
    lost: list[tuple[str, str, str]] = field(default_factory=list)

    # -- waiting ------------------------------------------------------------------------------------

    async def until(self, condition: Callable[[], T], what: str, timeout: float = WAIT, poll: float = 0.02) -> T:
        """Wait until ``condition()`` is truthy and return it; fail naming ``what`` after ``timeout`` s."""
        deadline = time.monotonic() + timeout
        while not (result := condition()):
            if time.monotonic() > deadline:
                raise AssertionError(f"waited {timeout:.0f} s for {what}\n{self.diagnosis()}")
            await asyncio.sleep(poll)
        return result

    def taken(self, channel: str, update: str) -> bool:
        """The platform's call with this update or event was answered 2xx ("ok" for VK): it will not come
        again. An instance sends an update's replies before it answers, so a reply not there by then never
        comes."""
        if channel == "telegram":
            return any(200 <= s < 300 for s in self.telegram.answered(int(update)))
        return any(d.event_id == update and d.status == 200 and d.body == "ok" for d in self.vk.deliveries)

    async def reply_to(self, channel: str, update: str, condition: Callable[[], T], what: str) -> T:
        """Wait for the reply to an update: fail at once when the update was taken without it."""
        await self.until(lambda: condition() or self.taken(channel, update), what)
        if not (result := condition()):
            attempts = (self.telegram.answered(int(update)) if channel == "telegram" else self.vk.answered(update))
            passed = [(p.backend, p.status) for p in self.balancer.log if p.update == update]
            if passed and passed[0][1] == 0 and passed[-1][1] == 200 and passed[-1][0] != passed[0][0]:
                # cut off at an instance killed after it had handled the update and recorded it so, before its
                # reply went out: the other instance answers the repeat "handled" (doing the deed again would
                # do it twice), so that reply is lost; the deed itself is done (the journey checks it goes on)
                self.lost.append((channel, update, what))
                return None  # type: ignore[return-value]
            raise AssertionError(f"{channel} update {update} was taken without {what}: the platform's attempts "
                                 f"were answered {attempts}, through the balancer {passed}\n{self.diagnosis()}")
        return result

    def diagnosis(self) -> str:
        pending = [u["update_id"] for u in self.telegram.pending()]
        undelivered = [e["event_id"][:8] for e in self.vk.undelivered()]
        logs = "\n".join(i.tail(25) for i in self.instances.values())
        cut = [p for p in self.balancer.log if p.status in (0, 500, 502)][-10:]
        return (f"Telegram updates not taken: {pending}; VK events not taken: {undelivered}\n"
                f"balancer cut-offs and 5xx (last 10): {cut}\n{logs}")

    # -- the Mini App's API through the balancer ----------------------------------------------------

    async def api(self, method: str, path: str, auth: dict[str, str], body: Any = None) -> tuple[int, Any]:
        """One call as the Mini App makes it; a 502 from the balancer (an instance gone mid-request) or a
        dropped connection is tried again, as the front end does with the same request id."""
        deadline = time.monotonic() + WAIT
        while True:
            try:
                async with self.http.request(method, self.balancer.url + path, json=body, headers=auth) as answer:
                    if answer.status != 502:
                        return answer.status, await answer.json()
                    what = await answer.text()
            except aiohttp.ClientError as e:
                what = repr(e)
            if time.monotonic() > deadline:
                raise AssertionError(f"{method} {path} kept failing: {what}\n{self.diagnosis()}")
            self.notes.append(f"{method} {path} tried again after: {what[:80]}")
            await asyncio.sleep(0.05)

    # -- staff ------------------------------------------------------------------------------------------

    def staff_auth(self, channel: str) -> dict[str, str]:
        return telegram_auth(BARISTA_TG) if channel == "telegram" else vk_auth(BARISTA_VK)

    async def staff_step(self, order: Order, step: str, channel: str) -> None:
        """A barista accepts or readies the order on the Mini App's staff screen (repeated after a 502: a
        409 then means the first call did it, which the order's status must show)."""
        status, answer = await self.api("POST", f"/api/staff/orders/{order.id}/{step}", self.staff_auth(channel))
        if status == 409:
            status, answer = await self.api("GET", f"/api/orders/{order.id}", self.staff_auth(channel))
            wanted = {"accept": {"accepted", "ready", "picked_up"}, "ready": {"ready", "picked_up"}}[step]
            assert answer.get("status") in wanted, (step, order, answer)
            return
        assert status == 200, (step, order, status, answer)

    async def hand_over(self, order: Order, channel: str) -> None:
        status, answer = await self.api("POST", "/api/staff/handover", self.staff_auth(channel),
                                        {"code": order.code, "point": POINT})
        if status == 409:  # the first call did it, and its answer was lost
            status, answer = await self.api("GET", f"/api/orders/{order.id}", self.staff_auth(channel))
        assert status == 200 and answer["status"] == "picked_up", (order, status, answer)

    async def press_in_staff_chat(self, channel: str, code: str, text: str, button: str) -> str:
        """The barista presses ``button`` under the staff chat's message that has ``text`` about order ``code``;
        the update's id."""
        if channel == "telegram":
            found: Sent = await self.until(lambda: next((m for m in self.telegram.sent(STAFF_CHAT)
                                                         if f"№ {code}" in (m.text or "") and text in (m.text or "")
                                                         and _tg_button(m, button)), None),
                                           f"{text!r} about order {code} in the Telegram staff chat")
            update = self.telegram.press_button(BARISTA_TG, found.message_id, _tg_button(found, button),
                                                chat_id=STAFF_CHAT)
            return str(update["update_id"])
        else:
            message: Message = await self.until(lambda: next((m for m in self.vk.sent(STAFF_PEER)
                                                              if f"№ {code}" in m.text and text in m.text
                                                              and _vk_button(m, button)), None),
                                                f"{text!r} about order {code} in the VK staff chat")
            event = self.vk.message_event(BARISTA_VK, _vk_button(message, button),
                                          conversation_message_id=message.conversation_message_id, peer_id=STAFF_PEER)
            return event["event_id"]

    def staff_texts(self, channel: str) -> list[str]:
        if channel == "telegram":
            return [m.text or "" for m in self.telegram.sent(STAFF_CHAT)]
        return [m.text for m in self.vk.sent(STAFF_PEER)]

    # -- the state of things ----------------------------------------------------------------------------

    async def outbox_left(self) -> list[str]:
        """The notifications not handled yet (neither delivered nor given up), and those failing: asked through
        the storage port."""
        async with self.db.uow() as uow:
            pending = await uow.outbox.pending("notify")
            failures = await uow.outbox.failures()
        return ([f"pending {e.id} {e.type.value}" for e in pending] +
                [f"failing {f.event_id} x{f.attempts}{' dead' if f.dead else ''}: {f.error}" for f in failures])

    async def settled(self, what: str) -> None:
        """Wait until every update and event was taken and every notification handled."""
        deadline, left = time.monotonic() + WAIT, []
        while self.telegram.pending() or self.vk.undelivered() or (left := await self.outbox_left()):
            if time.monotonic() > deadline:
                raise AssertionError(f"waited {WAIT:.0f} s for {what}: updates, events or notifications left; "
                                     f"the outbox: {left[:10]}\n{self.diagnosis()}")
            await asyncio.sleep(0.2)

    def stock(self, item: str) -> int | None:
        """The item's count at the point, as ``vitrina menu export`` writes it (None: not counted)."""
        out = self.tmp / "exported.yaml"
        cli(self.tmp, {"VITRINA_DATABASE_URL": self.database_url}, "menu", "export", str(out))
        import yaml

        items = {i["id"]: i for i in yaml.safe_load(out.read_text(encoding="utf-8"))["items"]}
        return (items[item].get("stock") or {}).get(POINT)


def telegram_auth(user_id: int) -> dict[str, str]:
    return {"Authorization": "tma " + telegram_init_data(user_id, int(time.time()), token=TOKEN,
                                                         first_name=f"Гость{user_id}")}


def vk_auth(user_id: int) -> dict[str, str]:
    return {"Authorization": "vk " + vk_launch_params(user_id, int(time.time()), secret=APP_SECRET, app_id=APP_ID)}


def _tg_button(message: Sent, label: str) -> str | None:
    for row in (message.reply_markup or {}).get("inline_keyboard", []):
        for b in row:
            if b.get("text") == label and "callback_data" in b:
                return b["callback_data"]
    return None


def _vk_button(message: Message, label: str) -> dict | None:
    for row in (message.keyboard or {}).get("buttons", []):
        for b in row:
            action = b.get("action", {})
            if action.get("label") == label and action.get("type") == "callback":
                payload = action.get("payload")
                return json.loads(payload) if isinstance(payload, str) else payload
    return None


# --- customers -------------------------------------------------------------------------------------------

@dataclass
class Customer:
    """A person with the shop in one messenger: writes in the chat, orders in the Mini App."""
    cluster: Cluster
    channel: str  # telegram | vk
    user_id: int
    said: list[str] = field(default_factory=list)  # update ids (Telegram) or event ids (VK) of what they wrote

    @property
    def auth(self) -> dict[str, str]:
        return telegram_auth(self.user_id) if self.channel == "telegram" else vk_auth(self.user_id)

    def texts(self) -> list[str]:
        if self.channel == "telegram":
            return [m.text or "" for m in self.cluster.telegram.sent(self.user_id)]
        return [m.text for m in self.cluster.vk.sent(self.user_id)]

    def messages(self) -> list[Sent] | list[Message]:
        if self.channel == "telegram":
            return self.cluster.telegram.sent(self.user_id)
        return self.cluster.vk.sent(self.user_id)

    def say(self, what: str) -> str:
        """Write in the chat: ``start`` (the first message, from the point's link), ``orders``; the update's id."""
        if self.channel == "telegram":
            text = {"start": f"/start p{POINT}", "orders": "/orders"}[what]
            update = self.cluster.telegram.send_message(self.user_id, text, first_name=f"Гость{self.user_id}")
            self.said.append(str(update["update_id"]))
        else:
            event = (self.cluster.vk.message_new(self.user_id, "Привет", ref=f"p{POINT}") if what == "start"
                     else self.cluster.vk.message_new(self.user_id, "заказы"))
            self.said.append(event["event_id"])
        return self.said[-1]

    async def reply(self, update: str, text: str, what: str) -> str:
        """The reply to what they wrote: the message with ``text``."""
        return await self.cluster.reply_to(self.channel, update, lambda: next(
            (t for t in self.texts() if text in t), None), f"{what} ({text!r}) in {self.channel} chat {self.user_id}")

    async def expect(self, text: str, what: str) -> None:
        await self.cluster.until(lambda: any(text in t for t in self.texts()),
                                 f"{what} ({text!r}) in {self.channel} chat {self.user_id}")

    async def order(self, item: str, request_id: str) -> tuple[int, Any]:
        body = {"point": POINT, "lines": [{"item": item, "quantity": 1, "options": {}}], "promo": None,
                "points": 0, "pickup_at": None, "payment": "counter", "request_id": request_id}
        return await self.cluster.api("POST", "/api/orders", self.auth, body)


def seed(tmp: Path, database_url: str) -> None:
    """The shop as its owner sets it up: the menu file, then a barista in each messenger."""
    env = {"VITRINA_DATABASE_URL": database_url}
    (tmp / "shop.yaml").write_text(MENU, encoding="utf-8")
    cli(tmp, env, "menu", "import", "shop.yaml")
    cli(tmp, env, "staff", "add", f"telegram:{BARISTA_TG}", "--point", POINT)
    cli(tmp, env, "staff", "add", f"vk:{BARISTA_VK}", "--point", POINT)


def instance_env(name: str, port: int, database_url: str, telegram: FakeTelegram, vk: FakeVK,
                 balancer_url: str) -> dict[str, str]:
    return {
        "VITRINA_DATABASE_URL": database_url, "VITRINA_OWNERS": f"telegram:{OWNER}",
        "VITRINA_WEBAPP__PORT": str(port), "VITRINA_WEBAPP__PUBLIC_URL": "https://coffee.example",
        "VITRINA_SHUTDOWN_SECONDS": "3",  # Ctrl-C at the end of a test: what is in flight has long finished
        "VITRINA_TELEGRAM__TOKEN": TOKEN, "VITRINA_TELEGRAM__API_BASE": telegram.base_url_via(name),
        "VITRINA_TELEGRAM__WEBHOOK_URL": balancer_url + "/telegram/webhook",
        "VITRINA_TELEGRAM__WEBHOOK_SECRET": WEBHOOK_SECRET, "VITRINA_TELEGRAM__STAFF_CHAT_ID": str(STAFF_CHAT),
        "VITRINA_VK__TOKEN": vk.token, "VITRINA_VK__GROUP_ID": str(VK_GROUP),
        "VITRINA_VK__API_BASE": vk.api_url_via(name),
        "VITRINA_VK__APP_ID": str(APP_ID), "VITRINA_VK__APP_SECRET": APP_SECRET,
        "VITRINA_VK__CALLBACK_SECRET": VK_SECRET, "VITRINA_VK__CONFIRMATION_CODE": VK_CODE,
        "VITRINA_VK__STAFF_PEER_ID": str(STAFF_PEER),
    }


@contextlib.asynccontextmanager
async def two_instances(tmp: Path, database_url: str, **settings: str) -> AsyncIterator[Cluster]:
    """The seeded shop served by instances ``a`` and ``b`` behind the balancer, both channels pushing to it;
    ``settings`` are more of the instances' variables."""
    ports = {"a": free_port(), "b": free_port()}
    async with contextlib.AsyncExitStack() as stack:
        telegram = await stack.enter_async_context(FakeTelegram(token=TOKEN, push=True))
        vk = await stack.enter_async_context(FakeVK(group_id=VK_GROUP))
        balancer = await stack.enter_async_context(
            Balancer({name: f"http://127.0.0.1:{port}" for name, port in ports.items()}))
        instances = {name: Instance(name, port, {**instance_env(name, port, database_url, telegram, vk, balancer.url),
                                                 **settings}, tmp) for name, port in ports.items()}
        for instance in instances.values():
            stack.push_async_callback(instance.stop)
        # the owner seeds the shop while the instances start (all three apply migrations, one at a time)
        await asyncio.gather(asyncio.to_thread(seed, tmp, database_url), *(i.start() for i in instances.values()))
        assert telegram.webhook_url == balancer.url + "/telegram/webhook" and telegram.webhook_secret == WEBHOOK_SECRET
        await vk.set_callback(balancer.url + "/vk/callback", VK_SECRET, VK_CODE)
        http = await stack.enter_async_context(aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)))
        from bot.main import open_database
        from bot.settings import load_settings

        db = await open_database(load_settings(database_url=database_url))
        stack.push_async_callback(db.close)
        yield Cluster(tmp, database_url, telegram, vk, balancer, instances, http, db)

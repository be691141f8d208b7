"""The fake VK server, driven by the real vkbottle over loopback HTTP."""
from __future__ import annotations

import asyncio
import contextlib

import pytest
from aiohttp import web
from fake_vk import FakeVK
from vkbottle import API, Bot, Callback, GroupEventType, Keyboard, OpenLink, PhotoMessageUploader, VKAPIError
from vkbottle.bot import Message, MessageEvent
from vkbottle.http import SingleAiohttpClient
from vkbottle.polling import BotPolling

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
async def vk():
    saved = API.API_URL
    async with FakeVK() as fake:
        API.API_URL = fake.api_url
        try:
            yield fake
        finally:
            API.API_URL = saved
            await SingleAiohttpClient().close()  # vkbottle shares one session across API instances


class QuietPolling(BotPolling):
    """BotPolling writes its ts to ./.vkbottle/bot-polling/ after every event, even with
    skip_old_events, from a worker thread that outlives a cancelled task: keep tests from writing there."""

    def save_server_ts(self, server: dict) -> None:
        pass


@contextlib.asynccontextmanager
async def polling(bot: Bot, fake: FakeVK):
    """Run the bot's long poll in a task, as `bot.run()` would, until the block ends."""
    task = asyncio.create_task(bot.run_polling())
    try:
        # Events pushed before the bot fetched its server would be skipped (skip_old_events).
        await fake.wait_for(lambda: fake.calls_to("groups.getLongPollServer"))
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_api_reads_the_group_and_sends_a_keyboard(vk):
    api = API(vk.token)
    group = (await api.groups.get_by_id()).groups[0]
    assert (group.id, group.name) == (1, "Кофейня")

    keyboard = (Keyboard(inline=True).add(Callback("В корзину", payload={"add": "latte"}))
                .add(OpenLink("https://example.org/menu", "Меню")))
    message_id = await api.messages.send(peer_id=42, message="Латте", keyboard=keyboard.get_json(),
                                         random_id=7)

    [sent] = vk.sent(42)
    assert sent.id == message_id and sent.text == "Латте" and sent.conversation_message_id == 1
    buttons = sent.keyboard["buttons"][0]
    assert buttons[0]["action"] == {"type": "callback", "label": "В корзину", "payload": {"add": "latte"}}
    assert buttons[1]["action"] == {"type": "open_link", "link": "https://example.org/menu", "label": "Меню"}
    assert [c.method for c in vk.calls] == ["groups.getById", "messages.send"]
    assert vk.calls[1].params["keyboard"]["inline"] is True


async def test_wrong_token_and_unknown_method_are_vk_errors(vk):
    with pytest.raises(VKAPIError[5]):
        await API("stolen").utils.get_server_time()
    with pytest.raises(VKAPIError[3]):
        await API(vk.token).request("shop.buyEverything", {})
    assert [c.error for c in vk.calls] == [5, 3]


async def test_a_resend_with_the_same_random_id_is_stored_once(vk):
    api = API(vk.token)
    first = await api.messages.send(peer_id=42, message="Заказ готов", random_id=1001)
    again = await api.messages.send(peer_id=42, message="Заказ готов", random_id=1001)
    other_peer = await api.messages.send(peer_id=43, message="Заказ готов", random_id=1001)
    assert first == again != other_peer
    assert len(vk.sent(42)) == 1
    # random_id=0 (vkbottle's default in Message.answer) means "no deduplication".
    await api.messages.send(peer_id=44, message="a", random_id=0)
    await api.messages.send(peer_id=44, message="a", random_id=0)
    assert len(vk.sent(44)) == 2
    with pytest.raises(VKAPIError[100]):
        await api.messages.send(peer_id=44, message="no random_id")


async def test_error_6_reaches_the_caller_without_a_retry(vk):
    api = API(vk.token)
    vk.limit(per_second=2)
    await api.utils.get_server_time()
    await api.utils.get_server_time()
    with pytest.raises(VKAPIError[6]) as raised:
        await api.messages.send(peer_id=42, message="too fast", random_id=5)
    assert raised.value.error_msg == "Too many requests per second"
    assert raised.value.request_params["method"] == "messages.send"
    assert vk.too_many == 1 and len(vk.calls) == 3 and vk.sent() == []

    vk.limit(None)
    vk.fail_next("messages.send", code=6)
    with pytest.raises(VKAPIError[6]):
        await api.messages.send(peer_id=42, message="once", random_id=6)
    await api.messages.send(peer_id=42, message="once", random_id=6)
    assert [m.text for m in vk.sent(42)] == ["once"]


async def test_a_bot_on_long_poll_answers_a_message(vk):
    bot = Bot(token=vk.token, polling=QuietPolling())

    @bot.on.message()
    async def echo(message: Message) -> None:
        await message.answer(f"echo {message.text} {message.ref}")

    async with polling(bot, vk):
        vk.message_new(42, "привет", ref="pcenter")
        assert (await vk.next_message(42)).text == "echo привет pcenter"

        vk.fail_longpoll(2)  # the key expires: vkbottle fetches a new server and keeps its ts
        vk.message_new(42, "ещё")
        assert (await vk.next_message(42)).text == "echo ещё None"
        vk.message_new(42, "и ещё")
        assert (await vk.next_message(42)).text == "echo и ещё None"
    assert len(vk.calls_to("groups.getLongPollServer")) == 2


async def test_a_callback_button_press_is_answered(vk):
    bot = Bot(token=vk.token, polling=QuietPolling())

    @bot.on.raw_event(GroupEventType.MESSAGE_EVENT, dataclass=MessageEvent)
    async def pressed(event: MessageEvent) -> None:
        await event.show_snackbar(f"added {event.payload['add']}")
        await event.edit_message("В корзине: латте")

    sent = await bot.api.messages.send(peer_id=42, message="Латте", random_id=1)
    cmid = vk.sent(42)[0].conversation_message_id
    async with polling(bot, vk):
        event = vk.message_event(42, {"add": "latte"}, conversation_message_id=cmid)
        await vk.wait_for(lambda: vk.sent(42)[0].edited)
    [answer] = vk.answers
    assert answer["event_id"] == event["object"]["event_id"]
    assert answer["event_data"] == {"type": "show_snackbar", "text": "added latte"}
    assert vk.sent(42)[0].id == sent and vk.sent(42)[0].text == "В корзине: латте"


async def test_a_photo_uploads_and_is_attached(vk):
    api = API(vk.token)
    attachment = await PhotoMessageUploader(api).upload(PNG, peer_id=42)
    assert vk.photos[attachment].data == PNG and attachment.startswith("photo-1_")
    await api.messages.send(peer_id=42, attachment=attachment, random_id=3)
    assert vk.sent(42)[0].attachment == attachment

    vk.fail_uploads = True
    with pytest.raises(ValueError):  # vkbottle parses the upload node's answer as JSON
        await PhotoMessageUploader(api).upload(PNG, peer_id=42)
    assert len(vk.photos) == 1


async def test_users_and_a_keyboard_over_vk_limits(vk):
    api = API(vk.token)
    vk.users[42] = ("Анна", "Петрова")
    [user] = await api.users.get(user_ids=[42])
    assert (user.first_name, user.last_name) == ("Анна", "Петрова")

    keyboard = Keyboard(inline=True)
    for i in range(6):
        keyboard.add(Callback(str(i), payload={"i": i}))
    with pytest.raises(VKAPIError[911]):
        await api.messages.send(peer_id=42, message="x", keyboard=keyboard.get_json(), random_id=1)
    assert vk.calls[-1].error == 911 and len(vk.calls[-1].params["keyboard"]["buttons"][0]) == 6
    with pytest.raises(TimeoutError):
        await vk.next_message(42, timeout=0.1)


# --- the Callback API: events POSTed to the community's server -----------------------------------

class CallbackServer:
    """A community's Callback API server on loopback: confirms with the code, then answers a peer's events
    from a script (then "ok"), recording what came."""

    def __init__(self, code: str, script: dict[int, list[tuple[int, str]]] | None = None) -> None:
        self.code, self.script = code, script or {}
        self.got: list[dict] = []
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        event = await request.json()
        if event["type"] == "confirmation":
            return web.Response(text=self.code)
        self.got.append(event)
        if answers := self.script.get(event["object"]["message"]["peer_id"]):
            status, text = answers.pop(0)
            return web.Response(status=status, text=text)
        await asyncio.sleep(0.02)  # the peer's next event must wait for this answer
        return web.Response(text="ok")

    async def __aenter__(self) -> CallbackServer:
        app = web.Application()
        app.router.add_post("/vk", self.handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self.runner.addresses[0][1]}/vk"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.runner is not None
        await self.runner.cleanup()


async def test_callback_events_are_posted_with_the_secret_in_order_and_retried_until_ok():
    async with FakeVK(group_id=7) as fake, CallbackServer("c0de", {100: [(500, "boom"), (200, "not ok")]}) as server:
        fake.retry_delay = 0.01
        first = fake.message_new(100, "Привет")  # waits for a server to be added
        second = fake.message_new(100, "Меню")
        other = fake.message_new(200, "Привет")
        with pytest.raises(AssertionError, match="did not confirm"):
            await fake.set_callback(server.url, "s3cret", "wrong code")
        await fake.set_callback(server.url, "s3cret", "c0de")
        await fake.wait_for(lambda: not fake.undelivered() and len(server.got) == 5, 5)
        assert fake.answered(first["event_id"]) == [500, 200, 200]  # "not ok" is not taken either
        assert fake.answered(second["event_id"]) == fake.answered(other["event_id"]) == [200]
        assert [e["event_id"] for e in server.got if e["object"]["message"]["peer_id"] == 100] == \
            [first["event_id"]] * 3 + [second["event_id"]]
        assert {e["secret"] for e in server.got} == {"s3cret"} and {e["group_id"] for e in server.got} == {7}


async def test_callback_events_wait_out_a_server_that_refuses_connections():
    async with FakeVK(group_id=7) as fake:
        fake.retry_delay = 0.01
        async with CallbackServer("c0de") as server:
            await fake.set_callback(server.url, "s3cret", "c0de")
        event = fake.message_new(100, "Привет")  # nobody listens at the address now
        await fake.wait_for(lambda: len(fake.answered(event["event_id"])) >= 2, 5)
        assert set(fake.answered(event["event_id"])) == {0} and fake.undelivered() == [event]
        async with CallbackServer("c0de") as server:
            fake.callback_url = server.url  # the server is back at a new address
            await fake.wait_for(lambda: not fake.undelivered(), 5)
        assert [e["event_id"] for e in server.got] == [event["event_id"]]


async def test_a_client_under_via_is_told_apart(vk):
    api = API("vk-token")
    api.API_URL = vk.api_url_via("b")
    await api.messages.send(peer_id=100, message="из второго", random_id=1)
    assert [c.via for c in vk.calls] == ["b"] and vk.sent(100)[0].via == "b"


async def test_a_call_is_told_of_before_its_answer_goes_out(vk):
    told = []
    vk.on_call = lambda call: told.append((call.method, len(vk.messages)))
    await API("vk-token").messages.send(peer_id=100, message="раз", random_id=1)
    assert told == [("messages.send", 1)]

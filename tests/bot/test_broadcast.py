"""Broadcasts as the owner and customers meet them: the real aiogram and vkbottle against the fake Bot API and
VK API servers, the real sender (``bot/broadcaster.py``), and ``vitrina broadcast`` as a process.

Every test counts, per recipient, the copies of the message the fake servers received: nobody gets it
twice, whatever stops, fails or restarts in between.
"""
from __future__ import annotations

import asyncio
import re
from contextlib import asynccontextmanager
from dataclasses import dataclass

import pytest
from cli import VITRINA, clean_env, vitrina
from fake_telegram import FakeTelegram
from fake_vk import FakeVK
from shop_fixtures import OWNER, FakeClock, seed
from telegram_harness import TelegramShop, telegram_shop
from vk_harness import VkShop, vk_shop

from adapters.ratelimit import RateLimiter
from bot.broadcaster import Broadcaster, TokenBucket
from journey.audit import CLI
from journey.broadcasts import CLAIM_LEASE, BroadcastStatus
from journey.channels import Channel, CustomerRef, Reply
from journey.engine import Engine
from journey.errors import ErrorCode
from journey.ports import Messenger
from storage.sqlite import SqliteDatabase

VK_OWNER = CustomerRef(Channel.VK, "42")
TEXT = "Новый тыквенный раф — только до воскресенья"


def tg(user: int) -> CustomerRef:
    return CustomerRef(Channel.TELEGRAM, str(user))


def vk(user: int) -> CustomerRef:
    return CustomerRef(Channel.VK, str(user))


@pytest.fixture
async def engine(db, clock) -> Engine:
    """The shop with an owner in each channel, and the channels ``vitrina run`` would record."""
    eng = Engine(db.uow, owners=[OWNER, VK_OWNER], clock=clock, reader=db.reading)
    await eng.start()
    await seed(eng)
    await eng.set_broadcast_channels(["telegram", "vk"])
    return eng


@dataclass
class Shop:
    engine: Engine
    tg: TelegramShop
    vk: VkShop

    @property
    def messengers(self) -> dict[Channel, Messenger]:
        return {Channel.TELEGRAM: self.tg.channel.messenger, Channel.VK: self.vk.channel.messenger}

    def got(self, ref: CustomerRef, text: str = TEXT) -> int:
        """Copies of the broadcast this account received."""
        if ref.channel == Channel.TELEGRAM:
            return sum(text in (m.text or "") for m in self.tg.fake.sent(int(ref.external_id)))
        return sum(text in m.text for m in self.vk.fake.sent(int(ref.external_id)))

    def texts(self, ref: CustomerRef) -> list[str]:
        if ref.channel == Channel.TELEGRAM:
            return [m.text or "" for m in self.tg.fake.sent(int(ref.external_id))]
        return [m.text for m in self.vk.fake.sent(int(ref.external_id))]


@asynccontextmanager
async def both_channels(engine: Engine):
    async with telegram_shop(engine) as t, vk_shop(engine) as v:
        # one message a second per chat is the messengers' own rule, tested with them; here it would only
        # make the owner's chat slow
        for messenger in (t.channel.messenger, v.channel.messenger):
            messenger.limiter = RateLimiter(per_second=1000, chat_interval=0.001, chat_burst=1000)
        yield Shop(engine, t, v)


async def join(shop: Shop, *refs: CustomerRef) -> None:
    """Each customer writes /start, as someone who opens the bot does (and so agrees to news)."""
    for ref in refs:
        if ref.channel == Channel.TELEGRAM:
            await shop.tg.chat(int(ref.external_id)).send("/start")
        else:
            await shop.vk.dialogue(int(ref.external_id)).send("/start")


async def said(shop: Shop, ref: CustomerRef, words: str) -> str:
    """The message to this account that has these words, once it arrives (the sender's reports come between)."""
    def found() -> str | None:
        return next((t for t in shop.texts(ref) if words in t), None)
    if ref.channel == Channel.VK:
        return await shop.vk.fake.wait_for(found)
    return await shop.tg.fake.wait_for(lambda calls: found())


async def broadcast_by_chat(shop: Shop, text: str = TEXT) -> int:
    """The Telegram owner sends a broadcast through the chat; returns its id."""
    owner = shop.tg.chat(1)
    await owner.send("/broadcast")
    await owner.send(text)
    preview = await shop.tg.fake.next_message(1)
    started = await owner.press(preview, "Отправить")
    assert "Рассылка началась" in started.text, started.text
    progress = await shop.engine.broadcast_progress(CLI)
    assert progress is not None
    return progress.broadcast.id


async def test_the_owner_broadcasts_to_customers_who_agreed_in_both_channels(engine):
    async with both_channels(engine) as shop:
        await join(shop, tg(501), tg(502), vk(601))
        await shop.tg.chat(502).send("/stop")
        linked = shop.tg.chat(503)  # one person with a Telegram and a VK account
        code = re.search(r"\d{6}", (await linked.send("/link")).text).group()
        assert "связаны" in (await shop.vk.dialogue(603).send(code)).text

        owner = shop.tg.chat(1)
        ask = await owner.send("/broadcast")
        assert "Пришлите текст рассылки" in ask.text and "Telegram: 3, ВКонтакте: 1" in ask.text
        shown = await owner.send(TEXT)
        assert shown.text.startswith(TEXT) and "/stop" in shown.text  # as customers will see it
        preview = await shop.tg.fake.next_message(1)
        assert "Получателей: 4 (Telegram: 3, ВКонтакте: 1)" in preview.text
        assert await engine.dialog(owner.ref) is not None
        started = await owner.press(preview, "Отправить")
        assert "получателей 4" in started.text and await engine.dialog(owner.ref) is None
        again = await shop.tg.chat(1).press(preview, "Отправить")  # the old preview's button does nothing
        assert "уже не действует" in again.text

        progress = await engine.broadcast_progress(CLI)
        sent = await Broadcaster(engine, shop.messengers).send(progress.broadcast.id)

        assert sent == 4
        # the owner saw it twice: once as the preview, once as a customer
        for ref, copies in ((tg(1), 2), (tg(501), 1), (tg(502), 0), (tg(503), 1), (vk(603), 0), (vk(601), 1)):
            assert shop.got(ref) == copies, ref
        vk_copy = next(m for m in shop.vk.fake.sent(601) if TEXT in m.text)
        assert vk_copy.keyboard["buttons"][0][0]["action"]["type"] == "open_app"  # the shop's own button
        done = [t for t in shop.texts(tg(1)) if "Рассылка завершена" in t]
        assert done == ["📣 Рассылка завершена: доставлено 4 из 4, не доставлено 0."]
        finished = await engine.broadcast_progress(CLI)
        assert finished.broadcast.status is BroadcastStatus.DONE and finished.sent == 4

        # sending again changes nothing: every row is dealt with
        assert await Broadcaster(engine, shop.messengers).send(progress.broadcast.id) == 0
        assert shop.got(tg(501)) == 1


async def test_the_owner_sees_the_progress_and_stops_it_in_the_middle_from_vk(engine):
    class Held:
        """The Telegram messenger, holding its fifth send until the test lets it go."""

        def __init__(self, inner: Messenger) -> None:
            self.inner, self.channel, self.calls = inner, inner.channel, 0
            self.holding, self.release = asyncio.Event(), asyncio.Event()

        async def send(self, to: CustomerRef, reply: Reply, key: str = "") -> None:
            self.calls += 1
            if self.calls == 5:
                self.holding.set()
                await self.release.wait()
            await self.inner.send(to, reply, key)

    async with both_channels(engine) as shop:
        customers = [tg(501 + n) for n in range(8)]
        for ref in customers:
            await engine.identify(ref)
        owner = shop.vk.dialogue(42)
        await owner.send("/stop")  # the owner wants no news, but hears how the broadcast goes all the same
        assert "Telegram: 8, ВКонтакте: 0" in (await owner.send("/broadcast")).text
        await owner.send(TEXT)
        preview = await shop.vk.fake.next_message(42)
        assert "Получателей: 8" in preview.text
        await owner.press(preview, "Отправить")

        shown = await owner.send("/broadcast")  # while it is being sent: how it goes
        assert "Рассылка: 0% — отправлено 0 из 8" in shown.text and "Остановить рассылку" in str(shown.keyboard)

        held = Held(shop.tg.channel.messenger)
        sender = Broadcaster(engine, {Channel.TELEGRAM: held, Channel.VK: shop.vk.channel.messenger},
                             batch=2, concurrency=1)
        sending = asyncio.create_task(sender.send((await engine.broadcast_progress(CLI)).broadcast.id))
        await held.holding.wait()
        shop.vk.fake.message_new(42, "/broadcast stop")
        stopped = await said(shop, VK_OWNER, "остановлена")
        held.release.set()  # the message already on its way still arrives
        await sending

        assert "Рассылка остановлена: отправлено 4 из 8, не отправлено 4" in stopped, stopped
        assert sorted(shop.got(ref) for ref in customers) == [0] * 3 + [1] * 5
        assert shop.got(VK_OWNER) == 1  # the preview: the owner said /stop, so no copy as a customer
        reports = [t for t in shop.texts(VK_OWNER) if t.startswith("📣 Рассылка:")]
        assert reports == ["📣 Рассылка: 0% — отправлено 0 из 8, не доставлено 0, осталось 8.",  # asked with /broadcast
                           "📣 Рассылка: 25% — отправлено 2 из 8, не доставлено 0, осталось 6.",
                           "📣 Рассылка: 50% — отправлено 4 из 8, не доставлено 0, осталось 4."]
        progress = await engine.broadcast_progress(CLI)
        assert progress.broadcast.status is BroadcastStatus.STOPPED and (progress.sent, progress.pending) == (5, 3)
        shop.vk.fake.message_new(42, "/broadcast stop")
        assert "останавливать нечего" in await said(shop, VK_OWNER, "не идёт")


async def test_progress_is_told_at_each_quarter_and_when_done(engine):
    async with both_channels(engine) as shop:
        for n in range(7):
            await engine.identify(tg(501 + n))
        broadcast_id = await broadcast_by_chat(shop)  # the owner makes eight

        await Broadcaster(engine, shop.messengers, batch=2, concurrency=1).send(broadcast_id)

        reports = [t for t in shop.texts(tg(1)) if t.startswith(("📣 Рассылка:", "📣 Рассылка завершена"))]
        assert reports == ["📣 Рассылка: 25% — отправлено 2 из 8, не доставлено 0, осталось 6.",
                           "📣 Рассылка: 50% — отправлено 4 из 8, не доставлено 0, осталось 4.",
                           "📣 Рассылка: 75% — отправлено 6 из 8, не доставлено 0, осталось 2.",
                           "📣 Рассылка завершена: доставлено 8 из 8, не доставлено 0."]


async def test_a_restart_in_the_middle_sends_nobody_the_message_twice(engine, db, clock):
    """The process dies right after a message went out and before it was recorded; a new process on the same
    database sends the rest: everybody gets it once, the one caught in the middle too."""
    async with both_channels(engine) as shop:
        customers = [tg(501 + n) for n in range(6)] + [vk(601 + n) for n in range(5)]
        for ref in customers:
            await engine.identify(ref)
        preview = await engine.draft_broadcast(OWNER, TEXT)
        await engine.confirm_broadcast(OWNER, preview.broadcast.id)

        class Dies:
            """The Telegram messenger of a process that is killed just after its fourth message went out."""

            def __init__(self, inner: Messenger) -> None:
                self.inner, self.channel, self.calls = inner, inner.channel, 0
                self.process: asyncio.Task | None = None
                self.last: CustomerRef | None = None

            async def send(self, to: CustomerRef, reply: Reply, key: str = "") -> None:
                self.calls += 1
                await self.inner.send(to, reply, key)
                self.last = to
                if self.calls == 4 and self.process is not None:
                    self.process.cancel()  # everything this process was doing stops here
                    await asyncio.sleep(3600)

        dies = Dies(shop.tg.channel.messenger)
        first = Broadcaster(engine, {Channel.TELEGRAM: dies, Channel.VK: shop.vk.channel.messenger}, concurrency=1)
        dies.process = asyncio.create_task(first.send(preview.broadcast.id))
        with pytest.raises(asyncio.CancelledError):
            await dies.process
        assert sum(shop.got(ref) for ref in customers) < len(customers)

        again = SqliteDatabase(db.path)  # the restarted process
        await again.connect()
        try:
            restarted = Engine(again.uow, owners=[OWNER], clock=clock, reader=again.reading)
            await restarted.start()
            second = Broadcaster(restarted, shop.messengers)
            await second.send(preview.broadcast.id)
            waiting = await restarted.broadcast_progress(CLI)
            assert waiting.broadcast.status is BroadcastStatus.SENDING and waiting.pending == 0
            clock.advance(seconds=CLAIM_LEASE.total_seconds() + 1)  # the dead process's claims will never be told
            await second.send(preview.broadcast.id)
            done = await restarted.broadcast_progress(CLI)
        finally:
            await again.close()

        assert done.broadcast.status is BroadcastStatus.DONE and done.unconfirmed >= 1
        copies = {ref.key: shop.got(ref) for ref in customers}
        assert all(n <= 1 for n in copies.values()), copies
        assert copies[dies.last.key] == 1  # the one that went out as the process died was not sent again
        # whoever has no copy was in the dead process's hands at that moment, and is counted as unconfirmed
        assert len([k for k, n in copies.items() if n == 0]) <= done.unconfirmed
        assert done.sent + done.unconfirmed == len(customers)
        report = next(t for t in shop.texts(OWNER) if "Рассылка завершена" in t)
        assert f"Без подтверждения (отправка прервалась): {done.unconfirmed}" in report


async def test_two_senders_on_one_broadcast_share_it_and_nobody_gets_it_twice(engine, db, clock):
    """``vitrina run`` and ``vitrina broadcast`` at once: two processes, two connections, one broadcast."""
    async with both_channels(engine) as shop:
        customers = [tg(501 + n) for n in range(12)] + [vk(601 + n) for n in range(8)]
        for ref in customers:
            await engine.identify(ref)
        preview = await engine.draft_broadcast(OWNER, TEXT)
        await engine.confirm_broadcast(OWNER, preview.broadcast.id)
        other = SqliteDatabase(db.path)
        await other.connect()
        try:
            second = Engine(other.uow, owners=[OWNER], clock=clock, reader=other.reading)
            await second.start()
            counts = await asyncio.gather(
                Broadcaster(engine, shop.messengers, batch=3, concurrency=2).send(preview.broadcast.id),
                Broadcaster(second, shop.messengers, batch=3, concurrency=2).send(preview.broadcast.id))
        finally:
            await other.close()
        assert sum(counts) == len(customers)
        assert [shop.got(ref) for ref in customers] == [1] * len(customers)
        done = await engine.broadcast_progress(CLI)
        assert done.broadcast.status is BroadcastStatus.DONE and done.sent == len(customers)
        assert [t for t in shop.texts(OWNER) if "завершена" in t] == [
            "📣 Рассылка завершена: доставлено 20 из 20, не доставлено 0."]  # told once, by one of them


async def test_a_blocked_account_is_skipped_and_marked_and_a_failing_one_is_tried_again(engine, clock):
    async with both_channels(engine) as shop:
        refs = [tg(501), tg(502), tg(503), vk(601), vk(602)]
        for ref in refs:
            await engine.identify(ref)
        shop.tg.fake.refuse(502)  # blocked the bot
        shop.vk.fake.refuse(602)  # never allowed the community's messages
        shop.tg.fake.fail(503, times=1, kind="server")
        preview = await engine.draft_broadcast(OWNER, TEXT)
        await engine.confirm_broadcast(OWNER, preview.broadcast.id)
        sender = Broadcaster(engine, shop.messengers)

        await sender.send(preview.broadcast.id)
        assert [shop.got(ref) for ref in refs] == [1, 0, 0, 1, 0]
        assert await engine.unreachable_reason(tg(502)) == "blocked"
        assert await engine.unreachable_reason(vk(602)) == "no_permission"
        progress = await engine.broadcast_progress(CLI)
        assert (progress.sent, progress.failed, progress.pending) == (2, 2, 1)
        await sender.send(preview.broadcast.id)  # not yet: the failed one waits before its next attempt
        assert shop.got(tg(503)) == 0

        clock.advance(seconds=5)
        await sender.send(preview.broadcast.id)
        assert [shop.got(ref) for ref in refs] == [1, 0, 1, 1, 0]
        done = await engine.broadcast_progress(CLI)
        assert done.broadcast.status is BroadcastStatus.DONE and (done.sent, done.failed) == (3, 2)
        assert len([c for c in shop.tg.fake.calls if c.params.get("chat_id") == 502]) == 1  # tried once
        # the next broadcast leaves them out
        assert await engine.broadcast_audience(OWNER) == {"telegram": 2, "vk": 1}


async def test_a_customer_cannot_broadcast_and_nothing_is_created(engine):
    async with both_channels(engine) as shop:
        await join(shop, tg(501), vk(601))
        refused = await shop.tg.chat(501).send("/broadcast")
        assert refused.text == ErrorCode.NOT_OWNER.message("ru")
        assert await engine.dialog(tg(501)) is None
        assert await engine.broadcast_progress(CLI) is None
        assert "Не понял" in (await shop.tg.chat(501).send(TEXT)).text  # no dialog took the text

        owner = shop.tg.chat(1)
        await owner.send("/broadcast")
        await owner.send(TEXT)
        preview = await shop.tg.fake.next_message(1)
        draft_id = (await engine.dialog(owner.ref)).state["id"]
        # a VK customer forges the owner's Send button
        shop.vk.fake.message_event(601, {"a": "bc_send", "id": str(draft_id)})
        assert (await shop.vk.fake.next_message(601)).text == ErrorCode.NOT_OWNER.message("ru")
        assert await engine.broadcast_progress(CLI) is None  # still a draft: nothing is being sent

        await owner.press(preview, "Отправить")
        assert (await shop.vk.dialogue(601).send("/broadcast stop")).text == ErrorCode.NOT_OWNER.message("ru")
        assert (await engine.broadcast_progress(CLI)).broadcast.status is BroadcastStatus.SENDING


async def test_from_the_panel_bad_text_is_refused_and_the_dialog_waits_for_another(engine):
    async with both_channels(engine) as shop:
        await join(shop, tg(501))
        owner = shop.tg.chat(1)
        panel = await owner.send("/admin")
        assert "Пришлите текст рассылки" in (await owner.press(panel, "Рассылка")).text
        refused = await owner.send("х" * 3501)
        assert refused.text == ErrorCode.BROADCAST_TEXT_INVALID.message("ru")
        assert (await engine.dialog(owner.ref)).kind == "broadcast"
        assert (await owner.send(TEXT)).text.startswith(TEXT)
        preview = await shop.tg.fake.next_message(1)
        assert "Отменено" in (await owner.press(preview, "Отмена")).text
        assert "уже не действует" in (await owner.press(preview, "Отправить")).text
        assert await engine.broadcast_progress(CLI) is None and shop.got(tg(501)) == 0


async def test_the_token_bucket_keeps_to_its_rate():
    now = [0.0]

    async def sleep(seconds: float) -> None:
        now[0] += seconds

    bucket = TokenBucket(rate=25, capacity=5, clock=lambda: now[0], sleep=sleep)
    times = []
    for _ in range(105):
        await bucket.take()
        times.append(now[0])
    assert times[:5] == [0.0] * 5  # a burst of the capacity
    for i, at in enumerate(times):  # never more than the capacity plus the rate times the time gone
        assert i + 1 <= 5 + at * 25 + 1e-6, (i, at)
    assert times[-1] == pytest.approx(100 / 25)  # and no slower than that
    now[0] += 10  # idle: the bucket fills up to its capacity, no more
    for _ in range(6):
        await bucket.take()
    assert now[0] == pytest.approx(14 + 1 / 25)


# --- the command line ----------------------------------------------------------------------------------

async def run_vitrina(cwd, *args: str, stdin: str = "", **env: str) -> tuple[int, str, str]:
    """``vitrina`` as a process, awaited so the fake servers of this test keep answering meanwhile."""
    process = await asyncio.create_subprocess_exec(
        VITRINA, *args, cwd=cwd, env=clean_env(**env), stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(stdin.encode()), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


@pytest.mark.slow
async def test_vitrina_broadcast_sends_from_the_command_line_with_a_progress_bar(tmp_path):
    path = tmp_path / "shop.db"
    db = SqliteDatabase(path)
    await db.connect()
    try:
        engine = Engine(db.uow, reader=db.reading, clock=FakeClock())
        await engine.start()
        customers = [tg(501 + n) for n in range(4)] + [vk(601 + n) for n in range(3)]
        for ref in customers:
            await engine.identify(ref)
        await engine.set_consent(tg(504), False)
    finally:
        await db.close()
    (tmp_path / "news.txt").write_text(TEXT + "\nЖдём вас!", encoding="utf-8")

    async with FakeTelegram(token="4242:SECRET") as telegram, FakeVK(group_id=7) as community:
        env = {"VITRINA_TELEGRAM__TOKEN": telegram.token, "VITRINA_TELEGRAM__API_BASE": telegram.base_url,
               "VITRINA_VK__TOKEN": community.token, "VITRINA_VK__GROUP_ID": "7",
               "VITRINA_VK__API_BASE": community.api_url, "VITRINA_WEBAPP__PUBLIC_URL": "https://coffee.example",
               "VITRINA_DATABASE_URL": f"sqlite:///{path}"}
        code, out, err = await run_vitrina(tmp_path, "broadcast", "--file", "news.txt", stdin="n\n", **env)
        assert code == 1 and "recipients: 6 (telegram 3, vk 3)" in out and "not sent" in err
        assert telegram.calls_of("sendMessage") == [] and community.calls_to("messages.send") == []

        code, out, err = await run_vitrina(tmp_path, "broadcast", "--file", "news.txt", stdin="y\n", **env)
        assert code == 0, err
        assert "\r[" in err and "] 6/6" in err.splitlines()[-1]  # the bar, redrawn in place, full at the end
        assert "broadcast 2 (done): 6 sent, 0 not delivered of 6" in out
        for ref in customers:
            if ref.channel == Channel.TELEGRAM:
                copies = [m for m in telegram.sent(int(ref.external_id)) if TEXT in (m.text or "")]
            else:
                copies = [m for m in community.sent(int(ref.external_id)) if TEXT in m.text]
            assert len(copies) == (0 if ref == tg(504) else 1), ref
        status = await run_vitrina(tmp_path, "broadcast", "status", **env)
        assert "broadcast 2 (done): 6 sent" in status[1]
        stop = await run_vitrina(tmp_path, "broadcast", "stop", **env)
        assert stop[0] == 1 and len(stop[2].strip().splitlines()) == 1 and "broadcast_not_sending" in stop[2]


@pytest.mark.slow
def test_vitrina_broadcast_without_a_channel_refuses_in_one_line(tmp_path):
    refused = vitrina(tmp_path, "broadcast", "Привет", check=False,
                      VITRINA_DATABASE_URL=f"sqlite:///{tmp_path / 'shop.db'}")
    assert refused.returncode == 1
    assert refused.stderr.strip().splitlines() == [
        "vitrina: no channel to send through: set VITRINA_TELEGRAM__TOKEN, or VITRINA_VK__TOKEN with "
        "VITRINA_VK__GROUP_ID"]

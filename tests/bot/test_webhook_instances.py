"""Two ``vitrina run`` processes on one database behind one webhook address, as behind a load balancer.

The test plays Telegram and VK: it posts the same update to both instances, as a platform retrying at the
other one would. Every instance may receive any update and a repeat is answered 200 and handled once
(503 while the other instance is handling it, so that the platform tries again); an update whose
handling fails (the database refuses the new customer: a trigger the test adds) is answered
500, and the repeat, at the other instance, is handled after all. Stopping one instance leaves the webhook
set for the other. An instance answers a call only after handling it, so once both calls are answered
every reply there will be has been sent: counting the fake's messages then needs no waiting.
"""
from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest
from fake_telegram import FakeTelegram
from fake_vk import FakeVK
from pg_support import fresh_database
from process import Running, free_port

pytestmark = pytest.mark.slow

WEBHOOK = "https://coffee.example/telegram/webhook"
SECRET = "s3cret-hook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
VK_SECRET = "vk-s3cret"
CONFIRMATION = "a1b2c3d4"
GROUP = 7


class SharedDatabase:
    """The database both instances use, and a way to make it refuse new customers for a while."""

    def __init__(self, url: str) -> None:
        self.url = url

    async def refuse_new_customers(self) -> None:
        raise NotImplementedError

    async def accept_new_customers(self) -> None:
        raise NotImplementedError


class SqliteShared(SharedDatabase):
    def __init__(self, path: Path) -> None:
        super().__init__(f"sqlite:///{path}")
        self.path = path

    def _run(self, sql: str) -> None:
        conn = sqlite3.connect(self.path, timeout=30)
        try:
            conn.execute(sql)
            conn.commit()
        finally:
            conn.close()

    async def refuse_new_customers(self) -> None:
        await asyncio.to_thread(self._run, "CREATE TRIGGER refuse_customers BEFORE INSERT ON customers "
                                           "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END")

    async def accept_new_customers(self) -> None:
        await asyncio.to_thread(self._run, "DROP TRIGGER refuse_customers")


class PostgresShared(SharedDatabase):
    async def _run(self, sql: str) -> None:
        import asyncpg

        conn = await asyncpg.connect(self.url)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    async def refuse_new_customers(self) -> None:
        await self._run("CREATE FUNCTION refuse_customers() RETURNS trigger LANGUAGE plpgsql AS "
                        "$$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$; "
                        "CREATE TRIGGER refuse_customers BEFORE INSERT ON customers "
                        "FOR EACH ROW EXECUTE FUNCTION refuse_customers()")

    async def accept_new_customers(self) -> None:
        await self._run("DROP TRIGGER refuse_customers ON customers; DROP FUNCTION refuse_customers()")


@asynccontextmanager
async def shared_database(backend: str, tmp_path: Path) -> AsyncIterator[SharedDatabase]:
    if backend == "sqlite":
        yield SqliteShared(tmp_path / "shop.db")
    else:
        async with fresh_database() as url:
            yield PostgresShared(url)


@pytest.fixture(params=["sqlite", "postgres"])
async def database(request, tmp_path) -> AsyncIterator[SharedDatabase]:
    async with shared_database(request.param, tmp_path) as db:
        yield db


class Instance:
    """One ``vitrina run`` process and an HTTP client to it."""

    def __init__(self, running: Running, port: int, http: aiohttp.ClientSession) -> None:
        self.running, self.port, self.http = running, port, http

    async def post(self, path: str, **kw) -> tuple[int, str]:
        async with self.http.post(f"http://127.0.0.1:{self.port}{path}", **kw) as answer:
            return answer.status, await answer.text()


def logs(*started: Instance) -> str:
    """What the instances printed, for a failing assertion."""
    return "\n".join(f"--- instance {n}:\n" + "".join(i.running.output) for n, i in enumerate(started))


@asynccontextmanager
async def instances(tmp_path: Path, env: dict[str, str], count: int = 2) -> AsyncIterator[list[Instance]]:
    """``count`` instances on ``env``'s database, each on its own port, started one after the other."""
    async with contextlib.AsyncExitStack() as stack:
        http = await stack.enter_async_context(aiohttp.ClientSession())
        started = []
        for n in range(count):
            port = free_port()
            folder = tmp_path / f"instance{n}"
            folder.mkdir()
            running = await stack.enter_async_context(
                Running(cwd=folder, env={**env, "VITRINA_WEBAPP__PORT": str(port)}))
            started.append(Instance(running, port, http))
        yield started


# --- Telegram ---------------------------------------------------------------------------------------

def telegram_env(fake: FakeTelegram, db: SharedDatabase) -> dict[str, str]:
    return {"VITRINA_TELEGRAM__TOKEN": fake.token, "VITRINA_TELEGRAM__API_BASE": fake.base_url,
            "VITRINA_TELEGRAM__WEBHOOK_URL": WEBHOOK, "VITRINA_TELEGRAM__WEBHOOK_SECRET": SECRET,
            "VITRINA_WEBAPP__PUBLIC_URL": "https://coffee.example", "VITRINA_DATABASE_URL": db.url}


def telegram_update(update_id: int, user_id: int, text: str) -> dict:
    return {"update_id": update_id, "message": {
        "message_id": update_id, "date": int(time.time()), "text": text,
        "chat": {"id": user_id, "type": "private"},
        "from": {"id": user_id, "is_bot": False, "first_name": "Ира", "language_code": "ru"},
        **({"entities": [{"type": "bot_command", "offset": 0, "length": len(text)}]} if text.startswith("/")
           else {})}}


async def deliver(instance: Instance, update: dict, secret: str = SECRET) -> int:
    status, _ = await instance.post("/telegram/webhook", json=update, headers={SECRET_HEADER: secret})
    return status


async def test_two_telegram_instances_share_one_webhook_and_handle_each_update_once(tmp_path, database):
    async with FakeTelegram(token="4242:SECRET") as fake, instances(tmp_path, telegram_env(fake, database)) as (a, b):
        hooks = fake.calls_of("setWebhook")
        assert [(h["url"], h["secret_token"]) for h in hooks] == [(WEBHOOK, SECRET)] * 2  # the second changes nothing
        assert fake.webhook_url == WEBHOOK

        # the same update at both instances at once (a retry reaching the other one): one handles it, the
        # other answers 200 if it came after, or 503 while the first is at it (Telegram sends it again): one reply
        hello = telegram_update(1001, 300, "/help")
        statuses = await asyncio.gather(deliver(a, hello), deliver(b, hello))
        assert 200 in statuses and set(statuses) <= {200, 503}, logs(a, b)
        for instance, status in zip((a, b), statuses, strict=True):
            if status == 503:
                assert await deliver(instance, hello) == 200
        assert len(fake.sent(300)) == 1 and "Что я умею" in fake.sent(300)[0].text
        assert await deliver(a, hello) == 200 and len(fake.sent(300)) == 1  # and later again: still one

        # refused: a call without the secret, at either instance
        assert await deliver(b, telegram_update(1002, 300, "/help"), secret="wrong") == 401
        assert len(fake.sent(300)) == 1

        # handling fails at one instance: 500, nothing said, and the repeat at the other is handled
        await database.refuse_new_customers()
        first = telegram_update(1003, 301, "/help")
        assert await deliver(a, first) == 500
        assert fake.sent(301) == []
        await database.accept_new_customers()
        assert await deliver(b, first) == 200
        assert await deliver(a, first) == 200
        assert len(fake.sent(301)) == 1 and "Что я умею" in fake.sent(301)[0].text

        # one instance stops: the webhook stays set and the other still answers
        assert await a.running.stop() == 0
        assert fake.calls_of("deleteWebhook") == [] and fake.webhook_url == WEBHOOK
        assert await deliver(b, telegram_update(1004, 302, "/help")) == 200
        assert len(fake.sent(302)) == 1
        assert fake.calls_of("getUpdates") == []  # nobody polled


# --- VK ---------------------------------------------------------------------------------------------

def vk_env(fake: FakeVK, db: SharedDatabase) -> dict[str, str]:
    return {"VITRINA_VK__TOKEN": fake.token, "VITRINA_VK__GROUP_ID": str(GROUP), "VITRINA_VK__API_BASE": fake.api_url,
            "VITRINA_VK__CALLBACK_SECRET": VK_SECRET, "VITRINA_VK__CONFIRMATION_CODE": CONFIRMATION,
            "VITRINA_WEBAPP__PUBLIC_URL": "https://coffee.example", "VITRINA_DATABASE_URL": db.url}


async def callback(instance: Instance, event: dict) -> tuple[int, str]:
    return await instance.post("/vk/callback", json=event)


async def test_two_vk_instances_take_the_callback_api_and_handle_each_event_once(tmp_path, database):
    db = database
    async with FakeVK(group_id=GROUP) as fake, instances(tmp_path, vk_env(fake, db)) as (a, b):
        # VK confirms the server at whichever instance it reaches: both know the code
        for instance in (a, b):
            assert await callback(instance, {"type": "confirmation", "group_id": GROUP}) == (200, CONFIRMATION)
            status, _ = await callback(instance, {"type": "confirmation", "group_id": GROUP + 1})
            assert status == 403

        event = {**fake.message_new(42, "помощь"), "secret": VK_SECRET}
        answers = await asyncio.gather(callback(a, event), callback(b, event))
        assert (200, "ok") in answers and {status for status, _ in answers} <= {200, 503}
        for instance, (status, _) in zip((a, b), answers, strict=True):
            if status == 503:  # the other instance was handling it: VK sends it again
                assert await callback(instance, event) == (200, "ok")
        assert len(fake.sent(42)) == 1 and "Что я умею" in fake.sent(42)[0].text

        status, _ = await callback(b, {**fake.message_new(42, "помощь"), "secret": "wrong"})
        assert status == 403 and len(fake.sent(42)) == 1

        await db.refuse_new_customers()
        first = {**fake.message_new(43, "помощь"), "secret": VK_SECRET}
        status, _ = await callback(b, first)
        assert status == 500 and fake.sent(43) == []
        await db.accept_new_customers()
        assert await callback(a, first) == (200, "ok")
        assert await callback(b, first) == (200, "ok")
        assert len(fake.sent(43)) == 1

        assert await b.running.stop() == 0
        assert await callback(a, {**fake.message_new(44, "помощь"), "secret": VK_SECRET}) == (200, "ok")
        assert len(fake.sent(44)) == 1
        assert fake.calls_to("groups.getLongPollServer") == []  # nobody polled


# --- polling with several instances -------------------------------------------------------------------

async def test_an_instance_polling_on_postgresql_warns_that_one_alone_may_poll(tmp_path):
    async with shared_database("postgres", tmp_path) as db, FakeTelegram(token="4242:SECRET") as fake:
        env = {**telegram_env(fake, db), "VITRINA_TELEGRAM__WEBHOOK_URL": "", "VITRINA_TELEGRAM__WEBHOOK_SECRET": ""}
        async with instances(tmp_path, env, count=1) as (only,):
            warning = [line for line in only.running.output if "receives by long polling" in line]
            assert warning and "Telegram @vitrina_demo_bot" in warning[0] and "--only webapp" in warning[0]


async def test_an_instance_polling_on_sqlite_is_alone_and_not_warned(tmp_path):
    async with shared_database("sqlite", tmp_path) as db, FakeTelegram(token="4242:SECRET") as fake:
        env = {**telegram_env(fake, db), "VITRINA_TELEGRAM__WEBHOOK_URL": "", "VITRINA_TELEGRAM__WEBHOOK_SECRET": ""}
        async with instances(tmp_path, env, count=1) as (only,):
            await fake.wait_for(lambda calls: any(c.method == "getUpdates" for c in calls))
            assert not any("long polling" in line for line in only.running.output)


# --- an instance killed mid-way -----------------------------------------------------------------------

async def test_an_update_cut_off_by_a_killed_instance_is_handled_by_the_other_once_its_lease_lapses(tmp_path):
    """Instance a takes an update and is killed (SIGKILL) while handling it: the test holds a lock that a
    trigger on new customers waits for. Its lease stays: the repeat at b is answered 503 until it lapses (the
    test ages it rather than waiting the minute), then b handles it, once."""
    import asyncpg

    async with shared_database("postgres", tmp_path) as db, FakeTelegram(token="4242:SECRET") as fake, \
            instances(tmp_path, telegram_env(fake, db)) as (a, b):
        test = await asyncpg.connect(db.url)
        try:
            await test.execute("CREATE FUNCTION wait_for_test() RETURNS trigger LANGUAGE plpgsql AS "
                               "$$ BEGIN PERFORM pg_advisory_xact_lock(4242); RETURN NEW; END $$; "
                               "CREATE TRIGGER wait_for_test BEFORE INSERT ON customers "
                               "FOR EACH ROW EXECUTE FUNCTION wait_for_test()")
            await test.execute("SELECT pg_advisory_lock(4242)")
            update = telegram_update(2001, 400, "/help")
            cut = asyncio.create_task(deliver(a, update))
            for _ in range(2000):  # until a waits in the trigger, its lease taken
                waiting = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 4242 AND NOT granted"
                if await test.fetchval(waiting):
                    break
                await asyncio.sleep(0.01)
            else:
                raise AssertionError("instance a never reached the trigger:\n" + logs(a))
            assert a.running.process is not None
            os.killpg(a.running.process.pid, signal.SIGKILL)
            await a.running.process.wait()
            with pytest.raises(aiohttp.ClientError):
                await cut
            await test.execute("SELECT pg_advisory_unlock(4242)")
            await test.execute("DROP TRIGGER wait_for_test ON customers; DROP FUNCTION wait_for_test()")

            assert await deliver(b, update) == 503  # a's lease is fresh: Telegram is to try again later
            assert fake.sent(400) == []
            aged = await test.execute("UPDATE processed_updates SET at = '2000-01-01T00:00:00+00:00' "
                                      "WHERE update_id = '2001'")
            assert aged == "UPDATE 1"  # the lease, and nothing handled
            assert await deliver(b, update) == 200
            assert await deliver(b, update) == 200
            assert len(fake.sent(400)) == 1 and "Что я умею" in fake.sent(400)[0].text
        finally:
            await test.close()

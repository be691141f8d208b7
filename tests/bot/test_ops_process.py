"""``vitrina run`` stopped the way a container runtime stops it (SIGTERM): it takes no new connections, lets
the request in flight finish, and exits 0; a request that outlasts ``VITRINA_SHUTDOWN_SECONDS`` is cut off
and the process still exits 0 instead of hanging."""
from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal

import aiohttp
import pytest
from pg_support import fresh_database
from process import Running, free_port

ORDER = json.dumps({"point": "center", "lines": [{"item": "cappuccino", "quantity": 1, "options": {}}],
                    "promo": None, "points": 0, "pickup_at": None, "payment": "counter",
                    "request_id": "slow-1"}).encode()
GUARD = 60  # seconds: only so that a broken shutdown fails the test instead of hanging it


async def slow_order(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A request placing an order whose body is still on its way: the server has begun handling it (it
    answered ``100 Continue``, which aiohttp does from inside the request's handling) and waits for the rest."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"POST /api/orders HTTP/1.1\r\nHost: shop\r\nAuthorization: demo guest\r\n"
                 b"Content-Type: application/json\r\nExpect: 100-continue\r\n"
                 b"Content-Length: " + str(len(ORDER)).encode() + b"\r\n\r\n")
    await writer.drain()
    assert (await asyncio.wait_for(reader.readline(), GUARD)).startswith(b"HTTP/1.1 100")
    await reader.readline()  # the blank line that ends the interim answer
    writer.write(ORDER[:10])
    await writer.drain()
    return reader, writer


async def refused_connections(port: int) -> None:
    """Wait until the port takes no new connections (the server closed its listening socket)."""
    while True:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            return
        writer.close()
        await asyncio.sleep(0.02)


def terminate(running: Running) -> None:
    assert running.process is not None
    os.killpg(running.process.pid, signal.SIGTERM)


async def exit_status(running: Running) -> int:
    assert running.process is not None
    rest, _ = await asyncio.wait_for(running.process.communicate(), GUARD)
    running.output.append(rest.decode())
    return running.process.returncode  # type: ignore[return-value]


@pytest.mark.slow
async def test_sigterm_lets_the_request_in_flight_finish_refuses_new_ones_and_exits_0(tmp_path):
    port = free_port()
    env = {"VITRINA_WEBAPP__PORT": str(port), "VITRINA_DATABASE_URL": f"sqlite:///{tmp_path / 'shop.db'}",
           "VITRINA_SHUTDOWN_SECONDS": "120"}
    async with Running(cwd=tmp_path, env=env) as running:
        reader, writer = await slow_order(port)
        terminate(running)
        await asyncio.wait_for(refused_connections(port), GUARD)  # no new work

        writer.write(ORDER[10:])  # the customer's request, begun before SIGTERM, completes
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), GUARD)  # to the end: the server closes after it
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 201"), answer[:300]
        assert b"connection: close" in head.lower()  # no more requests on this connection either
        assert json.loads(body)["status"] == "placed"
        writer.close()

        assert await exit_status(running) == 0
    assert any("stopping" in line for line in running.output)


@pytest.mark.slow
async def test_a_request_that_outlasts_the_shutdown_timeout_is_cut_off_and_the_process_still_exits_0(tmp_path):
    port = free_port()
    env = {"VITRINA_WEBAPP__PORT": str(port), "VITRINA_DATABASE_URL": f"sqlite:///{tmp_path / 'shop.db'}",
           "VITRINA_SHUTDOWN_SECONDS": "1"}
    async with Running(cwd=tmp_path, env=env) as running:
        reader, writer = await slow_order(port)  # and the rest of it never comes
        terminate(running)
        assert await exit_status(running) == 0
        assert await asyncio.wait_for(reader.read(), GUARD) == b""  # cut off: no answer, the connection closed
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


@pytest.mark.slow
async def test_sigterm_on_an_idle_shop_exits_0_at_once_with_the_workers_stopped(tmp_path):
    port = free_port()
    env = {"VITRINA_WEBAPP__PORT": str(port), "VITRINA_DATABASE_URL": f"sqlite:///{tmp_path / 'shop.db'}",
           "VITRINA_SHUTDOWN_SECONDS": "120"}  # nothing in flight: nothing waits for the timeout
    async with Running(cwd=tmp_path, env=env) as running:
        terminate(running)
        assert await exit_status(running) == 0
    assert not any("did not finish" in line for line in running.output)


@pytest.mark.slow
async def test_on_postgresql_an_instance_is_ready_and_says_so_until_it_stops(tmp_path):
    async with fresh_database() as url:
        port = free_port()
        env = {"VITRINA_WEBAPP__PORT": str(port), "VITRINA_DATABASE_URL": url}
        async with Running(cwd=tmp_path, env=env) as running:
            async with aiohttp.ClientSession(f"http://127.0.0.1:{port}") as http:
                async with http.get("/readyz") as ready:
                    assert ready.status == 200 and await ready.json() == {"status": "ready"}
                async with http.get("/healthz") as alive:
                    assert alive.status == 200
            terminate(running)
            assert await exit_status(running) == 0


async def test_stopping_lets_a_workers_round_finish_and_cancels_what_outlasts_the_timeout():
    from bot.runner import drain

    stop, round_may_end, closed = asyncio.Event(), asyncio.Event(), []
    finished: list[str] = []

    async def worker() -> None:  # a relay: rounds until stop, the round in progress completes
        while not stop.is_set():
            await round_may_end.wait()
            finished.append("round")

    async def stuck() -> None:  # a job that does not notice stop
        await asyncio.Event().wait()

    async def close_server() -> None:
        closed.append(True)

    tasks = [asyncio.create_task(worker()), asyncio.create_task(stuck())]
    await asyncio.sleep(0)
    stop.set()
    ending = asyncio.create_task(drain(close_server, tasks, seconds=0.2))
    await asyncio.sleep(0)
    round_may_end.set()  # the round in flight ends after the stop began: it is waited for
    await asyncio.wait_for(ending, GUARD)
    assert finished == ["round"] and not tasks[0].cancelled()
    assert tasks[1].cancelled() and closed == [True]

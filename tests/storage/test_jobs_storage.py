"""Job locks across instances (``db.job_locks()``), on both backends: two database objects on one store stand
for two instances (two processes on one SQLite file, two pools on one PostgreSQL schema).

A job held by one is refused to the other until it is let go; a periodic job runs once per period across
them; a holder that dies frees the job (at once on PostgreSQL, when its lease lapses on SQLite); the
runner's job loops on two instances never run a round at once.
"""
from __future__ import annotations

import asyncio
import time

import pytest
from pg_support import two_instances

from bot import runner
from storage.sqlite import SqliteDatabase
from storage.sqlite.jobs import SqliteJobLocks

BACKENDS = ["sqlite", "postgres"]


@pytest.fixture(params=BACKENDS)
async def instances(request, tmp_path):
    async with two_instances(request.param, tmp_path) as pair:
        yield pair


async def test_a_held_job_is_refused_to_the_other_instance_until_let_go(instances):
    a, b = (db.job_locks() for db in instances)
    async with a.hold("expiry") as held_a:
        assert held_a
        async with b.hold("expiry") as held_b:
            assert not held_b
        async with b.hold("prune") as other_job:  # another job is free
            assert other_job
    async with b.hold("expiry") as held_b:
        assert held_b
        async with a.hold("expiry") as held_a:
            assert not held_a


async def test_a_job_is_held_once_within_one_instance_too(instances):
    locks = instances[0].job_locks()
    async with locks.hold("outbox:notify") as outer:
        assert outer
        async with locks.hold("outbox:notify") as inner:  # a second task of the same instance
            assert not inner
    async with locks.hold("outbox:notify") as again:
        assert again


async def test_a_round_that_fails_lets_the_job_go(instances):
    a, b = (db.job_locks() for db in instances)
    with pytest.raises(RuntimeError):
        async with a.hold("reconcile") as held:
            assert held
            raise RuntimeError("the provider answered nonsense")
    async with b.hold("reconcile") as held:
        assert held


async def test_a_periodic_job_runs_once_per_period_across_instances(instances):
    a, b = (db.job_locks() for db in instances)
    rounds = []

    async def try_round(locks, who):
        async with locks.hold("expiry", every=3600) as held:
            if held:
                rounds.append(who)
                await asyncio.sleep(0.01)  # both are trying while it runs

    await asyncio.gather(try_round(a, "a"), try_round(b, "b"))
    assert len(rounds) == 1
    await asyncio.gather(try_round(a, "a"), try_round(b, "b"))  # the period has not passed: nobody
    assert len(rounds) == 1
    async with a.hold("prune", every=3600) as other_job:  # periods are per job
        assert other_job


async def test_a_periodic_job_runs_again_once_the_period_has_passed(instances):
    a, b = (db.job_locks() for db in instances)
    async with a.hold("expiry", every=3600) as held:
        assert held
    async with b.hold("expiry", every=0.0) as unscheduled:  # a job with no period runs whenever it is free
        assert unscheduled
    await _age_last_round(instances[0], "expiry", 3601)
    async with b.hold("expiry", every=3600) as held:
        assert held
    async with a.hold("expiry", every=3600) as held:
        assert not held


async def _age_last_round(db, name: str, seconds: float) -> None:
    """As if the last round of ``name`` began ``seconds`` earlier than it did."""
    if isinstance(db, SqliteDatabase):
        async with db.uow() as uow:
            uow._conn.execute("UPDATE job_leases SET started_at = started_at - ? WHERE name = ?", (seconds, name))
    else:
        await db.pool.execute("UPDATE job_runs SET started_at = started_at - make_interval(secs => $2)"
                              " WHERE name = $1", name, seconds)


async def test_the_runners_job_loops_on_two_instances_never_run_a_round_at_once(instances, monkeypatch):
    monkeypatch.setattr(runner, "SWEEP_SECONDS", 0.01)
    running, most, rounds = 0, 0, 0

    class Engine:  # what the sweep asks of the engine: its rounds are counted, and overlap would show
        async def expire_due(self):
            nonlocal running, most, rounds
            running += 1
            most = max(most, running)
            rounds += 1
            await asyncio.sleep(0.02)  # longer than the loops' period: the other loop wakes meanwhile
            running -= 1
            return []

    stop = asyncio.Event()
    loops = [asyncio.ensure_future(runner.sweep(Engine(), stop, db.job_locks())) for db in instances]  # type: ignore[arg-type]
    while rounds < 6:
        await asyncio.sleep(0.01)
    stop.set()
    await asyncio.gather(*loops)
    assert most == 1


# --- SQLite: a lease a killed process lets lapse -----------------------------------------------------

async def test_sqlite_a_dead_holders_lease_lapses_and_another_process_takes_the_job(tmp_path):
    async with two_instances("sqlite", tmp_path) as (first, second):
        now = time.time()
        dead = SqliteJobLocks(first, lease=60, clock=lambda: now)
        await dead._take("outbox:notify", 0.0)  # taken and never let go: its process was killed
        later = {"now": now + 30}
        other = SqliteJobLocks(second, lease=60, clock=lambda: later["now"])
        async with other.hold("outbox:notify") as held:
            assert not held  # the lease still runs
        later["now"] = now + 61
        async with other.hold("outbox:notify") as held:
            assert held


async def test_sqlite_a_holder_renews_its_lease_while_the_round_runs(tmp_path):
    async with two_instances("sqlite", tmp_path) as (first, second):
        clock = {"now": time.time()}
        holder = SqliteJobLocks(first, lease=60, clock=lambda: clock["now"])
        other = SqliteJobLocks(second, lease=60, clock=lambda: clock["now"])
        async with holder.hold("broadcasts") as held:
            assert held
            clock["now"] += 50
            assert await holder.extend("broadcasts")  # what the renewing task does every 20 s
            clock["now"] += 50  # past the first lease, within the renewed one
            async with other.hold("broadcasts") as taken:
                assert not taken
        async with other.hold("broadcasts") as taken:  # let go at the end of the round
            assert taken
        assert not await holder.extend("broadcasts")  # not its job any more


# --- PostgreSQL: the lock goes with its connection ---------------------------------------------------

async def test_postgres_a_killed_holder_frees_the_job_at_once(tmp_path):
    async with two_instances("postgres", tmp_path) as (first, second):
        inside = asyncio.Event()

        async def doomed_round():
            async with first.job_locks().hold("outbox:notify") as held:
                assert held
                inside.set()
                await asyncio.Event().wait()  # mid-round when the instance dies

        task = asyncio.ensure_future(doomed_round())
        await inside.wait()
        async with second.job_locks().hold("outbox:notify") as held:
            assert not held
        holder = await second.pool.fetchval("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted")
        # SIGKILL: the server sees the instance's connections drop (the pool's sockets closed, nothing said)
        first.pool.terminate()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        while await second.pool.fetchval("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", holder):
            await asyncio.sleep(0.01)  # the server ends the dead connection's session
        async with second.job_locks().hold("outbox:notify") as held:
            assert held  # no lease to wait out


async def test_postgres_two_shops_in_two_schemas_hold_their_own_jobs():
    from pg_support import fresh_schema

    async with (fresh_schema() as one, fresh_schema() as other, one.job_locks().hold("expiry") as held_one,
                other.job_locks().hold("expiry") as held_other):
        assert held_one and held_other

"""A SQLite job lease whose holder was a process on this host that is gone (killed) is taken at once; a
holder that still runs, or one on another host, keeps its lease until it lapses."""
from __future__ import annotations

import socket
import subprocess
import sys
import time

from pg_support import two_instances

from storage.sqlite.jobs import SqliteJobLocks


def _lease_held_by(holder: str, db) -> None:
    db.writer.execute("INSERT INTO job_leases (name, holder, until, started_at) VALUES (?, ?, ?, ?)",
                      ("outbox:notify", holder, time.time() + 60, time.time()))


async def test_the_lease_of_a_killed_process_on_this_host_is_taken_at_once(tmp_path):
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()  # exited and reaped: its pid names no process now
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        async with two_instances("sqlite", tmp_path) as (first, second):
            locks = SqliteJobLocks(second)
            host = socket.gethostname()
            for holder, taken in [(f"{host}:{alive.pid}:aaaa", False), (f"elsewhere:{gone.pid}:bbbb", False),
                                  (f"{host}:{gone.pid}:cccc", True)]:
                _lease_held_by(holder, first)
                async with locks.hold("outbox:notify") as held:
                    assert held is taken, holder
                first.writer.execute("DELETE FROM job_leases")
    finally:
        alive.kill()
        alive.wait()

"""bench/engine.py runs end to end on a tiny scale, empty and on a small year, so a change to the engine, the
relay or the notifier cannot leave the benchmark broken until someone measures again. Its own checks (every
journey picked up, the points earned in each file equal to the journeys run there) fail the run."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pg_support import postgres_url

pytestmark = pytest.mark.slow  # runs the benchmark as a process

ROOT = Path(__file__).resolve().parents[2]


def test_the_engine_benchmark_runs_and_checks_itself_on_an_empty_file_and_a_year() -> None:
    run = subprocess.run([sys.executable, str(ROOT / "bench" / "engine.py"), "--year", "--orders", "300",
                          "--customers", "60", "--concurrency", "5", "--journeys", "20", "--rounds", "2",
                          "--warmup", "5"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-4000:]
    for line in ("round 2: engine empty", "empty: engine/baseline =", "year: engine/baseline =",
                 "engine: year/empty =", "sqlite3: year/empty ="):
        assert line in run.stdout, run.stdout[-2000:]


def test_the_statements_of_one_journey_are_printed_step_by_step_beside_the_baselines() -> None:
    run = subprocess.run([sys.executable, str(ROOT / "bench" / "engine.py"), "--statements", "--concurrency", "2",
                          "--warmup", "2"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-4000:]
    for step in ("place_order", "accept", "mark_ready", "hand_over"):
        assert f"\n== {step}: engine " in run.stdout, run.stdout[-2000:]
    assert "  e1  writer BEGIN IMMEDIATE" in run.stdout and "  b1         BEGIN IMMEDIATE" in run.stdout
    assert "round 1:" not in run.stdout  # it stops before the rounds


def test_the_postgresql_engine_benchmark_runs_and_checks_itself() -> None:
    """bench/engine.py --database (bench/engine_postgres.py): its workers replay the engine's recorded calls, and
    it checks that every journey ended picked up."""
    url = postgres_url()
    run = subprocess.run([sys.executable, str(ROOT / "bench" / "engine.py"), "--database", url, "--rounds", "1",
                          "--duration", "1", "--warmup", "5", "--concurrency", "4", "--pool", "2"],
                         cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-4000:]
    for line in ("round 1: engine   x1 process", "round 1: asyncpg  x2 processes", "engine / asyncpg:"):
        assert line in run.stdout, run.stdout[-2000:]

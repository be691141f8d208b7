"""Every benchmark script still starts: its imports resolve and its options parse (``--help``). A benchmark is
run by hand, rarely; a helper it imported from another script can go without anyone noticing until then."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # each test starts a process

BENCH = Path(__file__).resolve().parents[2] / "bench"
# run through engine.py (--database postgresql://...), not as a script of its own: imported instead
MODULES = {"engine_postgres.py"}
SCRIPTS = sorted(p.name for p in BENCH.glob("*.py") if p.name not in MODULES)


def test_every_script_is_listed_in_the_readme():
    readme = (BENCH / "README.md").read_text(encoding="utf-8")
    assert [name for name in SCRIPTS if name not in readme] == []


@pytest.mark.parametrize("name", SCRIPTS)
def test_the_script_starts(name: str) -> None:
    done = subprocess.run([sys.executable, str(BENCH / name), "--help"], capture_output=True, text=True,
                          timeout=120, cwd=BENCH.parent)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith(f"usage: {name}"), done.stdout[:500]


@pytest.mark.parametrize("name", sorted(MODULES))
def test_the_module_imports(name: str) -> None:
    code = f"import sys; sys.path[:0] = [{str(BENCH)!r}, {str(BENCH.parent)!r}]; import {name[:-3]}"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          cwd=BENCH.parent)
    assert done.returncode == 0, done.stderr[-2000:]

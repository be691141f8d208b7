"""bench/year.py loaded by its path, once, for the tests and the channel benchmarks that fill a year of
history. bench/ stays off ``sys.path``: its webapp.py and telegram.py would shadow the packages of the same
names for every later test."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

NAME = "vitrina_bench_year"


def load() -> ModuleType:
    if NAME in sys.modules:
        return sys.modules[NAME]
    path = Path(__file__).resolve().parents[1] / "bench" / "year.py"
    spec = importlib.util.spec_from_file_location(NAME, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[NAME] = module
    spec.loader.exec_module(module)
    return module

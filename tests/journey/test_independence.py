"""The engine speaks only its own language: journey/ imports the standard library, pydantic and itself.

Every module in journey/ is parsed (not imported) and each import's top-level module is checked, so
an SDK, a storage driver or a web framework reaching into the engine fails here, even inside a function
or an ``if TYPE_CHECKING`` block.
"""
from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

import journey

ALLOWED = {"journey", "pydantic"}
MODULES = sorted(Path(journey.__file__).parent.glob("*.py"))


def imported_top_levels(source: str) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            found.add("journey" if node.level else (node.module or "").split(".")[0])
    return found


def test_the_walk_sees_the_engine():
    assert {p.name for p in MODULES} >= {"engine.py", "ordering.py", "pricing.py", "states.py"}
    assert imported_top_levels("import os.path\nfrom . import x\nfrom aiogram.types import Message") == {
        "os", "journey", "aiogram"}


@pytest.mark.parametrize("module", MODULES, ids=lambda p: p.name)
def test_module_imports_only_the_standard_library_pydantic_and_journey(module):
    outside = {name for name in imported_top_levels(module.read_text(encoding="utf-8"))
               if name not in sys.stdlib_module_names and name not in ALLOWED}
    assert not outside, f"{module.name} imports {sorted(outside)}"

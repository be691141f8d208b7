"""aiogram imported with its models built on first use instead of all at once (bench/memory.py, docs/PERFORMANCE.md
"Memory").

aiogram declares its Telegram types and methods (some 450 pydantic models) with ``defer_build=True``, then the
``__init__`` of its packages calls ``model_rebuild`` on every one of them, with the namespace that resolves their
forward references, so the validators of all of them are built at import: 120 MB of the process's memory, where
a shop's bot uses a few dozen. Here aiogram is imported with those calls recorded instead of run; each model keeps
the namespace it was given and pydantic builds it when it is first validated, constructed or serialized (its
placeholder validator calls ``model_rebuild``, which gets the recorded namespace back). A model builds in
milliseconds, once per process.

Importing this module before anything else imports aiogram is what makes the difference (adapters/telegram does
it first); when aiogram is already loaded it changes nothing.
"""
from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

_plain_rebuild = BaseModel.__dict__["model_rebuild"].__func__
_waiting: list[type[BaseModel]] = []  # the models whose build was left for their first use
_namespace: dict[str, Any] = {}  # the names aiogram resolves its models' forward references with


def _recording(cls: type[BaseModel], *, force: bool = False, raise_errors: bool = True,
               _parent_namespace_depth: int = 2, _types_namespace: Mapping[str, Any] | None = None) -> bool | None:
    if _types_namespace is not None and not force and cls.__module__.startswith("aiogram."):
        _namespace.update(_types_namespace)
        _waiting.append(cls)
        return None
    return _plain_rebuild(cls, force=force, raise_errors=raise_errors,
                          _parent_namespace_depth=_parent_namespace_depth + 1, _types_namespace=_types_namespace)


def _with_namespace(cls: type[BaseModel], *, force: bool = False, raise_errors: bool = True,
                    _parent_namespace_depth: int = 2, _types_namespace: Mapping[str, Any] | None = None) -> bool | None:
    # pydantic's placeholder validator asks for the build with no namespace: give aiogram's (its methods' models
    # need it too, as they refer to types that are not built yet)
    return _plain_rebuild(cls, force=force, raise_errors=raise_errors,
                          _parent_namespace_depth=_parent_namespace_depth + 1,
                          _types_namespace=_namespace if _types_namespace is None else _types_namespace)


def import_aiogram() -> None:
    if "aiogram" in sys.modules:
        return
    BaseModel.model_rebuild = classmethod(_recording)  # type: ignore[method-assign,assignment]
    try:
        import aiogram.methods
        import aiogram.types  # noqa: F401
    finally:
        BaseModel.model_rebuild = classmethod(_plain_rebuild)  # type: ignore[method-assign,assignment]
    # on the roots only: every type and method inherits it, and so does each Response[...] made at run time
    from aiogram.client.context_controller import BotContextController
    from aiogram.methods.base import Request, Response

    for root in (BotContextController, Request, Response):
        root.model_rebuild = classmethod(_with_namespace)  # type: ignore[method-assign,assignment]


def waiting() -> int:
    """How many of aiogram's models are still to be built (for tests and bench/memory.py)."""
    return sum(1 for cls in _waiting if not cls.__pydantic_complete__)


import_aiogram()

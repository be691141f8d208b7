"""Joining a unit of work already open: a unit of work opened again inside one (a use case calling another),
in the same task and mode, joins it (the same transaction and repositories) instead of waiting for the lock or
connection its own task holds. The outer one commits or rolls back. Both backends' units of work use this."""
from __future__ import annotations

import asyncio
from contextvars import ContextVar, Token
from typing import Any, ClassVar

OpenUnits = dict[bool, tuple[asyncio.Task | None, Any]]  # per mode (read-only or not): the task and its unit


class Joinable:
    """A unit of work's joining; a subclass sets ``_open`` (a ContextVar of its own: backends never join each
    other), ``_readonly`` and ``_outer = None``."""

    _open: ClassVar[ContextVar[OpenUnits]]
    _readonly: bool
    _outer: Any
    _token: Token[OpenUnits]

    def _join_open(self) -> bool:
        """Join the unit of work this task has open in this mode, if any: True when joined."""
        active = self._open.get({}).get(self._readonly)
        if active is None or active[0] is not asyncio.current_task():
            return False
        self._outer = active[1]
        self.__dict__.update({k: v for k, v in active[1].__dict__.items() if not k.startswith("_")})
        return True

    def _opened(self) -> None:
        """This unit of work began: the ones opened inside it join it."""
        self._token = self._open.set({**self._open.get({}), self._readonly: (asyncio.current_task(), self)})

    def _leaving(self) -> bool:
        """On exit: True for the outer unit of work (it now commits or rolls back), False for a joined one."""
        if self._outer is not None:
            return False
        self._open.reset(self._token)
        return True

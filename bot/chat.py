"""What every chat scenario module shares: the turn it answers, and the tables that route to it.

A scenario module (``admin_chat``, ``shop_chat``...) registers its handlers with ``@command``, ``@action``
and ``@dialog``; ``bot/conversation.py`` imports the modules and routes by these tables, so a new
scenario is a function and a decorator. ``owner=True`` handlers are answered with a polite refusal for
anyone not in ``VITRINA_OWNERS`` before they run (and the engine's use cases refuse them again).
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from journey.channels import Inbound, Reply
from journey.customers import Profile
from journey.dialogs import Dialog

if TYPE_CHECKING:
    from .conversation import Conversation


@dataclass
class Turn:
    """One inbound message with what we know of its sender, and the dialog it continues (if any)."""

    inbound: Inbound
    profile: Profile
    dialog: Dialog | None = None

    @property
    def lang(self) -> str:
        return self.profile.customer.language


Handler = Callable[["Conversation", Turn], Awaitable[list[Reply]]]


@dataclass(frozen=True, slots=True)
class Route:
    handler: Handler
    owner: bool = False  # only ``VITRINA_OWNERS``


COMMANDS: dict[str, Route] = {}  # "/price ..." -> its handler
ACTIONS: dict[str, Route] = {}  # a button's action id -> its handler
DIALOGS: dict[str, Route] = {}  # an open dialog's kind -> the handler of the next text or photo
TEXT_WORDS: dict[str, Route] = {}  # a plain word that works like a command ("меню")


def _register(table: dict[str, Route], names: tuple[str, ...], owner: bool) -> Callable[[Handler], Handler]:
    def decorate(handler: Handler) -> Handler:
        for name in names:
            if name in table:
                raise KeyError(f"{name!r} is routed twice")
            table[name] = Route(handler, owner)
        return handler
    return decorate


def command(*names: str, owner: bool = False) -> Callable[[Handler], Handler]:
    return _register(COMMANDS, names, owner)


def action(*names: str, owner: bool = False) -> Callable[[Handler], Handler]:
    return _register(ACTIONS, names, owner)


def dialog(kind: str, owner: bool = False) -> Callable[[Handler], Handler]:
    return _register(DIALOGS, (kind,), owner)


def word(*words: str) -> Callable[[Handler], Handler]:
    return _register(TEXT_WORDS, words, False)

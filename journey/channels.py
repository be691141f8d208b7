"""The normalized channel model: every adapter translates its SDK to and from these types."""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class Channel(str, Enum):
    TELEGRAM = "telegram"
    VK = "vk"
    WEB = "web"


@dataclass(frozen=True, slots=True)
class CustomerRef:
    """Who and where: one account on one channel (the model of aiogram's EventContext)."""

    channel: Channel
    external_id: str
    name: str = ""
    language: str = "ru"

    @property
    def key(self) -> str:
        return f"{self.channel.value}:{self.external_id}"

    @classmethod
    def parse(cls, text: str) -> CustomerRef:
        """``telegram:123`` -> CustomerRef. Raises ValueError naming the problem."""
        channel, sep, external_id = text.strip().partition(":")
        if not sep or not external_id.strip():
            raise ValueError(f"expected channel:id, e.g. telegram:123, got {text!r}")
        try:
            return cls(Channel(channel.strip().lower()), external_id.strip())
        except ValueError:
            raise ValueError(f"unknown channel {channel!r} in {text!r} (telegram, vk or web)") from None


@dataclass(frozen=True, slots=True)
class Capabilities:
    inline_buttons: bool = True
    mini_app_buttons: bool = True
    photos: bool = True
    invoices: bool = False
    max_text: int = 4096


# --- inbound -----------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Inbound:
    """One thing a customer did: a text, a command with its argument, a button press, Mini App data."""

    sender: CustomerRef
    text: str = ""
    command: str | None = None  # "start", "link", ... without the slash
    argument: str = ""  # the deep-link parameter of /start, a command's argument
    action: str | None = None  # a button's action id
    payload: dict[str, str] = field(default_factory=dict)
    update_id: str = ""  # for de-duplication by the adapter
    raw: Any = None  # the SDK's own object, an escape hatch


# --- replies -----------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Button:
    text: str
    action: str | None = None  # callback action id
    payload: dict[str, str] = field(default_factory=dict)
    url: str | None = None  # a link button
    mini_app: str | None = None  # a Mini App start parameter ("" for the plain start)


@dataclass(frozen=True, slots=True)
class Text:
    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()


@dataclass(frozen=True, slots=True)
class Photo:
    image: bytes
    caption: str = ""
    filename: str = "photo.png"
    buttons: tuple[tuple[Button, ...], ...] = ()


Reply = Text | Photo


def degrade(reply: Reply, caps: Capabilities) -> Reply:
    """Fit a reply to what a channel can show: a photo becomes its caption, lost buttons become text."""
    if isinstance(reply, Photo) and not caps.photos:
        reply = Text(reply.caption, reply.buttons)
    buttons = tuple(
        tuple(b for b in row if _supported(b, caps)) for row in reply.buttons
    )
    buttons = tuple(row for row in buttons if row)
    dropped = [b for row in reply.buttons for b in row if not _supported(b, caps) and b.url]
    extra = "".join(f"\n{b.text}: {b.url}" for b in dropped)
    if isinstance(reply, Text):
        return Text(reply.text + extra, buttons)
    return Photo(reply.image, reply.caption + extra, reply.filename, buttons)


def _supported(button: Button, caps: Capabilities) -> bool:
    if button.mini_app is not None:
        return caps.mini_app_buttons
    return caps.inline_buttons

"""The normalized channel model: every adapter translates its SDK to and from these types."""
from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

CHANNEL_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")


class Channel(str):
    """A channel's registered name: ``telegram``, ``vk``, ``web`` (the browser) or any other.

    Not a closed enum: the composition root registers the channels it wires (``bot/channels.py``), and
    the engine and storage keep any well-formed name, so a third messenger needs no change here.
    """

    __slots__ = ()
    TELEGRAM: ClassVar[Channel]
    VK: ClassVar[Channel]
    WEB: ClassVar[Channel]

    def __new__(cls, name: str) -> Channel:
        if isinstance(name, Channel):
            return name
        if not isinstance(name, str) or not CHANNEL_NAME.fullmatch(name):
            raise ValueError(f"a channel name is 1..32 of a-z, 0-9 and _ starting with a letter, got {name!r}")
        return super().__new__(cls, name)

    @property
    def value(self) -> str:
        return str.__str__(self)

    def __repr__(self) -> str:
        return f"Channel({self.value!r})"


Channel.TELEGRAM = Channel("telegram")
Channel.VK = Channel("vk")
Channel.WEB = Channel("web")
# names an account may be given in settings and commands (``telegram:123``); the composition root adds
# the channels it wires; stored data keeps any well-formed name whether registered or not
_REGISTERED: set[Channel] = {Channel.TELEGRAM, Channel.VK, Channel.WEB}


def register_channel(name: str) -> Channel:
    channel = Channel(name)
    _REGISTERED.add(channel)
    return channel


def registered_channels() -> list[Channel]:
    return sorted(_REGISTERED)


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
        name = channel.strip().lower()
        if name not in _REGISTERED:
            known = ", ".join(registered_channels())
            raise ValueError(f"unknown channel {channel!r} in {text!r} ({known})")
        return cls(Channel(name), external_id.strip())


@dataclass(frozen=True, slots=True)
class Capabilities:
    inline_buttons: bool = True
    mini_app_buttons: bool = True
    photos: bool = True
    invoices: bool = False
    max_text: int = 4096
    files: bool = False  # sends a ``Document`` as a file (off: degrade() makes it a text)


# --- what a channel offers besides its chat ----------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Launch:
    """A verified Mini App launch: the account, and the start parameter the Mini App was opened with."""

    ref: CustomerRef
    start_param: str | None = None


@dataclass(frozen=True, slots=True)
class LandingLink:
    """One way into the shop on the QR landing page (``/go/<param>``): a link and its label."""

    href: str
    label_ru: str
    label_en: str
    color: str = ""  # the button's CSS colour, the channel's own


@dataclass(frozen=True, slots=True)
class Route:
    """An HTTP route a channel serves on the shared server (a webhook, a callback API).

    ``handler`` is the web framework's own handler (aiohttp's), which the engine never calls.
    """

    method: str
    path: str
    handler: Callable[[Any], Awaitable[Any]]


class ChannelError(Exception):
    """A channel cannot start: a refused token, an unreachable API. ``setting`` names what to fix,
    relative to the channel's settings section (``token``, ``api_base``)."""

    def __init__(self, message: str, setting: str = "") -> None:
        super().__init__(message)
        self.setting = setting


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
    photo: Callable[[], Awaitable[bytes]] | None = None  # downloads the attached photo (its largest size)
    raw: Any = None  # the SDK's own object, an escape hatch
    group_chat: bool = False  # written in a chat of several people (the staff's), where replies are seen by all


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


@dataclass(frozen=True, slots=True)
class Invoice:
    """A bill the customer pays inside the messenger (Telegram: ``sendInvoice``), for a channel whose
    ``Capabilities.invoices`` is set. ``payload`` comes back in the pre-checkout and the payment: our
    payment id (``pay_...``) or a points-pack purchase id."""

    title: str
    description: str
    payload: str
    currency: str  # "RUB" through the shop's payment provider, "XTR" for Telegram Stars
    amount: int  # minor units (kopecks), or whole Stars
    label: str = ""  # the price line's label; the title when empty


@dataclass(frozen=True, slots=True)
class Document:
    """A file sent into the chat (Telegram: ``sendDocument``; VK: a ``doc`` attachment), for a channel whose
    ``Capabilities.files`` is set; elsewhere ``degrade`` makes it a text: the caption, and the content itself
    when it is UTF-8 text that fits the channel's message."""

    filename: str
    content: bytes
    mime_type: str = "application/octet-stream"
    caption: str = ""
    buttons: tuple[tuple[Button, ...], ...] = ()


Reply = Text | Photo | Invoice | Document
TEXT_TYPES = ("application/json", "application/xml")  # besides text/*: content a text message can carry


def degrade(reply: Reply, caps: Capabilities) -> Reply:
    """Fit a reply to what a channel can show: a photo becomes its caption, a file its caption (and its text),
    lost buttons become text."""
    if isinstance(reply, Invoice):
        return reply if caps.invoices else Text(f"{reply.title}\n{reply.description}")
    if isinstance(reply, Photo) and not caps.photos:
        reply = Text(reply.caption, reply.buttons)
    if isinstance(reply, Document) and not caps.files:
        reply = Text(_document_text(reply, caps.max_text), reply.buttons)
    buttons = tuple(
        tuple(b for b in row if _supported(b, caps)) for row in reply.buttons
    )
    buttons = tuple(row for row in buttons if row)
    dropped = [b for row in reply.buttons for b in row if not _supported(b, caps) and b.url]
    extra = "".join(f"\n{b.text}: {b.url}" for b in dropped)
    if isinstance(reply, Text):
        return Text(reply.text + extra, buttons)
    if isinstance(reply, Document):
        return Document(reply.filename, reply.content, reply.mime_type, reply.caption + extra, buttons)
    return Photo(reply.image, reply.caption + extra, reply.filename, buttons)


def _document_text(document: Document, max_text: int) -> str:
    """A file as a message: its caption, then its content when that is text and both fit."""
    mime = document.mime_type.split(";", 1)[0].strip().lower()
    if mime.startswith("text/") or mime in TEXT_TYPES:
        try:
            content = document.content.decode("utf-8")
        except UnicodeDecodeError:
            return document.caption or document.filename
        text = f"{document.caption}\n\n{content}" if document.caption else content
        if len(text) <= max_text:
            return text
    return document.caption or document.filename


def _supported(button: Button, caps: Capabilities) -> bool:
    if button.mini_app is not None:
        return caps.mini_app_buttons
    return caps.inline_buttons


# --- payments inside a messenger --------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class InvoicePayment:
    """What a messenger reports of a bill it collects (Telegram's ``pre_checkout_query`` and
    ``successful_payment``): the payload we issued, the currency and total it was asked for, and on
    success the charge ids (Telegram's and the payment provider's)."""

    payload: str
    currency: str
    total: int
    charge_id: str = ""  # telegram_payment_charge_id: a payment is fulfilled once per charge id
    provider_charge_id: str = ""  # the provider's own id (YooKassa's payment id when YooKassa is the provider)


class InvoiceDesk(Protocol):
    """Answers a messenger's payment updates; implemented in ``bot/`` over the engine."""

    async def check(self, payer: CustomerRef, payment: InvoicePayment) -> str | None:
        """Before the money is taken: ``None`` approves, a text (in the payer's language) refuses."""
        ...

    async def paid(self, payer: CustomerRef, payment: InvoicePayment) -> list[Reply]:
        """After the money was taken: fulfil once per charge id; the replies go to the payer."""
        ...


class UpdateBusy(Exception):
    """Another instance is handling this update now (its lease is fresh): the webhook answers 503, and the
    platform sends the update again later, when it is handled or its holder's lease has lapsed."""


# --- delivery failures -------------------------------------------------------------------------------

class DeliveryError(Exception):
    """A reply could not be delivered. Each ``Messenger`` sorts its SDK's failures into two kinds:

    - ``permanent``: the account cannot be reached (blocked the bot, deactivated, never allowed the
      community's messages). Trying again will not help until the person writes again: the account is
      marked unreachable and the message counts as handled for it.
    - transient (``permanent=False``): the network, the platform's 5xx, a rate limit that outlasted the
      messenger's own attempts, or anything not recognised. The send is tried again later, with backoff.

    ``reason`` is a short word for logs and the dead-letter list: ``blocked``, ``chat_not_found``,
    ``deactivated``, ``no_permission``, ``network``, ``rate_limited``, ``server``, ``unknown``...
    """

    def __init__(self, message: str, *, permanent: bool, reason: str) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.reason = reason

    @classmethod
    def transient(cls, message: str, reason: str = "unknown") -> DeliveryError:
        return cls(message, permanent=False, reason=reason)

    @classmethod
    def unreachable(cls, message: str, reason: str) -> DeliveryError:
        return cls(message, permanent=True, reason=reason)


# --- sharing: the shop's card in a messenger's inline mode --------------------------------------------

@dataclass(frozen=True, slots=True)
class ShareCard:
    """The shop's card a customer sends into any chat through the bot's inline mode (Telegram's
    ``inline_query``): the adapter makes it a result whose button opens the shop with ``start``, the
    sharer's referral code tagged as shared by card (``r<code>-ti``, journey/sharing.py)."""

    title: str
    description: str
    text: str  # the message the card puts in the chat
    button: str  # the label of the button that opens the shop
    start: str  # the start parameter the button opens the shop with
    picture: str = ""  # an https address of the card's picture; "" for none

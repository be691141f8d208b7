"""Sharing: a customer tells friends about the shop (a Telegram story or inline card, a VK story or wall
post, a plain link), every share carrying their referral code and how it was shared.

A shared link is the referral link with a tag, ``r<code>-<via>`` (journey/deeplinks.py): the friend who
opens it is attributed to the sharer exactly as by ``r<code>`` (journey/referrals.py), and the visit keeps
the tag, so the owner's numbers count the shares of each kind and the visits each kind brought
(journey/stats.py). A share is recorded when the Mini App opened the platform's share dialog: what the
person did in it the platforms do not say (Telegram and VK Bridge answer only "shown"), so it counts offers
taken up, and the visits say what they brought.

The story picture is drawn by a ``ports.StoryRenderer`` (Pillow in ``adapters/story.py``, which keeps what
it drew): 1080x1920, served at ``/share/story.jpg`` for Telegram and VK to fetch.
"""
from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING

from .channels import CustomerRef
from .errors import DomainError, ErrorCode
from .events import DomainEvent, EventType
from .ids import new_id

if TYPE_CHECKING:
    from .engine import Engine


class ShareKind(str, Enum):
    TELEGRAM_STORY = "telegram_story"  # Telegram.WebApp.shareToStory
    TELEGRAM_INLINE = "telegram_inline"  # Telegram.WebApp.switchInlineQuery: the bot's inline card
    VK_STORY = "vk_story"  # VKWebAppShowStoryBox
    VK_WALL = "vk_wall"  # VKWebAppShowWallPostBox
    LINK = "link"  # a plain link: the system share sheet, t.me/share, VKWebAppShare or a copy

    @property
    def via(self) -> str:
        return VIA[self]


# the tag a shared link carries (``r<code>-<via>``, journey/deeplinks.SHARE_VIAS)
VIA = {ShareKind.TELEGRAM_STORY: "ts", ShareKind.TELEGRAM_INLINE: "ti", ShareKind.VK_STORY: "vs",
       ShareKind.VK_WALL: "vw", ShareKind.LINK: "l"}
KIND_OF_VIA = {via: kind for kind, via in VIA.items()}


@dataclass(frozen=True, slots=True)
class Share:
    id: str
    customer_id: str
    kind: ShareKind
    channel: str  # where the share was made from: telegram, vk, web
    at: datetime
    order_id: str | None = None  # the order it was shared from, when it was


@dataclass(frozen=True, slots=True)
class ShareCount:
    kind: str  # ``ShareKind`` value
    count: int


@dataclass(frozen=True, slots=True)
class ViaCount:
    via: str  # ``VIA`` value
    count: int


@dataclass(frozen=True, slots=True)
class ShareOffer:
    """What a customer shares: their referral code and the shop's name (for the card's words)."""

    code: str
    shop: str

    def start(self, kind: ShareKind) -> str:
        """The start parameter of a link shared this way: ``r<code>-<via>``."""
        return f"r{self.code}-{kind.via}"


@dataclass(frozen=True, slots=True)
class StoryCard:
    """What the story picture shows; a ``ports.StoryRenderer`` draws it as a 1080x1920 JPEG."""

    title: str  # the shop's name
    lines: tuple[str, ...]  # its pickup points


def parse_kind(value: str) -> ShareKind:
    try:
        return ShareKind(value)
    except ValueError:
        known = ", ".join(k.value for k in ShareKind)
        raise DomainError(ErrorCode.BAD_INPUT, f"kind is one of {known}, got {value!r}") from None


def share_link(base_url: str, offer: ShareOffer, kind: ShareKind) -> str:
    """The landing page that opens the shop in Telegram, VK or the browser with the sharer's code."""
    return f"{base_url}/go/{offer.start(kind)}"


# --- use cases ------------------------------------------------------------------------------------------

async def share_offer(self: Engine, ref: CustomerRef) -> ShareOffer:
    """The caller's referral code to share (a customer is created on first contact, as everywhere)."""
    from .customers import find_or_create

    async with self.read() as uow:
        customer = await uow.customers.by_account(ref.channel, ref.external_id)
        rules = await self.rules(uow)
    if customer is None:
        async with self.uow() as uow:
            customer = await find_or_create(self, uow, ref)
    return ShareOffer(customer.referral_code, rules.name)


async def record_share(self: Engine, ref: CustomerRef, kind: str, order_id: str | None = None) -> Share:
    """Record that the caller shared the shop; ``order_id`` must be their own order (else not found)."""
    from .customers import find_or_create

    share_kind = parse_kind(kind)
    async with self.uow() as uow:
        customer = await find_or_create(self, uow, ref)
        if order_id is not None:
            order = await uow.orders.get(order_id)
            if order is None or order.customer_id != customer.id:
                raise DomainError(ErrorCode.ORDER_NOT_FOUND)
        share = Share(new_id("sh"), customer.id, share_kind, ref.channel.value, self.now(), order_id)
        await uow.sharing.add(share)
        await self.emit(uow, DomainEvent(EventType.SHARED, {
            "customer_id": customer.id, "kind": share_kind.value, "via": share_kind.via,
            "channel": share.channel, "order_id": order_id}, share.at))
    return share


async def story_picture(self: Engine) -> tuple[str, bytes] | None:
    """The story picture: a digest of what it shows (its ETag) and the JPEG; None without a renderer. The
    renderer keeps what it drew, so it is drawn again only when the shop's name or points change."""
    if self.stories is None:
        return None
    view = await self.shop_view()
    card = StoryCard(view.rules.name, tuple(p.name for p in view.points[:3]))
    digest = hashlib.sha256(repr(card).encode()).hexdigest()[:16]
    return digest, await asyncio.to_thread(self.stories.story, card)

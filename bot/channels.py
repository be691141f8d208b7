"""The channels ``vitrina run`` can wire, registered by name.

Each entry says whether the settings configure it and builds its ``ChannelAdapter``; everything else
(the runner, the Mini App's launch checks, the landing page, notifications) iterates over what was
built. A third messenger is one folder in ``adapters/`` plus one ``register`` call, here or in a
deployment's own start-up code, before ``vitrina run`` builds the channels.

How a channel receives follows its settings: Telegram by webhook when ``VITRINA_TELEGRAM__WEBHOOK_URL`` is
set, else by long polling; VK by the Callback API when ``VITRINA_VK__CALLBACK_SECRET`` is set, else by Bots
Long Poll. Several instances behind one load balancer receive by webhook and callback (any instance may get
any update; the claim in the database makes a repeat a no-op); polling is for one instance, the others
running ``vitrina run --only webapp`` (``Wiring.receive`` false: the adapters check their tokens for the
Mini App and receive nothing). ``polling`` names the channels that would poll.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from pydantic import SecretStr

from journey.channels import (
    Channel,
    ChannelError,
    CustomerRef,
    Inbound,
    InvoiceDesk,
    Reply,
    ShareCard,
    register_channel,
)
from journey.ports import ChannelAdapter

from .settings import PREFIX, Settings


@dataclass(frozen=True, slots=True)
class Wiring:
    """What every adapter is built with: the conversation, update de-duplication, the public address."""

    handle: Callable[[Inbound], Awaitable[list[Reply]]]
    claim: Callable[[Channel, str], Awaitable[bool]]
    public_url: str
    desk: InvoiceDesk | None = None  # payments collected inside a messenger (Telegram invoices)
    # sharing: the shop's card a messenger's inline mode answers with (bot/sharing_chat.py)
    cards: Callable[[CustomerRef], Awaitable[ShareCard | None]] | None = None
    # several instances: ``claim`` takes an update under a lease (``Engine.begin_update``), ``finish`` marks
    # it handled, ``release`` gives up one whose handling failed so that the channel's redelivery is handled
    release: Callable[[Channel, str], Awaitable[None]] | None = None
    finish: Callable[[Channel, str], Awaitable[None]] | None = None
    # false for ``vitrina run --only webapp``: serve the Mini App, receive no updates, set no webhook
    receive: bool = True


@dataclass(frozen=True, slots=True)
class ChannelKind:
    name: str
    section: str  # the settings section: VITRINA_<SECTION>__<SETTING>
    configured: Callable[[Settings], bool]
    build: Callable[[Settings, Wiring], ChannelAdapter]


class ChannelStartError(Exception):
    """A channel could not be built or started: one line naming the setting to fix."""


REGISTRY: dict[str, ChannelKind] = {}


def register(kind: ChannelKind) -> None:
    register_channel(kind.name)
    REGISTRY[kind.name] = kind


def configured(settings: Settings) -> list[ChannelKind]:
    return [kind for kind in REGISTRY.values() if kind.configured(settings)]


def is_demo(settings: Settings) -> bool:
    """The demo runs only when no channel at all is configured: no bot token and no Mini App secret."""
    return not configured(settings)


def start_error(kind: ChannelKind, error: ChannelError) -> ChannelStartError:
    setting = f"{PREFIX}{kind.section.upper()}__{error.setting.upper()}" if error.setting else kind.name
    return ChannelStartError(f"{setting}: {error}")


def build(settings: Settings, wiring: Wiring) -> list[tuple[ChannelKind, ChannelAdapter]]:
    built = []
    for kind in configured(settings):
        try:
            built.append((kind, kind.build(settings, wiring)))
        except ChannelError as e:
            raise start_error(kind, e) from None
    return built


def polling(adapters: Iterable[ChannelAdapter]) -> list[ChannelAdapter]:
    """The adapters that receive by polling: one instance at a time may (a third channel that says
    nothing is taken to receive through its routes)."""
    return [a for a in adapters if getattr(a, "polls", False)]


def _for(channel: Channel, step: Callable[[Channel, str], Awaitable[None]] | None
         ) -> Callable[[str], Awaitable[None]] | None:
    """``finish`` or ``release`` for one channel's adapter."""
    if step is None:
        return None

    async def bound(update_id: str) -> None:
        await step(channel, update_id)
    return bound


def _secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None


def _telegram(settings: Settings, wiring: Wiring) -> ChannelAdapter:
    from adapters.telegram import TelegramChannel

    tg = settings.telegram
    return TelegramChannel(
        _secret(tg.token) or "", handle=wiring.handle,
        claim=lambda update_id: wiring.claim(Channel.TELEGRAM, update_id),
        release=_for(Channel.TELEGRAM, wiring.release), finish=_for(Channel.TELEGRAM, wiring.finish),
        receive=wiring.receive, api_base=tg.api_base,
        mini_app_url=wiring.public_url + "/", webhook_url=tg.webhook_url, webhook_secret=_secret(tg.webhook_secret),
        staff_chat_id=tg.staff_chat_id, desk=wiring.desk, provider_token=_secret(tg.provider_token) or "",
        receipt_vat_code=settings.yookassa.vat_code if settings.yookassa.receipts else None,
        cards=wiring.cards, regulars_chat_id=tg.regulars_chat_id)  # sharing and regulars


def _vk(settings: Settings, wiring: Wiring) -> ChannelAdapter:
    from adapters.vk import VkChannel

    vk = settings.vk
    return VkChannel(
        _secret(vk.token), vk.group_id, handle=wiring.handle,
        claim=lambda event_id: wiring.claim(Channel.VK, event_id), release=_for(Channel.VK, wiring.release),
        finish=_for(Channel.VK, wiring.finish), receive=wiring.receive, api_base=vk.api_base, app_id=vk.app_id,
        app_secret=_secret(vk.app_secret), callback_secret=_secret(vk.callback_secret),
        confirmation_code=vk.confirmation_code, staff_peer_id=vk.staff_peer_id,
        regulars_chat_link=vk.regulars_chat_link)  # regulars


register(ChannelKind("telegram", "telegram", lambda s: s.telegram.token is not None, _telegram))
register(ChannelKind("vk", "vk", lambda s: s.vk.token is not None or s.vk.app_secret is not None, _vk))

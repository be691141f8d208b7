"""A customer's VK dialogue with the community: the real vkbottle against the fake VK API server."""
from __future__ import annotations

import asyncio
import json
from contextlib import asynccontextmanager
from dataclasses import dataclass

from fake_vk import FakeVK, Message

from adapters.qr import QrcodeRenderer
from adapters.vk import VkChannel
from bot.conversation import Conversation
from bot.notifications import Notifier
from journey.channels import Channel, CustomerRef
from journey.engine import Engine
from journey.outbox import OutboxRelay

APP_ID = 51234


def buttons(message: Message) -> list[dict]:
    return [b["action"] for row in (message.keyboard or {}).get("buttons", []) for b in row]


def button(message: Message, label: str) -> dict:
    found = [b for b in buttons(message) if label in b["label"]]
    assert found, f"no button {label!r} under {message.text!r}: {[b['label'] for b in buttons(message)]}"
    return found[0]


@dataclass
class Dialogue:
    fake: FakeVK
    user_id: int

    @property
    def ref(self) -> CustomerRef:
        return CustomerRef(Channel.VK, str(self.user_id))

    async def send(self, text: str, ref: str | None = None) -> Message:
        self.fake.message_new(self.user_id, text, ref=ref)
        return await self.fake.next_message(self.user_id)

    async def press(self, message: Message, label: str) -> Message:
        payload = json.loads(button(message, label)["payload"])
        self.fake.message_event(self.user_id, payload, conversation_message_id=message.conversation_message_id)
        return await self.fake.next_message(self.user_id)


@dataclass
class VkShop:
    fake: FakeVK
    channel: VkChannel
    engine: Engine
    relay: OutboxRelay
    notifier: Notifier

    def dialogue(self, user_id: int) -> Dialogue:
        return Dialogue(self.fake, user_id)

    async def notify(self) -> int:
        return await self.relay.run_once()


def build_channel(fake: FakeVK, engine: Engine, **callback) -> VkChannel:
    conversation = Conversation(engine, public_url="https://coffee.example")
    return VkChannel(fake.token, fake.group_id, handle=conversation.handle,
                     claim=lambda event_id: engine.claim_update(Channel.VK, event_id),
                     api_base=fake.api_url, app_id=APP_ID, **callback)


@asynccontextmanager
async def vk_shop(engine: Engine, staff_peer: int | None = None):
    async with FakeVK(group_id=7) as fake:
        channel = build_channel(fake, engine)
        notifier = Notifier(engine, QrcodeRenderer(), {Channel.VK: channel.messenger},
                            [CustomerRef(Channel.VK, str(staff_peer))] if staff_peer else [])
        relay = OutboxRelay(engine.uow, {"notify": notifier})
        await channel.start()
        polling = asyncio.create_task(channel.run())
        await fake.wait_for(lambda: fake.calls_to("groups.getLongPollServer"))
        try:
            yield VkShop(fake, channel, engine, relay, notifier)
        finally:
            polling.cancel()
            await asyncio.gather(polling, return_exceptions=True)
            await channel.stop()

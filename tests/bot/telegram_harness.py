"""A customer's Telegram chat with Vitrina: the real aiogram bot polling the fake Bot API server."""
from __future__ import annotations

import asyncio
import contextlib
from contextlib import asynccontextmanager
from dataclasses import dataclass

from fake_telegram import FakeTelegram, Sent

from adapters.qr import QrcodeRenderer
from adapters.telegram import TelegramChannel
from bot.conversation import Conversation
from bot.notifications import Notifier
from bot.payments import PaymentDesk
from journey.channels import Channel, CustomerRef, InvoicePayment, Reply
from journey.engine import Engine
from journey.outbox import OutboxRelay

MINI_APP = "https://coffee.example/"


@dataclass
class Chat:
    """One person's private chat: send, then expect the reply."""

    fake: FakeTelegram
    user_id: int
    first_name: str = "Аня"
    language: str = "ru"

    @property
    def ref(self) -> CustomerRef:
        return CustomerRef(Channel.TELEGRAM, str(self.user_id))

    async def send(self, text: str) -> Sent:
        self.fake.send_message(self.user_id, text, first_name=self.first_name, language_code=self.language)
        return await self.fake.next_message(self.user_id)

    async def press(self, message: Sent, label: str) -> Sent:
        self.fake.press_button(self.user_id, message.message_id, button(message, label)["callback_data"])
        return await self.fake.next_message(self.user_id)


def buttons(message: Sent) -> list[dict]:
    return [b for row in (message.reply_markup or {}).get("inline_keyboard", []) for b in row]


def button(message: Sent, label: str) -> dict:
    found = [b for b in buttons(message) if label in b["text"]]
    assert found, f"no button {label!r} under {message.text!r}: {[b['text'] for b in buttons(message)]}"
    return found[0]


@dataclass
class TelegramShop:
    fake: FakeTelegram
    channel: TelegramChannel
    engine: Engine
    relay: OutboxRelay
    notifier: Notifier

    @property
    def desk(self) -> CountingDesk:
        assert isinstance(self.channel.desk, CountingDesk)
        return self.channel.desk

    def chat(self, user_id: int, **kw) -> Chat:
        return Chat(self.fake, user_id, **kw)

    async def notify(self) -> int:
        """Run the outbox relay once, as ``vitrina run`` does in the background."""
        return await self.relay.run_once()


PROVIDER_TOKEN = "381764678:TEST:100500"  # a YooKassa test shop's token, as BotFather gives it


class CountingDesk(PaymentDesk):
    """The bot's invoice desk, counting the successful payments it has finished handling."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        self.paid_handled = 0

    async def paid(self, payer: CustomerRef, payment: InvoicePayment) -> list[Reply]:
        try:
            return await super().paid(payer, payment)
        finally:
            self.paid_handled += 1

    async def handled(self, count: int, timeout: float = 5) -> None:
        """Wait until ``count`` successful payments were handled (Telegram's repeats included)."""
        async with asyncio.timeout(timeout):
            while self.paid_handled < count:
                await asyncio.sleep(0.01)


def build_channel(fake: FakeTelegram, engine: Engine, *, webhook_secret: str | None = None) -> TelegramChannel:
    conversation = Conversation(engine, public_url="https://coffee.example")
    return TelegramChannel(fake.token, handle=conversation.handle,
                           claim=lambda update_id: engine.claim_update(Channel.TELEGRAM, update_id),
                           api_base=fake.base_url, mini_app_url=MINI_APP, webhook_secret=webhook_secret,
                           webhook_url="https://coffee.example/telegram/webhook" if webhook_secret else "",
                           desk=CountingDesk(engine), provider_token=PROVIDER_TOKEN)


@asynccontextmanager
async def telegram_shop(engine: Engine, staff_chat: int | None = None, fake: FakeTelegram | None = None):
    """The bot polling ``fake`` (a new fake Bot API server when none is given)."""
    async with contextlib.AsyncExitStack() as stack:
        if fake is None:
            fake = await stack.enter_async_context(FakeTelegram())
        channel = build_channel(fake, engine)
        await channel.start()
        notifier = Notifier(engine, QrcodeRenderer(), {Channel.TELEGRAM: channel.messenger},
                            [CustomerRef(Channel.TELEGRAM, str(staff_chat))] if staff_chat else [])
        relay = OutboxRelay(engine.uow, {"notify": notifier})
        polling = asyncio.create_task(channel.run())
        await fake.wait_for(lambda calls: any(c.method == "getUpdates" for c in calls))
        try:
            yield TelegramShop(fake, channel, engine, relay, notifier)
        finally:
            polling.cancel()
            await asyncio.gather(polling, return_exceptions=True)
            await channel.stop()

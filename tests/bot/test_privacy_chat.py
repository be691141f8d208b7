"""Personal data in the chat, in Telegram and VK: a file sent into the chat, consent before the first order,
/mydata and /forget — the real aiogram and vkbottle against the fake Bot API and VK API servers."""
from __future__ import annotations

import json
from types import SimpleNamespace

import aiohttp
import pytest
from telegram_harness import Chat as TgChat
from telegram_harness import button as tg_button
from telegram_harness import buttons as tg_buttons
from telegram_harness import telegram_shop
from vk_harness import button as vk_button
from vk_harness import buttons as vk_buttons
from vk_harness import vk_shop

from journey.channels import Capabilities, CustomerRef, DeliveryError, Document, Text, degrade
from journey.model import CartLine
from journey.order_views import OrderView

LATTE = CartLine("latte", 1, {"size": ("m",)})
POLICY = "v1"

EXPORT = json.dumps({"имя": "Аня", "orders": [1, 2]}, ensure_ascii=False).encode()


# --- a file in the chat ---------------------------------------------------------------------------------

async def test_telegram_sends_a_document_as_a_multipart_upload(engine):
    async with telegram_shop(engine) as shop:
        chat = shop.chat(700)
        await shop.channel.messenger.send(chat.ref, Document("data.json", EXPORT, "application/json", "Ваш файл"))
        sent = await shop.fake.next_message(700)
    assert sent.document is not None and sent.document.filename == "data.json"
    assert sent.document.data == EXPORT and sent.text == "Ваш файл"
    assert [c.method for c in shop.fake.calls if c.method.startswith("send")] == ["sendDocument"]


async def test_vk_uploads_a_document_for_the_conversation_and_attaches_it(engine):
    async with vk_shop(engine) as shop:
        dialogue = shop.dialogue(700)
        await shop.channel.messenger.send(dialogue.ref, Document("data.json", EXPORT, "application/json", "Файл"))
        sent = await shop.fake.next_message(700)
    server = shop.fake.calls_to("docs.getMessagesUploadServer")
    assert [(c.params["type"], str(c.params["peer_id"])) for c in server] == [("doc", "700")]
    doc = shop.fake.docs[sent.attachment]
    assert sent.attachment == f"doc-7_{doc.id}" and sent.text == "Файл"
    assert (doc.data, doc.filename, doc.title, doc.peer_id) == (EXPORT, "data.json", "data.json", 700)


async def test_vk_sends_no_half_message_when_the_file_cannot_be_uploaded(engine):
    async with vk_shop(engine) as shop:
        shop.fake.fail_uploads = True
        dialogue = shop.dialogue(701)
        with pytest.raises(DeliveryError) as refused:
            await shop.channel.messenger.send(dialogue.ref, Document("data.json", EXPORT, "application/json", "x"))
        assert not refused.value.permanent  # tried again later, the account stays reachable
        assert shop.fake.sent(701) == [] and shop.fake.docs == {}


def test_a_channel_without_files_gets_the_caption_and_the_text_that_fits():
    no_files = Capabilities(max_text=200)
    as_text = degrade(Document("d.json", EXPORT, "application/json", "Ваши данные"), no_files)
    assert as_text == Text("Ваши данные\n\n" + EXPORT.decode())
    long = Document("d.json", b"[" + b"1," * 200 + b"1]", "application/json", "Ваши данные")
    assert degrade(long, no_files) == Text("Ваши данные")
    picture = Document("p.png", b"\x89PNG\x00\xff", "image/png")
    assert degrade(picture, no_files) == Text("p.png")
    kept = Document("d.json", EXPORT, "application/json", "c")
    assert degrade(kept, Capabilities(files=True)) == kept


# --- the two channels, told apart only here ----------------------------------------------------------

class Person:
    """One customer's private chat in either channel: what they send and press, what they are sent."""

    def __init__(self, shop, user_id: int) -> None:
        self.shop, self.fake, self.user_id = shop, shop.fake, user_id

    @property
    def ref(self) -> CustomerRef:
        return CustomerRef(self.shop.channel.channel, str(self.user_id))

    async def next(self):
        return await self.fake.next_message(self.user_id)


class TelegramPerson(Person):
    async def send(self, text: str):
        return await self.shop.chat(self.user_id, first_name="Аня").send(text)

    def press_only(self, message, label: str, *, by: int | None = None) -> None:
        data = tg_button(message, label)["callback_data"]
        self.fake.press_button(by or self.user_id, message.message_id, data, chat_id=self.user_id)

    @staticmethod
    def labels(message) -> list[str]:
        return [b["text"] for b in tg_buttons(message)]

    @staticmethod
    def file(message) -> tuple[str, bytes]:
        assert message.document is not None, f"no file but {message.text!r}"
        return message.document.filename, message.document.data


class VkPerson(Person):
    async def send(self, text: str):
        return await self.shop.dialogue(self.user_id).send(text)

    def press_only(self, message, label: str, *, by: int | None = None) -> None:
        payload = json.loads(vk_button(message, label)["payload"])
        self.fake.message_event(by or self.user_id, payload, conversation_message_id=message.conversation_message_id,
                                peer_id=self.user_id)

    @staticmethod
    def labels(message) -> list[str]:
        return [b["label"] for b in vk_buttons(message)]

    def file(self, message) -> tuple[str, bytes]:
        assert message.attachment in self.fake.docs, f"no file but {message.text!r}"
        doc = self.fake.docs[message.attachment]
        return doc.filename, doc.data


async def press(person: Person, message, label: str):
    person.press_only(message, label)
    return await person.next()


@pytest.fixture(params=["telegram", "vk"])
async def shop(request, engine):
    engine.consent_version = None  # customers who ordered before the shop asked for consent
    if request.param == "telegram":
        async with telegram_shop(engine) as shop:
            yield shop, TelegramPerson
    else:
        async with vk_shop(engine) as shop:
            shop.fake.users[501] = ("Аня", "Котова")
            yield shop, VkPerson


async def an_old_customer(shop, engine) -> tuple[Person, OrderView]:
    """Someone who ordered in the Mini App before the shop asked for consent; now the policy is in force."""
    shop, kind = shop
    anna = kind(shop, 501)
    assert "Здравствуйте, Аня" in text(await anna.send("/start"))
    first = await engine.place_order(anna.ref, [LATTE], "center")
    engine.consent_version = POLICY
    return anna, first


def text(message) -> str:
    return message.text or ""


async def orders(engine, ref) -> list:
    return await engine.orders_of(ref)


# --- consent before the first order ----------------------------------------------------------------------

async def test_consent_is_asked_before_an_order_then_recorded_and_the_order_goes_on(shop, engine, clock):
    anna, _ = await an_old_customer(shop, engine)
    assert await engine.needs_consent(anna.ref)
    offer = await anna.send("/repeat")
    asked = await press(anna, offer, "Подтвердить")
    assert "согласие на обработку персональных данных" in text(asked)
    assert "https://coffee.example/privacy" in text(asked)
    assert anna.labels(asked) == ["Согласен"]
    assert len(await orders(engine, anna.ref)) == 1  # nothing placed before the consent
    assert await engine.consent(anna.ref) is None

    thanks = await press(anna, asked, "Согласен")
    placed = await anna.next()
    assert "согласие записано" in text(thanks)
    assert "Заказ №" in text(placed) and "принят" in text(placed)
    given = await engine.consent(anna.ref)
    assert given is not None and (given.version, given.given_at, given.channel) == (
        POLICY, clock.now(), anna.ref.channel.value)
    placed_orders = await orders(engine, anna.ref)
    assert len(placed_orders) == 2 and placed_orders[0].source == "chat:repeat"

    # the same «Согласен» again (a double tap): one consent, one order, an answer all the same
    again = await press(anna, asked, "Согласен")
    assert "согласие записано" in text(again) and "Заказ №" in text(await anna.next())
    assert len(await orders(engine, anna.ref)) == 2
    assert len((await engine.export_data(anna.ref))["consents"]) == 1
    assert not await engine.needs_consent(anna.ref)

    # consented: the next repeat is placed at once
    offer = await anna.send("/repeat")
    assert "Заказ №" in text(await press(anna, offer, "Подтвердить"))
    assert len(await orders(engine, anna.ref)) == 3


async def test_a_new_policy_is_asked_for_again_in_english_for_an_english_customer(engine, clock):
    async with telegram_shop(engine) as shop:
        john = shop.chat(502, first_name="John", language="en")
        assert "Hello, John" in (await john.send("/start")).text
        await engine.place_order(john.ref, [LATTE], "center")
        engine.consent_version = POLICY
        await engine.give_consent(john.ref, POLICY)
        engine.consent_version = "v2"  # the shop changed its policy text
        offer = await john.send("/repeat")
        asked = await john.press(offer, "Confirm")
        assert "consent to process your personal data" in asked.text
        assert "https://coffee.example/privacy" in asked.text
        placed_now = await john.press(asked, "I agree")
        assert "consent is recorded" in placed_now.text
        assert "Order No." in (await shop.fake.next_message(502)).text
        assert (await engine.consent(john.ref)).version == "v2"


# --- /mydata ------------------------------------------------------------------------------------------

async def test_mydata_sends_a_json_file_of_the_customers_orders_and_name(shop, engine, clock):
    anna, first = await an_old_customer(shop, engine)
    reply = await anna.send("/mydata")
    name, content = anna.file(reply)
    zone = (await engine.shop_view()).zone
    assert name == f"vitrina-mydata-{clock.now().astimezone(zone).date().isoformat()}.json"
    assert "/forget" in text(reply)
    data = json.loads(content.decode("utf-8"))
    assert data["customer"]["name"] == "Аня"
    assert [o["id"] for o in data["orders"]] == [first.order.id]
    assert '"Аня"' in content.decode("utf-8")  # UTF-8 as it is, not \u escapes


async def test_the_help_offers_ones_data(shop, engine):
    anna, _ = await an_old_customer(shop, engine)
    help = await anna.send("/help")
    assert "/mydata" in text(help) and "/forget" in text(help)
    name, _ = anna.file(await press(anna, help, "Мои данные"))
    assert name.startswith("vitrina-mydata-")


# --- /forget ------------------------------------------------------------------------------------------

async def test_forget_explains_asks_and_deletes_the_profile(shop, engine):
    anna, first = await an_old_customer(shop, engine)
    old = (await engine.profile(anna.ref)).customer.id
    ask = await anna.send("/forget")
    assert "бухгалтерии" in text(ask) and "без связи с вами" in text(ask)
    assert anna.labels(ask) == ["Удалить", "Отмена"]
    done = await press(anna, ask, "Удалить")
    assert "данные удалены" in text(done)

    _, content = anna.file(await anna.send("/mydata"))  # writing again is a new customer, with nothing
    after = json.loads(content)
    assert after["orders"] == [] and after["consents"] == [] and after["points"]["ledger"] == []
    assert after["customer"]["id"] != old and old not in content.decode()
    assert first.order.id not in content.decode()
    await anna.send("/start")
    assert (await engine.profile(anna.ref)).customer.id != old


async def test_cancel_keeps_everything(shop, engine):
    anna, first = await an_old_customer(shop, engine)
    before = (await engine.profile(anna.ref)).customer.id
    ask = await anna.send("/forget")
    assert "ничего не удалено" in text(await press(anna, ask, "Отмена"))
    profile = await engine.profile(anna.ref)
    assert profile.customer.id == before and profile.customer.name == "Аня"
    assert [o.id for o in await orders(engine, anna.ref)] == [first.order.id]


async def test_a_second_press_of_delete_neither_fails_nor_keeps_anything(shop, engine):
    anna, first = await an_old_customer(shop, engine)
    ask = await anna.send("/forget")
    assert "данные удалены" in text(await press(anna, ask, "Удалить"))
    assert "данные удалены" in text(await press(anna, ask, "Удалить"))  # a double tap: a new update
    _, content = anna.file(await anna.send("/mydata"))
    assert json.loads(content)["orders"] == [] and first.order.id not in content.decode()
    async with engine.read() as uow:  # the order stays for the shop's accounts
        assert (await uow.orders.get(first.order.id)) is not None


async def test_someone_elses_press_deletes_nobody(shop, engine):
    anna, first = await an_old_customer(shop, engine)
    boris = type(anna)(anna.shop, 777)
    await boris.send("/start")
    anna_id, boris_id = [(await engine.profile(p.ref)).customer.id for p in (anna, boris)]
    ask = await anna.send("/forget")
    anna.press_only(ask, "Удалить", by=777)  # the button's data pressed from Boris's account
    assert "не для вас" in text(await anna.next())
    assert (await engine.profile(anna.ref)).customer.id == anna_id
    assert [o.id for o in await orders(engine, anna.ref)] == [first.order.id]
    assert (await engine.profile(boris.ref)).customer.id == boris_id


# --- vitrina run: the shop's policy page and its version, wired ----------------------------------------

@pytest.mark.slow
async def test_vitrina_run_asks_consent_with_the_shops_policy_page_before_a_purchase(tmp_path):
    from cli import vitrina as cli
    from fake_telegram import FakeTelegram
    from process import Running, free_port

    async with FakeTelegram(token="4242:SECRET") as fake:
        port = free_port()
        env = {"VITRINA_TELEGRAM__TOKEN": fake.token, "VITRINA_TELEGRAM__API_BASE": fake.base_url,
               "VITRINA_OWNERS": "telegram:42", "VITRINA_WEBAPP__PORT": str(port),
               "VITRINA_WEBAPP__PUBLIC_URL": "https://coffee.example",
               "VITRINA_DATABASE_URL": f"sqlite:///{tmp_path / 'shop.db'}", "VITRINA_PRIVACY__ASK_CONSENT": "true"}
        cli(tmp_path, "demo", "seed", **env)
        async with Running(cwd=tmp_path, env=env):
            fake.send_message(42, "/shop packs 500:50")
            assert "500:50" in (await fake.next_message(42, timeout=15)).text
            anna = TelegramPerson(SimpleNamespace(fake=fake, chat=lambda user_id, **kw: TgChat(fake, user_id, **kw)),
                                  100)
            points = await anna.send("/points")
            asked = await press(anna, points, "500 баллов")
            assert "https://coffee.example/privacy" in text(asked) and anna.labels(asked) == ["Согласен"]
            assert fake.calls_of("sendInvoice") == []
            async with aiohttp.ClientSession(f"http://127.0.0.1:{port}") as http, http.get("/privacy") as page:
                assert page.status == 200  # the page the link names is served
            assert "согласие записано" in text(await press(anna, asked, "Согласен"))
            invoice = (await fake.next_message(100, timeout=15)).invoice  # the purchase goes on
            assert invoice is not None and (invoice.currency, invoice.amount) == ("XTR", 50)

            name, content = anna.file(await anna.send("/mydata"))
            data = json.loads(content)
            assert name.startswith("vitrina-mydata-") and data["customer"]["name"] == "Аня"
            assert [c["channel"] for c in data["consents"]] == ["telegram"]


async def test_ones_data_is_not_sent_into_a_group_chat(shop, engine):
    anna, _ = await an_old_customer(shop, engine)
    fake = anna.fake
    if isinstance(anna, TelegramPerson):
        group = -100500
        fake.push_update({"message": {"message_id": 9, "date": 0, "text": "/mydata",
                                      "chat": {"id": group, "type": "supergroup", "title": "Бариста"},
                                      "from": {"id": anna.user_id, "is_bot": False, "first_name": "Аня"},
                                      "entities": [{"type": "bot_command", "offset": 0, "length": 7}]}})
    else:
        group = 2000000001
        fake.message_new(anna.user_id, "/mydata", peer_id=group)
    refused = await fake.next_message(group)
    assert "личные сообщения" in text(refused)
    assert getattr(refused, "document", None) is None and getattr(refused, "attachment", None) is None
    name, _ = anna.file(await anna.send("/mydata"))  # in the private chat it is sent
    assert name.startswith("vitrina-mydata-")

"""Personal data in the chat, in Telegram and VK: a file sent into the chat, consent before the first order,
/mydata and /forget — the real aiogram and vkbottle against the fake Bot API and VK API servers."""
from __future__ import annotations

import json

import pytest
from telegram_harness import telegram_shop
from vk_harness import vk_shop

from journey.channels import Capabilities, DeliveryError, Document, Text, degrade

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

"""The fake Bot API server, exercised by the real aiogram client over HTTP."""
from __future__ import annotations

import asyncio

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, F
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.filters import CommandObject, CommandStart
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LabeledPrice,
    Message,
    TransactionPartnerUser,
    WebAppInfo,
)
from fake_telegram import FakeTelegram, Upload

USER = 4242


def client(fake: FakeTelegram, token: str | None = None) -> Bot:
    session = AiohttpSession(api=TelegramAPIServer.from_base(fake.base_url))
    return Bot(token or fake.token, session=session)


@pytest.fixture
async def fake():
    async with FakeTelegram() as server:
        yield server


@pytest.fixture
async def bot(fake):
    bot = client(fake)
    yield bot
    await bot.session.close()


def keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[
        InlineKeyboardButton(text="Заказать", callback_data="order:latte"),
        InlineKeyboardButton(text="Меню", web_app=WebAppInfo(url="https://shop.example/app")),
    ]])


async def test_get_me_returns_the_bot_username(fake, bot):
    me = await bot.get_me()
    assert (me.username, me.is_bot, me.id) == ("vitrina_demo_bot", True, 123)
    assert fake.calls[-1].method == "getMe"


async def test_send_message_records_decoded_keyboard(fake, bot):
    message = await bot.send_message(USER, "Привет", reply_markup=keyboard())

    params = fake.calls_of("sendMessage")[0]
    assert params["chat_id"] == USER and params["text"] == "Привет"
    assert params["reply_markup"]["inline_keyboard"][0] == [
        {"text": "Заказать", "callback_data": "order:latte"},
        {"text": "Меню", "web_app": {"url": "https://shop.example/app"}},
    ]
    assert message.reply_markup.inline_keyboard[0][1].web_app.url == "https://shop.example/app"
    assert message.chat.id == USER
    second = await bot.send_message(USER, "Ещё")
    assert second.message_id == message.message_id + 1
    assert [s.text for s in fake.sent(USER)] == ["Привет", "Ещё"]


async def test_send_photo_records_the_uploaded_bytes(fake, bot):
    png = b"\x89PNG\r\n\x1a\nfake-qr"
    message = await bot.send_photo(USER, BufferedInputFile(png, "qr.png"), caption="Ваш заказ")

    assert fake.calls_of("sendPhoto")[0]["photo"] == Upload("qr.png", png)
    sent = fake.sent(USER)[0]
    assert (sent.photo, sent.text) == (png, "Ваш заказ")
    assert message.caption == "Ваш заказ"
    again = await bot.send_photo(USER + 1, message.photo[-1].file_id)
    assert fake.sent(USER + 1)[0].photo == again.photo[-1].file_id == message.photo[-1].file_id


async def test_edits_replace_text_drop_keyboard_and_refuse_no_ops(fake, bot):
    message = await bot.send_message(USER, "Латте", reply_markup=keyboard())
    await bot.edit_message_text("Латте, M", chat_id=USER, message_id=message.message_id)
    assert (fake.sent(USER)[0].text, fake.sent(USER)[0].reply_markup) == ("Латте, M", None)

    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text("Латте, M", chat_id=USER, message_id=message.message_id)
    await bot.delete_message(USER, message.message_id)
    assert fake.sent(USER) == []
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_reply_markup(chat_id=USER, message_id=message.message_id, reply_markup=keyboard())


async def test_get_updates_long_polls_and_confirms_by_offset(fake, bot):
    first = fake.send_message(USER, "раз")
    fake.send_message(USER, "два")
    updates = await bot.get_updates(timeout=0)
    assert [u.message.text for u in updates] == ["раз", "два"]
    assert await bot.get_updates(offset=first["update_id"] + 2, timeout=0) == []

    waiting = asyncio.create_task(bot.get_updates(offset=first["update_id"] + 2, timeout=5))
    await asyncio.sleep(0.05)
    assert not waiting.done()
    fake.send_message(USER, "три")
    assert [u.message.text for u in await asyncio.wait_for(waiting, 1)] == ["три"]


async def test_dispatcher_dialogue_with_deep_link_and_button(fake, bot):
    dp = Dispatcher()

    @dp.message(CommandStart(deep_link=True))
    async def start(message: Message, command: CommandObject) -> None:
        await message.answer(f"Привет, {message.from_user.first_name}! Источник: {command.args}",
                             reply_markup=keyboard())

    @dp.message(F.text)
    async def echo(message: Message) -> None:
        await message.answer(message.text)

    @dp.callback_query(F.data.startswith("order:"))
    async def order(query: CallbackQuery) -> None:
        await query.answer("Добавлено")
        await query.message.edit_text(f"В корзине: {query.data[6:]}")

    polling = asyncio.create_task(dp.start_polling(bot, handle_signals=False, polling_timeout=5))
    try:
        fake.send_message(USER, "эхо")
        assert (await fake.next_message(USER)).text == "эхо"

        fake.send_message(USER, "/start s2gis", first_name="Анна", language_code="en")
        greeting = await fake.next_message(USER)
        assert greeting.text == "Привет, Анна! Источник: s2gis"

        fake.press_button(USER, greeting.message_id, "order:latte")
        await fake.wait_for(lambda calls: any(c.method == "editMessageText" for c in calls))
        assert fake.calls_of("answerCallbackQuery")[0]["text"] == "Добавлено"
        assert fake.sent(USER)[-1].text == "В корзине: latte"
    finally:
        await dp.stop_polling()
        await polling


def test_commands_get_entities_in_utf16_units(fake):
    update = fake.send_message(USER, "🙂 /start@vitrina_demo_bot x")
    assert update["message"]["entities"] == [{"type": "bot_command", "offset": 3, "length": 23}]


async def test_press_button_requires_the_button_to_exist(fake, bot):
    message = await bot.send_message(USER, "Меню", reply_markup=keyboard())
    with pytest.raises(AssertionError, match="no button"):
        fake.press_button(USER, message.message_id, "order:cake")


async def test_forced_429_raises_retry_after_once(fake, bot):
    fake.fail_next("sendMessage", retry_after=3)
    with pytest.raises(TelegramRetryAfter) as raised:
        await bot.send_message(USER, "раз")
    assert raised.value.retry_after == 3 and fake.too_many == 1
    await bot.send_message(USER, "два")
    assert [c.status for c in fake.calls] == [429, 200]


async def test_rate_limit_per_chat(fake, bot):
    fake.limit(per_second=30, per_chat_per_second=1)
    await bot.send_message(USER, "раз")
    await bot.send_chat_action(USER, "typing")  # not a message: not counted
    with pytest.raises(TelegramRetryAfter) as raised:
        await bot.send_message(USER, "два")
    assert raised.value.retry_after >= 1 and fake.too_many == 1
    await bot.send_message(USER + 1, "другому")
    assert [s.text for s in fake.sent(USER)] == ["раз"]


async def test_wrong_token_is_unauthorized(fake):
    stranger = client(fake, token="999:WRONG")
    try:
        with pytest.raises(TelegramUnauthorizedError):
            await stranger.get_me()
    finally:
        await stranger.session.close()
    assert fake.calls == []


async def test_unknown_method_and_webhook_conflict(fake, bot):
    async with aiohttp.ClientSession() as http, http.post(f"{fake.base_url}/bot{fake.token}/sendDragon") as resp:
        assert resp.status == 404
        assert await resp.json() == {"ok": False, "error_code": 404,
                                     "description": "Not Found: method not found"}
    await bot.set_webhook("https://shop.example/tg")
    assert (await bot.get_webhook_info()).url == "https://shop.example/tg"
    with pytest.raises(Exception, match="Conflict"):
        await bot.get_updates()
    await bot.delete_webhook()
    assert (await bot.get_chat(USER)).type == "private"


# -- payments ---------------------------------------------------------------------------------------

TOKEN = "381764678:TEST:100"


async def answer_next_checkout(bot: Bot, ok: bool, error: str | None = None) -> int:
    """Play the bot: read the pre-checkout update, answer it; returns the next offset."""
    update = (await bot.get_updates(timeout=5))[-1]
    assert update.pre_checkout_query is not None
    await bot.answer_pre_checkout_query(update.pre_checkout_query.id, ok=ok, error_message=error)
    return update.update_id + 1


async def test_an_invoice_link_is_paid_after_an_approved_pre_checkout(fake, bot):
    link = await bot.create_invoice_link(title="Заказ 7", description="Кофейня", payload="pay_1",
                                         provider_token=TOKEN, currency="RUB",
                                         prices=[LabeledPrice(label="Заказ 7", amount=35000)])
    other = await bot.create_invoice_link(title="Заказ 8", description="Кофейня", payload="pay_2",
                                          provider_token=TOKEN, currency="RUB",
                                          prices=[LabeledPrice(label="Заказ 8", amount=100)])
    assert link.startswith("https://t.me/$") and other != link
    assert (fake.invoice_by_link(link).payload, fake.invoice_by_link(link).amount) == ("pay_1", 35000)

    paying = asyncio.create_task(fake.pay_invoice_link(USER, link))
    offset = await answer_next_checkout(bot, ok=True)
    outcome = await paying
    assert outcome.approved and outcome.charge_id and outcome.provider_charge_id
    paid = (await bot.get_updates(offset=offset, timeout=5))[0]
    payment = paid.message.successful_payment
    assert (payment.invoice_payload, payment.currency, payment.total_amount) == ("pay_1", "RUB", 35000)
    assert (payment.telegram_payment_charge_id, payment.provider_payment_charge_id) == (
        outcome.charge_id, outcome.provider_charge_id)

    again = fake.resend_successful_payment(outcome)
    assert again["update_id"] > paid.update_id
    repeated = (await bot.get_updates(offset=paid.update_id + 1, timeout=5))[0].message.successful_payment
    assert repeated.telegram_payment_charge_id == outcome.charge_id
    with pytest.raises(LookupError):
        fake.invoice_by_link("https://t.me/$nothing")


async def test_a_refused_pre_checkout_takes_no_money(fake, bot):
    paying = asyncio.create_task(fake.pay_invoice(USER, payload="pay_1", currency="RUB", total=100))
    offset = await answer_next_checkout(bot, ok=False, error="Заказ уже отменён")
    outcome = await paying
    assert (outcome.approved, outcome.error_message, outcome.charge_id) == (False, "Заказ уже отменён", "")
    assert await bot.get_updates(offset=offset, timeout=0) == []
    with pytest.raises(ValueError):
        fake.resend_successful_payment(outcome)


async def test_pre_checkout_answers_are_checked(fake, bot):
    with pytest.raises(TelegramBadRequest, match="query ID is invalid"):
        await bot.answer_pre_checkout_query("pcq-unknown", ok=True)
    paying = asyncio.create_task(fake.pay_invoice(USER, payload="pay_1", currency="RUB", total=100, timeout=5))
    update = (await bot.get_updates(timeout=5))[-1]
    with pytest.raises(TelegramBadRequest, match="error_message"):
        await bot.answer_pre_checkout_query(update.pre_checkout_query.id, ok=False)
    await bot.answer_pre_checkout_query(update.pre_checkout_query.id, ok=True)
    with pytest.raises(TelegramBadRequest, match="query ID is invalid"):  # answered once only
        await bot.answer_pre_checkout_query(update.pre_checkout_query.id, ok=True)
    assert (await paying).approved


async def test_an_unanswered_pre_checkout_fails_the_payment(fake):
    with pytest.raises(TimeoutError):
        await fake.pay_invoice(USER, payload="pay_1", currency="RUB", total=100, timeout=0.05)
    assert fake.payments == []


async def test_send_invoice_is_a_message_carrying_the_invoice(fake, bot):
    message = await bot.send_invoice(USER, title="Баллы", description="100 баллов", payload="pack_1",
                                     currency="XTR", provider_token="", prices=[LabeledPrice(label="100", amount=50)])
    assert (message.invoice.currency, message.invoice.total_amount) == ("XTR", 50)
    sent = fake.sent(USER)[0]
    assert (sent.invoice.payload, sent.invoice.currency, sent.invoice.amount, sent.invoice.provider_token) == (
        "pack_1", "XTR", 50, "")


@pytest.mark.parametrize(("currency", "token", "error"), [
    ("RUB", "", "PAYMENT_PROVIDER_INVALID"), ("XTR", TOKEN, "STARS_INVOICE_INVALID"),
    ("RUB", TOKEN, "CURRENCY_TOTAL_AMOUNT_INVALID")])
async def test_invoices_telegram_would_refuse_are_refused(fake, bot, currency, token, error):
    amount = 0 if error == "CURRENCY_TOTAL_AMOUNT_INVALID" else 100
    with pytest.raises(TelegramBadRequest, match=error):
        await bot.create_invoice_link(title="Заказ", description="Кофейня", payload="pay_1", provider_token=token,
                                      currency=currency, prices=[LabeledPrice(label="Заказ", amount=amount)])
    assert fake.invoices == []


async def test_stars_payments_are_listed_and_refunded_once(fake, bot):
    paying = asyncio.create_task(fake.pay_invoice(USER, payload="pack_1", currency="XTR", total=50))
    await answer_next_checkout(bot, ok=True)
    outcome = await paying
    listed = (await bot.get_star_transactions()).transactions
    assert [(t.id, t.amount) for t in listed] == [(outcome.charge_id, 50)]
    assert isinstance(listed[0].source, TransactionPartnerUser)
    assert (listed[0].source.user.id, listed[0].source.invoice_payload) == (USER, "pack_1")

    with pytest.raises(TelegramBadRequest, match="CHARGE_NOT_FOUND"):
        await bot.refund_star_payment(USER + 1, outcome.charge_id)
    assert await bot.refund_star_payment(USER, outcome.charge_id) is True
    with pytest.raises(TelegramBadRequest, match="CHARGE_ALREADY_REFUNDED"):
        await bot.refund_star_payment(USER, outcome.charge_id)
    history = (await bot.get_star_transactions(offset=1, limit=10)).transactions
    assert [(t.id, t.receiver.user.id) for t in history] == [(outcome.charge_id, USER)]


async def test_a_broken_method_fails_then_recovers(fake, bot):
    fake.break_method("getStarTransactions", times=1)
    with pytest.raises(TelegramServerError):
        await bot.get_star_transactions()
    assert (await bot.get_star_transactions()).transactions == []


# --- sharing and regulars: inline queries and invite links ------------------------------------------------

async def test_an_inline_query_is_answered_once_and_an_unknown_one_refused(fake):
    from aiogram.types import InlineQueryResultArticle, InputTextMessageContent

    bot = client(fake)
    card = InlineQueryResultArticle(id="r1", title="Shop", input_message_content=InputTextMessageContent(
        message_text="Come"))
    query = fake.inline_query(USER, "shop")["inline_query"]
    assert await bot.answer_inline_query(query["id"], [card], is_personal=True)
    assert (await fake.inline_answer(query["id"]))["results"][0]["title"] == "Shop"
    for query_id in (query["id"], "999"):  # answered already, never asked
        with pytest.raises(TelegramBadRequest, match="query is too old"):
            await bot.answer_inline_query(query_id, [card])
    await bot.session.close()


async def test_invite_links_need_admin_rights_and_a_sane_limit(fake):
    bot = client(fake)
    with pytest.raises(TelegramBadRequest, match="not enough rights"):
        await bot.create_chat_invite_link(-100, member_limit=1)
    fake.admin_of.add(-100)
    link = await bot.create_chat_invite_link(-100, name="Анна", member_limit=1)
    assert link.member_limit == 1 and link.name == "Анна" and link.invite_link.startswith("https://t.me/+")
    with pytest.raises(TelegramBadRequest, match="member limit"):
        await bot.create_chat_invite_link(-100, member_limit=1, creates_join_request=True)
    with pytest.raises(TelegramBadRequest, match="member limit is invalid"):
        await bot.create_chat_invite_link(-100, member_limit=0)
    assert [chat for chat, _ in fake.invite_links] == [-100]
    await bot.session.close()


# -- push mode: updates POSTed to the webhook ------------------------------------------------------

class Receiver:
    """A webhook on loopback that answers a chat's updates from a script of statuses (then 200), recording
    what came."""

    def __init__(self, statuses: dict[int, list[int]] | None = None) -> None:
        self.statuses = statuses or {}
        self.got: list[tuple[dict, str | None]] = []
        self.runner: aiohttp.web.AppRunner | None = None
        self.url = ""

    async def handle(self, request: aiohttp.web.Request) -> aiohttp.web.Response:
        body = await request.json()
        self.got.append((body, request.headers.get("X-Telegram-Bot-Api-Secret-Token")))
        if script := self.statuses.get(body["message"]["chat"]["id"]):
            return aiohttp.web.Response(status=script.pop(0))
        await asyncio.sleep(0.02)  # a second update of the chat must wait for this answer
        return aiohttp.web.json_response({})

    async def __aenter__(self) -> Receiver:
        app = aiohttp.web.Application()
        app.router.add_post("/hook", self.handle)
        self.runner = aiohttp.web.AppRunner(app)
        await self.runner.setup()
        await aiohttp.web.TCPSite(self.runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self.runner.addresses[0][1]}/hook"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.runner is not None
        await self.runner.cleanup()


async def test_push_mode_posts_updates_to_the_webhook_with_the_secret_and_retries_until_taken():
    async with FakeTelegram(push=True, retry_delay=0.01) as fake, Receiver({USER: [500, 502]}) as hook:
        bot = client(fake)
        try:
            first = fake.send_message(USER, "/start")  # waits for the webhook to be set
            second = fake.send_message(USER, "ещё")
            other = fake.send_message(USER + 1, "привет")
            await asyncio.sleep(0.05)
            assert hook.got == [] and len(fake.pending()) == 3
            await bot.set_webhook(hook.url, secret_token="s3cret")
            await fake.wait_for(lambda _: not fake.pending())
        finally:
            await bot.session.close()
        # the first update of the chat was answered 500 and 502 and tried again; the chat's second waited
        assert fake.answered(first["update_id"]) == [500, 502, 200]
        assert fake.answered(second["update_id"]) == fake.answered(other["update_id"]) == [200]
        chat = [body["update_id"] for body, _ in hook.got if body["message"]["chat"]["id"] == USER]
        assert chat == [first["update_id"]] * 3 + [second["update_id"]]
        assert {secret for _, secret in hook.got} == {"s3cret"}
        with pytest.raises(TelegramConflictError):  # getUpdates is refused while the webhook is set
            await client(fake).get_updates()


async def test_push_mode_retries_a_refused_connection_until_the_webhook_listens():
    async with FakeTelegram(push=True, retry_delay=0.01) as fake:
        bot = client(fake)
        try:
            async with Receiver() as gone:
                url = gone.url
            await bot.set_webhook(url)  # nobody listens there any more
            update = fake.send_message(USER, "/start")
            await fake.wait_for(lambda _: len(fake.answered(update["update_id"])) >= 2)
            assert set(fake.answered(update["update_id"])) == {0} and fake.pending() == [update]
            async with Receiver() as hook:
                await bot.set_webhook(hook.url)
                await fake.wait_for(lambda _: not fake.pending())
            assert [body for body, _ in hook.got] == [update]
        finally:
            await bot.session.close()


async def test_a_client_under_via_is_told_apart():
    async with FakeTelegram() as fake:
        bot = Bot(fake.token, session=AiohttpSession(api=TelegramAPIServer.from_base(fake.base_url_via("a"))))
        try:
            await bot.send_message(USER, "из первого")
        finally:
            await bot.session.close()
        assert [c.via for c in fake.calls] == ["a"] and fake.sent(USER)[0].via == "a"


async def test_a_member_presses_a_button_under_a_group_message(fake, bot):
    keyboard = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="Принять", callback_data="ok")]])
    sent = await bot.send_message(-100777, "Новый заказ", reply_markup=keyboard)
    update = fake.press_button(USER, sent.message_id, "ok", chat_id=-100777)
    query = update["callback_query"]
    assert query["from"]["id"] == USER and query["message"]["chat"]["id"] == -100777
    with pytest.raises(LookupError):  # not in the member's own chat
        fake.press_button(USER, sent.message_id, "ok")

"""Gifts in the chat, through the fake Bot API: a gift paid by a Telegram invoice (approved at the
pre-checkout, fulfilled once however often Telegram repeats it) is announced to the giver with its link;
a friend's ``/start g<code>`` says who it is from and what; the giver hears the friend took it; at expiry
both are told, and since a Telegram provider payment cannot be refunded by the API the owner is told to
refund by hand. ``vitrina qr gift CODE`` prints a real gift's card and refuses an unknown code."""
from __future__ import annotations

from contextlib import asynccontextmanager

import pytest
import zxingcpp
from cli import vitrina
from fake_telegram import FakeTelegram
from PIL import Image
from shop_fixtures import OWNER
from telegram_harness import PROVIDER_TOKEN, telegram_shop
from vk_harness import button as vk_button
from vk_harness import vk_shop

from adapters.telegram.invoices import TelegramInvoiceProvider
from bot.payments import close
from journey.channels import Channel, CustomerRef
from journey.engine import Engine
from journey.gift_model import GiftStatus
from journey.model import PaymentIntent
from journey.money import Money
from journey.ports import Checkout, PaymentResult
from journey.states import PaymentStatus
from storage.sqlite import SqliteDatabase

ANNA = CustomerRef(Channel.TELEGRAM, "5001", "Анна Петрова")
BORIS = 6001


@asynccontextmanager
async def paying_shop(db, clock, engine: Engine):
    async with FakeTelegram() as fake:
        invoices = TelegramInvoiceProvider(fake.token, fake.base_url, PROVIDER_TOKEN)
        shop = Engine(db.uow, secret=engine.secret, owners=[OWNER], clock=clock, reader=db.reading,
                      providers={"telegram": invoices})
        try:
            async with telegram_shop(shop, fake=fake) as tg:
                tg.notifier.public_url = "https://coffee.example"
                yield tg
        finally:
            await close(invoices)


async def _events(engine: Engine) -> list[str]:
    async with engine.read() as uow:
        return [e.type.value for e in await uow.outbox.pending("events-test", 1000)]


async def test_a_gift_paid_by_invoice_is_announced_claimed_and_refunded_by_hand_at_expiry(db, clock, engine):
    async with paying_shop(db, clock, engine) as tg:
        bought = await tg.engine.buy_gift(ANNA, item_id="latte", message="Спасибо!", provider="telegram")
        code = bought.gift.code
        invoice = tg.fake.invoice_by_link(bought.payment_link)
        assert (invoice.currency, invoice.amount) == ("RUB", bought.gift.amount.amount)
        paid = await tg.fake.pay_invoice_link(int(ANNA.external_id), bought.payment_link)
        assert paid.approved, paid.error_message
        for _ in range(2):  # Telegram says it again
            tg.fake.resend_successful_payment(paid)
        await tg.desk.handled(3)
        again = await tg.fake.pay_invoice_link(int(ANNA.external_id), bought.payment_link)
        assert not again.approved  # a paid gift's invoice is refused at the pre-checkout
        events = await _events(tg.engine)
        assert events.count("gift.active") == 1 and events.count("payment.captured") == 1

        await tg.notify()
        told = await tg.fake.next_message(int(ANNA.external_id))
        assert "Подарок оплачен: Латте" in told.text and f"https://coffee.example/go/g{code}" in told.text
        assert any(b["text"] == "Открыть подарок" for row in told.reply_markup["inline_keyboard"] for b in row)

        boris = tg.chat(BORIS, first_name="Борис")
        greeting = await boris.send(f"/start g{code}")
        assert "Вам подарок от Анна: Латте" in greeting.text and "«Спасибо!»" in greeting.text
        own = await tg.chat(int(ANNA.external_id), first_name="Анна").send(f"/start g{code}")
        assert "Это ваш подарок" in own.text
        wrong = await boris.send("/start gNoSuchGift12345")
        assert "Подарок не найден" in wrong.text

        await tg.engine.claim_gift(boris.ref, code)
        await tg.notify()
        assert "Борис принял(а) ваш подарок" in (await tg.fake.next_message(int(ANNA.external_id))).text

        clock.advance(days=30, minutes=5)
        assert await tg.engine.expire_gifts() == [bought.gift.id]
        assert await tg.engine.expire_gifts() == []  # told once, refunded once
        assert (await tg.engine.gift_card(code)).status is GiftStatus.REFUNDED
        await tg.notify()
        assert "никто не забрал вовремя" in (await tg.fake.next_message(int(ANNA.external_id))).text
        assert "Подарок от Анна (Латте) истёк" in (await tg.fake.next_message(BORIS)).text
        owner = await tg.fake.next_message(int(OWNER.external_id))
        assert "Верните деньги вручную" in owner.text and code in owner.text
        assert paid.provider_charge_id in owner.text
        assert (await _events(tg.engine)).count("gift.refund_manual") == 1


async def test_the_owner_refunds_a_telegram_gift_by_hand_and_it_ends(db, clock, engine):
    async with paying_shop(db, clock, engine) as tg:
        bought = await tg.engine.buy_gift(ANNA, item_id="latte", provider="telegram")
        paid = await tg.fake.pay_invoice_link(int(ANNA.external_id), bought.payment_link)
        assert paid.approved, paid.error_message
        await tg.desk.handled(1)
        intent = await tg.engine.refund(OWNER, bought.gift.id)  # no provider can: the owner gives it back
        assert intent.manual_refund == bought.gift.amount.amount
        assert (await tg.engine.gift_card(bought.gift.code)).status is GiftStatus.REFUNDED
        await tg.notify()
        sent = [m.text for m in tg.fake.sent(int(OWNER.external_id))]
        assert any("Верните деньги вручную" in text and bought.gift.code in text for text in sent), sent
        told = [m.text for m in tg.fake.sent(int(ANNA.external_id))]
        assert not any("никто не забрал" in text for text in told), told  # not an expiry to the giver


class PaidAtOnce:
    """An online provider whose customer has paid by the time it answers (for a gift in the database)."""

    name = "fakepay"
    online = True
    two_stage = False
    link = "confirmation_url"
    needs_email = False

    async def start(self, intent: PaymentIntent, checkout: Checkout) -> PaymentResult:
        return PaymentResult(PaymentStatus.CAPTURED, f"fake-{intent.id}")

    async def status(self, intent: PaymentIntent) -> PaymentResult:
        return PaymentResult(intent.status, f"fake-{intent.id}")

    async def refund(self, intent: PaymentIntent, amount: Money) -> PaymentResult:
        return PaymentResult(PaymentStatus.REFUNDED, f"fake-{intent.id}", refunded=intent.amount.amount)


async def test_a_friend_in_vk_opens_the_gift_and_hears_of_its_expiry(db, clock, engine):
    shop = Engine(db.uow, secret=engine.secret, owners=[OWNER], clock=clock, reader=db.reading,
                  providers={"fakepay": PaidAtOnce()})  # type: ignore[dict-item]
    gift = (await shop.buy_gift(ANNA, item_id="latte", provider="fakepay")).gift
    async with vk_shop(shop) as vk:
        vk.fake.users[7001] = ("Борис", "Иванов")
        boris = vk.dialogue(7001)
        hello = await boris.send("Привет", ref=f"g{gift.code}")
        assert "Вам подарок от Анна: Латте" in hello.text
        app = vk_button(hello, "Открыть меню")
        assert (app["type"], app["hash"]) == ("open_app", f"g{gift.code}")  # the Mini App opens the gift
        await shop.claim_gift(boris.ref, gift.code)
        taken = await boris.send("Привет", ref=f"g{gift.code}")
        assert "ваш. Откройте приложение" in taken.text
        clock.advance(days=31)
        await shop.expire_due()
        await vk.notify()
        assert "Подарок от Анна (Латте) истёк" in (await vk.fake.next_message(7001)).text
        assert (await shop.gift_card(gift.code)).status is GiftStatus.REFUNDED


@pytest.mark.slow
async def test_qr_gift_prints_a_real_gift_and_refuses_an_unknown_code(tmp_path):
    vitrina(tmp_path, "demo", "seed")
    database = SqliteDatabase(tmp_path / "vitrina.db")
    await database.connect()
    try:
        shop = Engine(database.uow, reader=database.reading, providers={"fakepay": PaidAtOnce()})  # type: ignore[dict-item]
        item = (await shop.menu()).items[0]
        gift = (await shop.buy_gift(ANNA, item_id=item.id, provider="fakepay")).gift
    finally:
        await database.close()
    assert gift.status is GiftStatus.ACTIVE
    out = vitrina(tmp_path, "qr", "gift", gift.code, "--format", "svg", "--out", "gift.svg",
                  VITRINA_WEBAPP__PUBLIC_URL="https://coffee.example")
    assert "gift.svg" in out.stdout and f"https://coffee.example/go/g{gift.code}" in out.stdout
    svg = (tmp_path / "gift.svg").read_text(encoding="utf-8")
    assert "Вам подарок от Анна:" in svg and item.name in svg  # the caption, wrapped
    vitrina(tmp_path, "qr", "gift", gift.code, "--out", "gift.png", VITRINA_WEBAPP__PUBLIC_URL="https://coffee.example")
    decoded = zxingcpp.read_barcodes(Image.open(tmp_path / "gift.png"))
    assert [d.text for d in decoded] == [f"https://coffee.example/go/g{gift.code}"]

    refused = vitrina(tmp_path, "qr", "gift", "NoSuchGift123456", check=False)
    assert refused.returncode == 1 and "no gift with the code 'NoSuchGift123456'" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    assert not list(tmp_path.glob("qr-g*"))
    unknown = vitrina(tmp_path, "payments", "refund", "gNoSuchGift123456", check=False)
    assert unknown.returncode == 1 and "no gift 'gNoSuchGift123456'" in unknown.stderr

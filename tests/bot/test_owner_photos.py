"""An owner sends an item's photo captioned /photo <item>, in Telegram (the real aiogram bot downloading from
the fake Bot API's file server) and in VK (vkbottle's event, the photo fetched from the fake's file
address): Vitrina stores it, the Mini App (its real aiohttp app) lists it and serves it in its sizes, and
/undo brings the previous photo back. Customers are refused before anything is downloaded; what is not a
usable photo is explained and changes nothing."""
from __future__ import annotations

import io
import re
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import launch_data
import pytest
import telegram_harness as tg
import vk_harness as vk
from PIL import Image
from shop_fixtures import OWNER, seed

from adapters.images import PillowPhotos
from adapters.qr import QrcodeRenderer
from adapters.ratelimit import RateLimiter
from adapters.telegram.launch import TelegramMiniApp
from journey.channels import Channel, CustomerRef
from journey.engine import Engine
from journey.errors import DomainError, ErrorCode
from webapp import WebappConfig, create_app

VK_OWNER = CustomerRef(Channel.VK, "77")
APP_TOKEN = "123456789:AAtest-bot-token"
NOT_OWNER = ErrorCode.NOT_OWNER.message("ru")
MEDIA_URL = re.compile(r"/media/([0-9a-f]{32})-1200\.jpg")
DONE = "Латте: новое фото, в Mini App оно уже видно. Вернуть прежнее — /undo."
NOT_IMAGE = ("Это не фото: в файле нет картинки, которую можно прочитать. Пришлите фото (JPEG, PNG или WebP) "
             "с подписью /photo <позиция>.")
USAGE = ("Пришлите фото позиции с подписью /photo <позиция>, например /photo Латте "
         "(позиция — её код или название).")
RED, BLUE, GREEN = (220, 20, 20), (20, 20, 220), (20, 200, 20)


def jpeg(size: tuple[int, int] = (1600, 1200), left=RED, right=BLUE, fmt: str = "JPEG") -> bytes:
    """A photo as a camera would send it: left half one colour, right half another."""
    picture = Image.new("RGB", size, left)
    picture.paste(Image.new("RGB", (size[0] // 2, size[1]), right), (size[0] // 2, 0))
    out = io.BytesIO()
    picture.save(out, fmt)
    return out.getvalue()


def near(pixel, colour, tolerance: int = 40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, colour, strict=True))


@pytest.fixture
async def engine(db, clock) -> Engine:
    """The test shop with two owners, telegram:1 and vk:77, and photos made with Pillow as ``vitrina run`` does."""
    eng = Engine(db.uow, owners=[OWNER, VK_OWNER], clock=clock, reader=db.reading, photos=PillowPhotos())
    await eng.start()
    await seed(eng)
    return eng


@dataclass
class Answer:
    text: str
    photo: bytes | None  # the picture the answer carries


@dataclass
class Side:
    """One channel as the test sees it: what a person sends, what the bot answers, what it downloaded."""

    name: str
    owner_id: int
    customer_id: int
    send: Callable[[int, str], Awaitable[Answer]]
    send_photo: Callable[..., Awaitable[Answer]]  # (user, bytes, caption, thumbnail=None)
    downloads: Callable[[], list[str]]
    lose_files: Callable[[], None]  # the messenger's file server answers 404 from now on


def unpaced(messenger: Any) -> None:
    messenger.limiter = RateLimiter(per_second=10_000, chat_interval=0)


@pytest.fixture(params=["telegram", "vk"])
async def side(request, engine):
    if request.param == "telegram":
        async with tg.telegram_shop(engine) as shop:
            unpaced(shop.channel.messenger)
            fake = shop.fake

            async def answer(user: int) -> Answer:
                sent = await fake.next_message(user)
                return Answer(sent.text or "", sent.photo if isinstance(sent.photo, bytes) else None)

            async def send(user: int, text: str) -> Answer:
                fake.send_message(user, text)
                return await answer(user)

            async def send_photo(user: int, data: bytes, caption: str | None, thumbnail: bytes | None = None):
                fake.send_photo(user, data, caption, thumbnail=thumbnail)
                return await answer(user)

            yield Side("telegram", int(OWNER.external_id), 5001, send, send_photo, lambda: list(fake.downloads),
                       lambda: setattr(fake, "lose_files", True))
    else:
        async with vk.vk_shop(engine) as shop:
            unpaced(shop.channel.messenger)
            vk_fake = shop.fake

            async def vk_answer(user: int) -> Answer:
                message = await vk_fake.next_message(user)
                photo = vk_fake.photos.get(message.attachment or "")
                return Answer(message.text, photo.data if photo else None)

            async def vk_send(user: int, text: str) -> Answer:
                vk_fake.message_new(user, text)
                return await vk_answer(user)

            async def vk_send_photo(user: int, data: bytes, caption: str | None, thumbnail: bytes | None = None):
                attachment = vk_fake.photo_attachment(data, thumbnail=thumbnail)
                vk_fake.message_new(user, caption or "", attachments=[attachment])
                return await vk_answer(user)

            yield Side("vk", int(VK_OWNER.external_id), 501, vk_send, vk_send_photo, lambda: list(vk_fake.downloads),
                       lambda: setattr(vk_fake, "lose_files", True))


@dataclass
class MiniApp:
    client: Any
    clock: Any

    async def menu(self) -> dict[str, dict]:
        """The Mini App's menu as a customer gets it: item id -> item."""
        init = launch_data.telegram_init_data(5001, int(self.clock.now().timestamp()), token=APP_TOKEN)
        answer = await self.client.get("/api/menu", headers={"Authorization": f"tma {init}"})
        assert answer.status == 200
        return {i["id"]: i for i in (await answer.json())["items"]}

    async def picture(self, url: str) -> Image.Image:
        """What a browser gets for the photo's address: a JPEG (or WebP), cached for good, under the page's CSP."""
        answer = await self.client.get(url)
        assert answer.status == 200, url
        assert answer.content_type == ("image/webp" if url.endswith(".webp") else "image/jpeg")
        assert answer.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert "img-src 'self'" in answer.headers["Content-Security-Policy"]
        picture = Image.open(io.BytesIO(await answer.read()))
        picture.load()
        assert picture.format == ("WEBP" if url.endswith(".webp") else "JPEG")
        return picture


@pytest.fixture
async def mini_app(aiohttp_client, engine, clock) -> MiniApp:
    config = WebappConfig(demo=False, mini_apps=[TelegramMiniApp(APP_TOKEN, lambda: "vitrina_test_bot")])
    return MiniApp(await aiohttp_client(create_app(engine, config, QrcodeRenderer())), clock)


def stored(tmp_path) -> int:
    """How many files Vitrina keeps (read from the database file, as another process would)."""
    with sqlite3.connect(tmp_path / "shop.db") as conn:
        return conn.execute("SELECT COUNT(*) FROM media").fetchone()[0]


async def shop_state(engine: Engine) -> tuple:
    menu = await engine.owner_menu(OWNER)
    return [r.item for r in menu.rows], await engine.changes(OWNER, 100)


# --- the photo goes on the menu ---------------------------------------------------------------------------

async def test_a_photo_goes_on_the_menu_in_the_mini_apps_sizes(side, mini_app, engine, tmp_path):
    # the thumbnail Telegram and VK send first is green: the largest size (red and blue) must be the one taken
    got = await side.send_photo(side.owner_id, jpeg(), "/photo латте", thumbnail=jpeg((90, 67), GREEN, GREEN))

    assert got.text == DONE
    assert got.photo is not None and Image.open(io.BytesIO(got.photo)).size == (1200, 900)  # as the menu shows it
    assert len(side.downloads()) == 1 and "_s" not in side.downloads()[0]
    url = (await mini_app.menu())["latte"]["photo"]
    assert MEDIA_URL.fullmatch(url), url
    screen = await mini_app.picture(url)
    card = await mini_app.picture(url.replace("-1200.jpg", "-480.jpg"))
    assert (screen.size, card.size) == ((1200, 900), (480, 360))
    webp = [await mini_app.picture(url.replace("-1200.jpg", f"-{w}.webp")) for w in (1200, 480)]
    assert [(p.format, p.size) for p in webp] == [("WEBP", (1200, 900)), ("WEBP", (480, 360))]
    for picture in (screen, card, *webp):
        assert near(picture.getpixel((5, picture.height // 2)), RED)
        assert near(picture.getpixel((picture.width - 5, picture.height // 2)), BLUE)
    assert stored(tmp_path) == 4  # two sizes, each a JPEG and a WebP
    change = (await engine.changes(OWNER, 1))[0]
    owner = OWNER if side.name == "telegram" else VK_OWNER
    assert (change.actor, change.action, change.target) == (owner.key, "photo", "item:latte")
    assert (change.before["photo"], change.after["photo"]) == ("", url)


async def test_undo_brings_the_previous_photo_back_and_both_stay_served(side, mini_app):
    await side.send_photo(side.owner_id, jpeg(fmt="PNG"), "/photo latte")
    first = (await mini_app.menu())["latte"]["photo"]
    assert (await side.send_photo(side.owner_id, jpeg(left=GREEN), "/photo Латте")).text == DONE
    second = (await mini_app.menu())["latte"]["photo"]
    assert MEDIA_URL.fullmatch(second) and second != first

    undone = await side.send(side.owner_id, "/undo")
    assert undone.text.startswith("Отменено. Латте: фото «/media/")
    assert (await mini_app.menu())["latte"]["photo"] == first
    assert near((await mini_app.picture(first)).getpixel((5, 450)), RED)
    assert near((await mini_app.picture(second)).getpixel((5, 450)), GREEN)  # an address once given stays valid

    await side.send(side.owner_id, "/undo")
    assert (await mini_app.menu())["latte"]["photo"] == ""


async def test_the_same_photo_again_changes_nothing(side, engine, tmp_path):
    await side.send_photo(side.owner_id, jpeg(), "/photo latte")
    before = await shop_state(engine)

    assert (await side.send_photo(side.owner_id, jpeg(), "/photo latte")).text == \
        "Латте: это фото уже стоит, ничего не изменилось."
    assert await shop_state(engine) == before and stored(tmp_path) == 4


# --- refusals ---------------------------------------------------------------------------------------------

async def test_a_customer_is_refused_before_anything_is_downloaded(side, engine, tmp_path):
    before = await shop_state(engine)

    assert (await side.send_photo(side.customer_id, jpeg(), "/photo latte")).text == NOT_OWNER
    assert (await side.send(side.customer_id, "/photo latte")).text == NOT_OWNER
    assert side.downloads() == []
    assert await shop_state(engine) == before and stored(tmp_path) == 0


async def test_the_engine_refuses_a_customer_whatever_the_chat_checked(engine, tmp_path):
    with pytest.raises(DomainError) as refused:
        await engine.set_photo(CustomerRef(Channel.TELEGRAM, "5001"), "latte", jpeg())
    assert refused.value.code is ErrorCode.NOT_OWNER
    assert stored(tmp_path) == 0 and (await engine.owner_item(OWNER, "latte")).item.photo == ""


async def test_bytes_that_are_no_picture_are_refused_clearly(side, engine, tmp_path):
    before = await shop_state(engine)

    assert (await side.send_photo(side.owner_id, b"shopping list: milk, beans\n" * 40, "/photo latte")).text == \
        NOT_IMAGE
    assert await shop_state(engine) == before and stored(tmp_path) == 0


@pytest.mark.parametrize("caption, answer", [
    ("/photo", USAGE),
    ("/photo   ", USAGE),
    ("/photo Капучино", "Такой позиции нет в меню: «Капучино». Список — /admin, «Позиции меню»."),
    ("/photo круассан", "Не принято: 'круассан' is the name of several items: kruassan, croissant; name one by its id"),
])
async def test_no_item_or_a_wrong_one_is_told_before_downloading(side, engine, caption, answer):
    await engine.save_item(OWNER, "Кофе", "Круассан", "90", "", "")  # a second item by the name: kruassan
    before = await shop_state(engine)

    assert (await side.send_photo(side.owner_id, jpeg(), caption)).text == answer
    assert side.downloads() == [] and await shop_state(engine) == before


async def test_the_command_without_a_photo_says_how(side, engine):
    before = await shop_state(engine)
    assert (await side.send(side.owner_id, "/photo latte")).text == USAGE
    assert await shop_state(engine) == before


async def test_a_photo_too_small_for_the_menu_is_refused(side, engine, tmp_path):
    before = await shop_state(engine)
    assert (await side.send_photo(side.owner_id, jpeg((300, 200)), "/photo latte")).text == \
        "Фото слишком маленькое для меню: нужно хотя бы 320×240 точек. Пришлите снимок побольше."
    assert await shop_state(engine) == before and stored(tmp_path) == 0


async def test_a_photo_the_messenger_cannot_hand_over_is_asked_again(side, engine, tmp_path):
    before = await shop_state(engine)
    side.lose_files()

    assert (await side.send_photo(side.owner_id, jpeg(), "/photo latte")).text == \
        "Не удалось получить фото из мессенджера. Пришлите его ещё раз."
    assert await shop_state(engine) == before and stored(tmp_path) == 0


async def test_a_file_over_20_mb_is_refused_without_reading_it_all(side, engine, tmp_path):
    huge = jpeg() + b"\0" * (20 * 1024 * 1024)
    assert (await side.send_photo(side.owner_id, huge, "/photo latte")).text == \
        "Файл слишком большой: не больше 20 МБ и 50 мегапикселей. Пришлите фото поменьше."
    assert (await engine.owner_item(OWNER, "latte")).item.photo == "" and stored(tmp_path) == 0


async def test_a_text_file_sent_as_a_telegram_document_is_refused_and_a_picture_one_taken(engine, mini_app, tmp_path):
    async with tg.telegram_shop(engine) as shop:
        unpaced(shop.channel.messenger)
        shop.fake.send_document(1, b"shopping list: milk, beans\n", "list.txt", "text/plain", "/photo latte")
        assert (await shop.fake.next_message(1)).text == NOT_IMAGE
        assert stored(tmp_path) == 0

        shop.fake.send_document(1, jpeg((2000, 1500), fmt="PNG"), "latte.png", "image/png", "/photo latte")
        assert (await shop.fake.next_message(1)).text == DONE
    assert (await mini_app.picture((await mini_app.menu())["latte"]["photo"])).size == (1200, 900)


# --- the Mini App's /media/ -------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/media/", "/media/0123456789abcdef0123456789abcdef-1200.jpg",
                                  "/media/latte.svg", "/media/..%2F..%2Fshop.db",
                                  "/media/0123456789ABCDEF0123456789ABCDEF-1200.jpg"])
async def test_the_mini_app_serves_only_stored_photos(mini_app, path):
    assert (await mini_app.client.get(path)).status == 404


async def test_a_browser_that_has_the_photo_is_told_it_has_not_changed(engine, mini_app):
    await engine.set_photo(OWNER, "latte", jpeg())
    url = (await mini_app.menu())["latte"]["photo"]
    first = await mini_app.client.get(url)
    again = await mini_app.client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status == 304 and await again.read() == b""

"""An item's photo from the chat: the owner sends a photo captioned ``/photo <item>``.

The item is looked up before anything is downloaded, so a wrong name costs nothing; the photo is fetched
from the messenger (``Inbound.photo``), made into the Mini App's sizes and stored by the engine, and the
owner gets back the photo as the menu shows it. ``/undo`` brings the previous photo back. Anyone but an
owner is refused by the route before the photo is fetched.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from journey.channels import Photo, Reply, Text
from journey.errors import DomainError, ErrorCode
from journey.photos import MAX_BYTES, MAX_PIXELS, MEDIA_PATH, MIN_SIZE, PhotoRefused

from .chat import Turn, command
from .texts import add_texts, t

if TYPE_CHECKING:
    from .conversation import Conversation

log = logging.getLogger(__name__)

add_texts({
    "ph_usage": ("Пришлите фото позиции с подписью /photo <позиция>, например /photo Латте "
                 "(позиция — её код или название).",
                 "Send the item's photo captioned /photo <item>, e.g. /photo Latte (the item's id or name)."),
    "ph_done": ("{name}: новое фото, в Mini App оно уже видно. Вернуть прежнее — /undo.",
                "{name}: a new photo, already seen in the Mini App. /undo brings the old one back."),
    "ph_same": ("{name}: это фото уже стоит, ничего не изменилось.",
                "{name}: this photo is already set, nothing changed."),
    "ph_not_image": ("Это не фото: в файле нет картинки, которую можно прочитать. Пришлите фото (JPEG, PNG или "
                     "WebP) с подписью /photo <позиция>.",
                     "This is not a photo: the file holds no picture that can be read. Send a photo (JPEG, PNG or "
                     "WebP) captioned /photo <item>."),
    "ph_too_small": ("Фото слишком маленькое для меню: нужно хотя бы {width}×{height} точек. Пришлите снимок побольше.",
                     "The photo is too small for the menu: at least {width}×{height} pixels. Send a bigger one."),
    "ph_too_large": ("Файл слишком большой: не больше {mb} МБ и {mp} мегапикселей. Пришлите фото поменьше.",
                     "The file is too large: {mb} MB and {mp} megapixels at most. Send a smaller photo."),
    "ph_no_download": ("Не удалось получить фото из мессенджера. Пришлите его ещё раз.",
                       "Could not get the photo from the messenger. Please send it again."),
    "ph_no_item": ("Такой позиции нет в меню: «{item}». Список — /admin, «Позиции меню».",
                   "There is no item «{item}». The list: /admin, «Menu items»."),
    "ph_refused": ("Не принято: {detail}", "Not accepted: {detail}"),
    "ph_off": ("Этот сервер не обрабатывает фото: нет библиотеки изображений.",
               "This server does not process photos: it has no image library."),
})


def _refused(lang: str, refused: PhotoRefused) -> str:
    if refused.reason == "too_small":
        return t(lang, "ph_too_small", width=MIN_SIZE[0], height=MIN_SIZE[1])
    if refused.reason == "too_large":
        return t(lang, "ph_too_large", mb=MAX_BYTES // (1024 * 1024), mp=MAX_PIXELS // 1_000_000)
    return t(lang, "ph_not_image")


@command("photo", owner=True)
async def photo(conv: Conversation, turn: Turn) -> list[Reply]:
    lang, inbound = turn.lang, turn.inbound
    owner, name = inbound.sender, inbound.argument.strip()
    if inbound.photo is None or not name:
        return [Text(t(lang, "ph_usage"))]
    if conv.engine.photos is None:
        return [Text(t(lang, "ph_off"))]
    try:
        item = (await conv.engine.owner_item(owner, name)).item
    except DomainError as e:
        if e.code is ErrorCode.ITEM_NOT_FOUND:
            return [Text(t(lang, "ph_no_item", item=name))]
        if e.code is ErrorCode.BAD_INPUT and e.detail:
            return [Text(t(lang, "ph_refused", detail=e.detail))]
        raise
    try:
        data = await inbound.photo()
    except PhotoRefused as refused:
        return [Text(_refused(lang, refused))]
    except ConnectionError as e:
        log.warning("the photo for /photo %s could not be downloaded: %s", item.id, e)
        return [Text(t(lang, "ph_no_download"))]
    try:
        edit = await conv.engine.set_photo(owner, item.id, data)
    except DomainError as e:
        if isinstance(e.__cause__, PhotoRefused):
            return [Text(_refused(lang, e.__cause__))]
        raise
    if edit.change is None:
        return [Text(t(lang, "ph_same", name=edit.item.name))]
    done = t(lang, "ph_done", name=edit.item.name)
    shown = await conv.engine.media(edit.item.photo.removeprefix(MEDIA_PATH))
    return [Photo(shown.data, done, "photo.jpg") if shown else Text(done)]

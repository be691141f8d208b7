"""The owner's menu edits in the chat: /admin, /price, /hide, /show, /stock, /item, /undo and the panel's
menu buttons. Each answers in one line what changed; the engine checks the owner and the input again.

``/item`` is a dialog kept in the database (``journey/dialogs.py``): category, name, price, description,
options, then a summary with Save. Its state is ``{"step", "id" (the item edited, None for a new one),
"v" (what was typed per step; a step left out keeps the item's value)}``; nothing is written before Save.
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from datetime import tzinfo
from functools import wraps
from typing import TYPE_CHECKING, Any

from journey import admin
from journey.admin import Edit, ItemRow, OwnerMenu
from journey.audit import Change, item_from_snapshot
from journey.catalog import OptionGroup
from journey.channels import Button, Reply, Text
from journey.errors import DomainError, ErrorCode
from journey.money import Money

from .chat import Handler, Turn, action, command, dialog
from .texts import add_texts, t

if TYPE_CHECKING:
    from .conversation import Conversation

Rows = tuple[tuple[Button, ...], ...]
STEPS = ("category", "name", "price", "description", "options", "confirm")
PAGE = 7  # items per page of the list: with back and forth and the panel, VK's ten buttons
LOG = 15

add_texts({
    "adm_panel": (
        "Панель владельца. Команды:\n"
        "/price Латте 260 — новая цена\n/hide Латте — скрыть из меню\n/show Латте — вернуть в меню\n"
        "/stock Круассан 12 center — остаток на точке (off — не считать; точку можно не писать, если она одна)\n"
        "/item — новая позиция, /item Латте — изменить позицию\n/photo Латте — подпись к фото позиции\n"
        "/undo — отменить мою последнюю правку меню\n/shop — магазин: название, часы, правила\n"
        "/point center — точка выдачи\n/promo KOFE10 10% 100 until 2026-12-31 — промокод\n"
        "/staff add telegram:123 center, /staff remove telegram:123 — сотрудники\n"
        "/broadcast — рассылка (/broadcast stop — остановить)\n/stats 7 — воронка за 7 дней",
        "Owner's panel. Commands:\n"
        "/price Latte 260 — a new price\n/hide Latte — take off the menu\n/show Latte — bring back\n"
        "/stock Croissant 12 center — stock at a point (off — stop counting; the only point may be left out)\n"
        "/item — a new item, /item Latte — edit an item\n/photo Latte — caption of an item's photo\n"
        "/undo — take back my last menu change\n/shop — the shop: name, hours, rules\n"
        "/point center — a pickup point\n/promo COFFEE10 10% 100 until 2026-12-31 — a promo code\n"
        "/staff add telegram:123 center, /staff remove telegram:123 — staff\n"
        "/broadcast — a message to customers (/broadcast stop — stop it)\n/stats 7 — the funnel of 7 days"),
    "adm_b_items": ("Позиции меню", "Menu items"), "adm_b_item": ("Новая позиция", "New item"),
    "adm_b_log": ("Журнал изменений", "Change log"), "adm_b_undo": ("Отменить последнее", "Undo last"),
    "adm_b_shop": ("Магазин", "Shop"), "adm_b_promos": ("Промокоды", "Promo codes"),
    "adm_b_staff": ("Сотрудники", "Staff"), "adm_b_broadcast": ("Рассылка", "Broadcast"),
    "adm_b_stats": ("Статистика", "Numbers"), "adm_b_board": ("Заказы", "Orders"),
    "adm_b_panel": ("Панель", "Panel"), "adm_b_hide": ("Скрыть", "Hide"), "adm_b_show": ("Показать", "Show"),
    "adm_b_edit": ("Изменить", "Edit"), "adm_b_list": ("К списку", "To the list"),
    "adm_b_keep": ("Оставить как есть", "Keep as is"), "adm_b_skip": ("Пропустить", "Skip"),
    "adm_b_save": ("Сохранить", "Save"),
    "adm_use_price": ("Как: /price <позиция> <цена>, например /price Латте 260",
                      "Usage: /price <item> <price>, e.g. /price Latte 260"),
    "adm_use_hide": ("Как: /hide <позиция>, например /hide Латте", "Usage: /hide <item>, e.g. /hide Latte"),
    "adm_use_show": ("Как: /show <позиция>, например /show Латте", "Usage: /show <item>, e.g. /show Latte"),
    "adm_use_stock": ("Как: /stock <позиция> <количество|off> [точка], например /stock Круассан 12 center",
                      "Usage: /stock <item> <count|off> [point], e.g. /stock Croissant 12 center"),
    "adm_refused": ("Не принято: {detail}", "Not accepted: {detail}"),
    "adm_no_item": ("Такой позиции нет в меню: «{item}». Список — /admin, «Позиции меню».",
                    "There is no item «{item}». The list: /admin, «Menu items»."),
    "adm_no_point": ("Такой точки выдачи нет: «{point}». Точки: {points}.",
                     "There is no pickup point «{point}». The points: {points}."),
    "adm_same": ("{name}: уже так, ничего не изменилось.", "{name}: already so, nothing changed."),
    "adm_undone": ("Отменено. {what}", "Undone. {what}"),
    "adm_undo_conflict": ("Не отменено: «{name}» с тех пор изменил другой владелец. Поправьте вручную.",
                          "Not undone: another owner has changed «{name}» since. Change it by hand."),
    "adm_saved": ("Сохранено. {what}", "Saved. {what}"),
    "adm_items": ("Позиции меню ({first}–{last} из {total}):", "Menu items ({first}–{last} of {total}):"),
    "adm_no_items": ("В меню пока ничего нет. /item — добавить позицию.", "The menu is empty. /item — add an item."),
    "adm_log": ("Последние изменения:", "Latest changes:"), "adm_log_empty": ("Изменений пока нет.", "No changes yet."),
    "adm_card": ("{name} ({id})\nРаздел: {category}\nЦена: {price}\nВ меню: {shown}\nОстаток: {stock}\n"
                 "Опции: {options}\nОписание: {description}",
                 "{name} ({id})\nCategory: {category}\nPrice: {price}\nOn the menu: {shown}\nStock: {stock}\n"
                 "Options: {options}\nDescription: {description}"),
    "adm_yes": ("да", "yes"), "adm_hidden": ("скрыта", "hidden"), "adm_shown": ("в меню", "on the menu"),
    "adm_uncounted": ("не считается", "not counted"), "adm_none": ("нет", "none"),
    "adm_new": ("новая позиция", "new item"), "adm_removed": ("убрана из меню", "taken off the menu"),
    "adm_undone_mark": ("(отменено)", "(undone)"),
    "adm_f_name": ("название", "name"), "adm_f_category_id": ("раздел", "category"),
    "adm_f_price": ("цена", "price"), "adm_f_description": ("описание", "description"),
    "adm_f_option_groups": ("опции", "options"), "adm_f_photo": ("фото", "photo"),
    "adm_f_available": ("видимость", "visibility"), "adm_f_tags": ("метки", "tags"),
    "adm_f_stock": ("остаток в «{point}»", "stock at «{point}»"),
    "adm_new_head": ("Новая позиция, шаг {n} из 5.", "New item, step {n} of 5."),
    "adm_edit_head": ("Изменение «{name}», шаг {n} из 5.", "Editing «{name}», step {n} of 5."),
    "adm_now": ("Сейчас: {value}", "Now: {value}"),
    "adm_ask_category": ("Раздел: выберите кнопкой или напишите название нового.",
                         "Category: choose one or type the name of a new one."),
    "adm_ask_name": ("Название позиции:", "The item's name:"),
    "adm_ask_price": ("Цена в рублях, например 250 или 249,90:", "Price in rubles, e.g. 250 or 249.90:"),
    "adm_ask_description": ("Описание одной строкой («-» — без описания):",
                            "A one-line description («-» — none):"),
    "adm_ask_options": ("Опции одной строкой, как в файле меню («-» — без опций), например:\n"
                        "Размер: S, M +40; Молоко [optional]: обычное, овсяное +60",
                        "Options on one line, as in the menu file («-» — none), e.g.:\n"
                        "Size: S, M +40; Milk [optional]: regular, oat +60"),
    "adm_summary": ("Проверьте и сохраните:\nРаздел: {category}\nНазвание: {name}\nЦена: {price}\n"
                    "Описание: {description}\nОпции: {options}",
                    "Check and save:\nCategory: {category}\nName: {name}\nPrice: {price}\n"
                    "Description: {description}\nOptions: {options}"),
    "adm_new_category": ("{name} (новый раздел)", "{name} (a new category)"),
    "adm_press_save": ("Нажмите «Сохранить» или «Отмена».", "Press «Save» or «Cancel»."),
    "adm_no_dialog": ("Этот диалог уже закрыт. /item — начать заново.", "This dialog is closed. /item — start again."),
})


# --- helpers ------------------------------------------------------------------------------------------

def _ref(key: str) -> str:
    """A button's argument for an id: the id itself when short, else a digest (callback data is 64 bytes)."""
    return key if len(key) <= admin.SHORT_ID else "~" + hashlib.sha256(key.encode()).hexdigest()[:16]


def _guarded(handler: Handler) -> Handler:
    """Refusals of the engine as this area tells them: the value that was wrong, the known points."""
    @wraps(handler)
    async def answer(conv: Conversation, turn: Turn) -> list[Reply]:
        try:
            return await handler(conv, turn)
        except DomainError as e:
            return [Text(await _refusal(conv, turn, e))]
    return answer


async def _refusal(conv: Conversation, turn: Turn, e: DomainError) -> str:
    lang = turn.lang
    if e.code is ErrorCode.BAD_INPUT and e.detail:
        return t(lang, "adm_refused", detail=e.detail)
    if e.code is ErrorCode.ITEM_NOT_FOUND and e.detail:
        return t(lang, "adm_no_item", item=e.detail)
    if e.code is ErrorCode.POINT_NOT_FOUND:
        points = (await conv.engine.shop_view()).points
        return t(lang, "adm_no_point", point=e.detail, points=", ".join(f"{p.id} ({p.name})" for p in points))
    return e.message(lang)


def _price(kopecks: int) -> str:
    return Money(kopecks).format()


def _groups(lang: str, groups: Iterable[OptionGroup]) -> str:
    text = "; ".join(f"{g.name}: " + ", ".join(o.name + (f" +{_price(o.price_delta)}" if o.price_delta > 0 else
                                                        f" −{_price(-o.price_delta)}" if o.price_delta else "")
                                               for o in g.options) for g in groups)
    return text or t(lang, "adm_none")


def _value(lang: str, field: str, value: Any, menu: OwnerMenu | None) -> str:
    if field == "price":
        return value.format()
    if field == "available":
        return t(lang, "adm_shown" if value else "adm_hidden")
    if field == "category_id":
        found = menu.category(value) if menu else None
        return found.name if found else str(value)
    if field == "option_groups":
        return _short(_groups(lang, value), 100)
    if field in ("name", "description", "photo"):
        return f"«{_short(value)}»" if value else "—"
    return ", ".join(value) if isinstance(value, tuple) else str(value)


def _short(text: str, limit: int = 40) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def describe(lang: str, change: Change, menu: OwnerMenu | None = None) -> str:
    """One line for a change: ``Латте: цена 250 ₽ → 260 ₽``."""
    kind, _, rest = change.target.partition(":")
    before, after = change.before, change.after
    if kind == "item":
        was, now = (None if s is None else item_from_snapshot(s) for s in (before, after))
        known = now or was
        name = known.name if known else rest
        if was is None and now is not None:
            category = _value(lang, "category_id", now.category_id, menu)
            return f"{name}: {t(lang, 'adm_new')} ({category}, {now.price.format()})"
        if was is None or now is None:
            return f"{name}: {t(lang, 'adm_removed')}"
        fields = [f for f in ("name", "category_id", "price", "description", "option_groups", "photo", "available",
                              "tags") if getattr(was, f) != getattr(now, f)]
        parts = [f"{t(lang, 'adm_f_' + f)} {_value(lang, f, getattr(was, f), menu)} → "
                 f"{_value(lang, f, getattr(now, f), menu)}" for f in fields]
        return f"{name}: {', '.join(parts) or '='}"
    if kind == "stock":
        point_id, _, item_id = rest.partition(":")
        row = menu.row(item_id) if menu else None
        point = menu.point_name(point_id) if menu else point_id
        was, now = ((s or {}).get("quantity") for s in (before, after))
        shown = [t(lang, "adm_uncounted") if q is None else str(q) for q in (was, now)]
        return f"{row.item.name if row else item_id}: {t(lang, 'adm_f_stock', point=point)} {shown[0]} → {shown[1]}"
    keys = [k for k in {**(before or {}), **(after or {})} if (before or {}).get(k) != (after or {}).get(k)]
    return f"{change.target}: " + ", ".join(f"{k} {(before or {}).get(k, '—')} → {(after or {}).get(k, '—')}"
                                           for k in keys)


def _edited(lang: str, edit: Edit, menu: OwnerMenu | None = None) -> str:
    return describe(lang, edit.change, menu) if edit.change else t(lang, "adm_same", name=edit.item.name)


def _panel_buttons(lang: str) -> Rows:
    names = ("items", "item", "log", "undo", "shop", "promos", "staff", "broadcast", "stats", "board")
    flat = [Button(t(lang, f"adm_b_{n}"), f"adm_{n}") for n in names]
    return tuple(tuple(flat[i:i + 2]) for i in range(0, len(flat), 2))


# --- the panel ----------------------------------------------------------------------------------------

@command("admin", owner=True)
@action("admin", owner=True)
async def panel(conv: Conversation, turn: Turn) -> list[Reply]:
    return [Text(t(turn.lang, "adm_panel"), _panel_buttons(turn.lang))]


@action("adm_items", owner=True)
@_guarded
async def items(conv: Conversation, turn: Turn) -> list[Reply]:
    lang = turn.lang
    menu = await conv.engine.owner_menu(turn.inbound.sender)
    if not menu.rows:
        return [Text(t(lang, "adm_no_items"), ((Button(t(lang, "adm_b_item"), "adm_item"),),))]
    pages = (len(menu.rows) + PAGE - 1) // PAGE
    raw = turn.inbound.payload.get("id", "0")
    page = min(int(raw), pages - 1) if raw.isdigit() else 0
    shown = menu.rows[page * PAGE:(page + 1) * PAGE]
    lines = [t(lang, "adm_items", first=page * PAGE + 1, last=page * PAGE + len(shown), total=len(menu.rows))]
    lines += [f"• {_row_line(lang, r, menu)}" for r in shown]
    rows: list[tuple[Button, ...]] = [(Button(_short(r.item.name, 30) + ("" if r.item.available else " 🚫"),
                                              "adm_card", {"id": _ref(r.item.id)}),) for r in shown]
    nav = [Button("◀", "adm_items", {"id": str(page - 1)})] if page > 0 else []
    nav += [Button("▶", "adm_items", {"id": str(page + 1)})] if page + 1 < pages else []
    rows.append((*nav, Button(t(lang, "adm_b_panel"), "admin")))
    return [Text("\n".join(lines), tuple(rows))]


def _row_line(lang: str, row: ItemRow, menu: OwnerMenu) -> str:
    parts = [f"{row.item.name} — {row.item.price.format()}"]
    if not row.item.available:
        parts.append(t(lang, "adm_hidden"))
    counted = [f"{menu.point_name(p)} {q}" for p, q in row.stock.items() if q is not None]
    if counted:
        parts.append(", ".join(counted))
    return " · ".join(parts)


def _card(lang: str, row: ItemRow, menu: OwnerMenu, lead: str = "") -> Text:
    item = row.item
    stock = ", ".join(f"{menu.point_name(p)} — {t(lang, 'adm_uncounted') if q is None else q}"
                      for p, q in row.stock.items()) or "—"
    text = t(lang, "adm_card", name=item.name, id=item.id, category=row.category.name if row.category else "—",
             price=item.price.format(), shown=t(lang, "adm_yes") if item.available else t(lang, "adm_hidden"),
             stock=stock, options=_short(_groups(lang, item.option_groups), 500),
             description=_short(item.description, 500) or "—")
    ref = {"id": _ref(item.id)}
    toggle = Button(t(lang, "adm_b_hide"), "adm_hide", ref) if item.available else \
        Button(t(lang, "adm_b_show"), "adm_show", ref)
    buttons = ((toggle, Button(t(lang, "adm_b_edit"), "adm_edit", ref)), (Button(t(lang, "adm_b_list"), "adm_items"),))
    return Text(f"{lead}\n\n{text}" if lead else text, buttons)


async def _by_ref(conv: Conversation, turn: Turn) -> tuple[OwnerMenu, ItemRow]:
    menu = await conv.engine.owner_menu(turn.inbound.sender)
    wanted = turn.inbound.payload.get("id", "")
    row = next((r for r in menu.rows if _ref(r.item.id) == wanted), None)
    if row is None:
        raise DomainError(ErrorCode.ITEM_NOT_FOUND, wanted)
    return menu, row


@action("adm_card", owner=True)
@_guarded
async def card(conv: Conversation, turn: Turn) -> list[Reply]:
    menu, row = await _by_ref(conv, turn)
    return [_card(turn.lang, row, menu)]


@action("adm_hide", "adm_show", owner=True)
@_guarded
async def toggle(conv: Conversation, turn: Turn) -> list[Reply]:
    _, row = await _by_ref(conv, turn)
    edit = await conv.engine.set_visible(turn.inbound.sender, row.item.id, turn.inbound.action == "adm_show")
    menu = await conv.engine.owner_menu(turn.inbound.sender)
    now = menu.row(row.item.id)
    assert now is not None
    return [_card(turn.lang, now, menu, _edited(turn.lang, edit, menu))]


@action("adm_log", owner=True)
@_guarded
async def log(conv: Conversation, turn: Turn) -> list[Reply]:
    lang = turn.lang
    changes = await conv.engine.changes(turn.inbound.sender, LOG)
    if not changes:
        return [Text(t(lang, "adm_log_empty"))]
    menu = await conv.engine.owner_menu(turn.inbound.sender)
    zone = (await conv.engine.shop_view()).zone
    return [Text("\n".join([t(lang, "adm_log"), *(_log_line(lang, c, menu, zone) for c in changes)]),
                 ((Button(t(lang, "adm_b_undo"), "adm_undo"), Button(t(lang, "adm_b_panel"), "admin")),))]


def _log_line(lang: str, change: Change, menu: OwnerMenu, zone: tzinfo) -> str:
    when = change.at.astimezone(zone).strftime("%d.%m %H:%M")
    what = ("↩ " if change.action == "undo" else "") + _short(describe(lang, change, menu), 200)  # 15 fit a message
    return f"{when} · {change.actor} · {what}" + (f" {t(lang, 'adm_undone_mark')}" if change.undone else "")


# --- one-line commands --------------------------------------------------------------------------------

@command("price", owner=True)
@_guarded
async def price(conv: Conversation, turn: Turn) -> list[Reply]:
    words = turn.inbound.argument.split()
    if len(words) < 2:
        return [Text(t(turn.lang, "adm_use_price"))]
    edit = await conv.engine.change_price(turn.inbound.sender, " ".join(words[:-1]), words[-1])
    return [Text(_edited(turn.lang, edit))]


@command("hide", "show", owner=True)
@_guarded
async def visibility(conv: Conversation, turn: Turn) -> list[Reply]:
    name = turn.inbound.command or "hide"
    if not turn.inbound.argument.strip():
        return [Text(t(turn.lang, f"adm_use_{name}"))]
    edit = await conv.engine.set_visible(turn.inbound.sender, turn.inbound.argument, name == "show")
    return [Text(_edited(turn.lang, edit))]


_COUNT = re.compile(r"[+-]?\d+(?:[.,]\d*)?|off", re.IGNORECASE)


@command("stock", owner=True)
@_guarded
async def stock(conv: Conversation, turn: Turn) -> list[Reply]:
    words = turn.inbound.argument.split()
    if len(words) < 2:
        return [Text(t(turn.lang, "adm_use_stock"))]
    point = None
    if len(words) >= 3:
        known = {p.id for p in (await conv.engine.shop_view()).points}
        last = words[-1]
        # "/stock Раф ванильный 5 center": a trailing point id, or a word after a count that must be one
        if last.lower() in known or (_COUNT.fullmatch(words[-2]) and not _COUNT.fullmatch(last)):
            point, words = last, words[:-1]
    edit = await conv.engine.change_stock(turn.inbound.sender, " ".join(words[:-1]), words[-1], point)
    menu = await conv.engine.owner_menu(turn.inbound.sender)
    return [Text(_edited(turn.lang, edit, menu))]


@command("undo", owner=True)
@action("adm_undo", owner=True)
@_guarded
async def undo(conv: Conversation, turn: Turn) -> list[Reply]:
    actor = turn.inbound.sender
    try:
        change = await conv.engine.undo(actor)
    except DomainError as e:
        if e.code is not ErrorCode.CONFLICT:
            raise
        mine = next((c for c in await conv.engine.changes(actor, 100)
                     if c.actor == actor.key and c.undoable and not c.undone), None)
        target = (mine.before or mine.after or {}) if mine else {}
        name = target.get("name") or (mine.target if mine else "")
        if mine and mine.target.startswith("stock:"):
            row = (await conv.engine.owner_menu(actor)).row(mine.target.rsplit(":", 1)[1])
            name = row.item.name if row else name
        return [Text(t(turn.lang, "adm_undo_conflict", name=name))]
    menu = await conv.engine.owner_menu(actor)
    return [Text(t(turn.lang, "adm_undone", what=describe(turn.lang, change, menu)))]


# --- /item: the guided dialog -------------------------------------------------------------------------

@command("item", owner=True)
@_guarded
async def item(conv: Conversation, turn: Turn) -> list[Reply]:
    text = turn.inbound.argument.strip()
    item_id = (await conv.engine.owner_item(turn.inbound.sender, text)).item.id if text else None
    return await _open(conv, turn, item_id)


@action("adm_item", owner=True)
async def new_item(conv: Conversation, turn: Turn) -> list[Reply]:
    return await _open(conv, turn, None)


@action("adm_edit", owner=True)
@_guarded
async def edit_item(conv: Conversation, turn: Turn) -> list[Reply]:
    _, row = await _by_ref(conv, turn)
    return await _open(conv, turn, row.item.id)


async def _open(conv: Conversation, turn: Turn, item_id: str | None) -> list[Reply]:
    state: dict[str, Any] = {"step": STEPS[0], "id": item_id, "v": {}}
    await conv.engine.open_dialog(turn.inbound.sender, "item", state)
    return [await _ask(conv, turn, state)]


async def _ask(conv: Conversation, turn: Turn, state: dict[str, Any], lead: str = "") -> Text:
    """The question of the dialog's current step (or the summary), with its buttons."""
    lang, step, values = turn.lang, state["step"], state["v"]
    menu = await conv.engine.owner_menu(turn.inbound.sender)
    row = menu.row(state["id"]) if state["id"] else None
    cancel = (Button(t(lang, "cancel"), "cancel"),)
    if step == "confirm":
        text = t(lang, "adm_summary", **_summary(lang, values, row, menu))
        return Text(f"{lead}\n\n{text}" if lead else text, ((Button(t(lang, "adm_b_save"), "adm_save"), *cancel),))
    n = STEPS.index(step) + 1
    head = t(lang, "adm_edit_head", name=row.item.name, n=n) if row else t(lang, "adm_new_head", n=n)
    lines = [lead, head, t(lang, f"adm_ask_{step}")] if lead else [head, t(lang, f"adm_ask_{step}")]
    if row is not None:
        lines.append(t(lang, "adm_now", value=_summary(lang, {}, row, menu)[step]))
    rows: list[tuple[Button, ...]] = []
    if step == "category":
        rows += [(Button(c.name, "adm_pick", {"id": _ref(c.id)}),) for c in menu.categories[:PAGE]]
    if row is not None:
        rows.append((Button(t(lang, "adm_b_keep"), "adm_keep", {"id": step}),))
    elif step in ("description", "options"):
        rows.append((Button(t(lang, "adm_b_skip"), "adm_keep", {"id": step}),))
    rows.append(cancel)
    return Text("\n".join(lines), tuple(rows))


def _summary(lang: str, values: dict[str, str], row: ItemRow | None, menu: OwnerMenu) -> dict[str, str]:
    """What the item will be: each step's typed value, or the item's own where it is kept."""
    item = row.item if row else None
    out: dict[str, str] = {}
    if "category" in values:
        found = menu.category(values["category"])
        out["category"] = found.name if found else t(lang, "adm_new_category", name=values["category"])
    else:
        out["category"] = row.category.name if row and row.category else "—"
    out["name"] = values.get("name") or (item.name if item else "—")
    out["price"] = admin.parse_price(values["price"]).format() if "price" in values else \
        (item.price.format() if item else "—")
    out["description"] = _short(values.get("description", item.description if item else ""), 300) or "—"
    groups = admin.parse_groups(values["options"]) if "options" in values else (item.option_groups if item else ())
    out["options"] = _short(_groups(lang, groups), 500)
    return out


def _check_step(step: str, text: str) -> str:
    """The step's value as it will be saved; a DomainError with the menu file's message when it is wrong."""
    if step == "category":
        return admin.parse_category(text)
    if step == "name":
        return admin.parse_name(text)
    if step == "price":
        admin.parse_price(text)
        return text.strip()
    value = "" if text.strip() == "-" else text.strip()
    if step == "options":
        admin.parse_groups(value)
    return value


async def _advance(conv: Conversation, turn: Turn, state: dict[str, Any]) -> list[Reply]:
    state = {**state, "step": STEPS[STEPS.index(state["step"]) + 1]}
    await conv.engine.open_dialog(turn.inbound.sender, "item", state)
    return [await _ask(conv, turn, state)]


@dialog("item", owner=True)
async def typed(conv: Conversation, turn: Turn) -> list[Reply]:
    assert turn.dialog is not None
    state = turn.dialog.state
    if state["step"] == "confirm":
        return [await _ask(conv, turn, state, t(turn.lang, "adm_press_save"))]
    try:
        value = _check_step(state["step"], turn.inbound.text)
    except DomainError as e:  # asked again; what was entered at the earlier steps stays
        return [await _ask(conv, turn, state, await _refusal(conv, turn, e))]
    return await _advance(conv, turn, {**state, "v": {**state["v"], state["step"]: value}})


async def _open_state(conv: Conversation, turn: Turn) -> dict[str, Any] | None:
    found = await conv.engine.dialog(turn.inbound.sender)
    return found.state if found is not None and found.kind == "item" else None


@action("adm_keep", owner=True)
async def keep(conv: Conversation, turn: Turn) -> list[Reply]:
    """Keep the item's value (when editing) or skip an optional step (a new item)."""
    state = await _open_state(conv, turn)
    if state is None:
        return [Text(t(turn.lang, "adm_no_dialog"))]
    step = state["step"]
    if turn.inbound.payload.get("id") != step or (state["id"] is None and step not in ("description", "options")):
        return [await _ask(conv, turn, state)]  # a button of an earlier step: ask the current one again
    values = {k: v for k, v in state["v"].items() if k != step}
    if state["id"] is None:
        values[step] = ""
    return await _advance(conv, turn, {**state, "v": values})


@action("adm_pick", owner=True)
async def pick(conv: Conversation, turn: Turn) -> list[Reply]:
    state = await _open_state(conv, turn)
    if state is None:
        return [Text(t(turn.lang, "adm_no_dialog"))]
    menu = await conv.engine.owner_menu(turn.inbound.sender)
    picked = next((c for c in menu.categories if _ref(c.id) == turn.inbound.payload.get("id")), None)
    if state["step"] != "category" or picked is None:
        return [await _ask(conv, turn, state)]
    return await _advance(conv, turn, {**state, "v": {**state["v"], "category": picked.id}})


@action("adm_save", owner=True)
async def save(conv: Conversation, turn: Turn) -> list[Reply]:
    state = await _open_state(conv, turn)
    if state is None:
        return [Text(t(turn.lang, "adm_no_dialog"))]
    if state["step"] != "confirm":
        return [await _ask(conv, turn, state)]
    v = state["v"]
    try:
        edit = await conv.engine.save_item(turn.inbound.sender, v.get("category"), v.get("name"), v.get("price"),
                                           v.get("description"), v.get("options"), item_id=state["id"])
    except DomainError as e:
        return [await _ask(conv, turn, state, await _refusal(conv, turn, e))]
    await conv.engine.end_dialog(turn.inbound.sender)
    menu = await conv.engine.owner_menu(turn.inbound.sender)
    what = describe(turn.lang, edit.change, menu) if edit.change else t(turn.lang, "adm_same", name=edit.item.name)
    return [Text(t(turn.lang, "adm_saved", what=what),
                 ((Button(edit.item.name, "adm_card", {"id": _ref(edit.item.id)}),),))]

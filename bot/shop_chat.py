"""The owner's shop in the chat: /shop (name, description, time zone, rules), /point (pickup points),
/promo (promo codes), /staff, and the /admin panel's buttons for them (``adm_shop``, ``adm_promos``,
``adm_staff``). Each command without arguments shows what there is and how to change it; with arguments
it changes one thing and says in one line what it is now. The engine checks the owner and the value.
"""
from __future__ import annotations

from functools import wraps
from typing import TYPE_CHECKING

from journey.catalog import PickupPoint
from journey.channels import Button, Reply, Text
from journey.errors import DomainError, ErrorCode
from journey.promo_codes import PromoLine, promo_terms
from journey.setup import SETTINGS, ShopSettings, parse_account, setting

from .chat import Handler, Turn, action, command
from .texts import add_texts, t

if TYPE_CHECKING:
    from .conversation import Conversation

Rows = tuple[tuple[Button, ...], ...]
END_BUTTONS = 5  # "end CODE" buttons under the list: VK shows at most six rows

add_texts({
    "shop_title": ("Магазин «{name}»", "The shop «{name}»"),
    "shop_k_name": ("Название", "Name"),
    "shop_k_description": ("Описание", "Description"),
    "shop_k_zone": ("Часовой пояс", "Time zone"),
    "shop_k_earn": ("Начисляем баллов, % от оплаты", "Points earned, % of what is paid"),
    "shop_k_cap": ("Баллами можно оплатить, % заказа", "Points may pay, % of the order"),
    "shop_k_unpaid": ("Ждём онлайн-оплату, мин", "Online payment awaited, min"),
    "shop_k_accept": ("Ждём, пока примут заказ, мин (0 — без срока)", "Awaiting acceptance, min (0: no limit)"),
    "shop_k_referral": ("Бонус за приглашённого друга, ₽", "Referral bonus, rubles"),
    "shop_k_packs": ("Пакеты баллов за звёзды Telegram (баллы:звёзды)", "Points packs for Telegram Stars "
                     "(points:stars)"),
    "shop_k_limit": ("Незабранных заказов у покупателя (0 — без ограничения)",
                     "Open orders per customer (0: no limit)"),
    # group orders
    "shop_k_group_people": ("Групповой заказ: человек для скидки", "Group order: people for the discount"),
    "shop_k_group_percent": ("Групповой заказ: скидка, %", "Group order: discount, %"),
    "shop_k_group_minutes": ("Групповой заказ: минут на сбор", "Group order: minutes to join"),
    # referrals that hold
    "shop_k_referral_cap": ("Бонусов за друзей одному пригласившему в месяц (0 — без ограничения)",
                            "Friend bonuses per inviter per month (0: no cap)"),
    # points and the birthday offer
    "shop_k_tiers": ("Уровни баллов (₽ за 365 дней:%)", "Points tiers (rubles in 365 days:%)"),
    "shop_k_expire": ("Баллы сгорают через, дней (0 — никогда)", "Points expire after, days (0: never)"),
    "shop_k_birthday": ("Скидка в день рождения, % (0 — выключена)", "Birthday discount, % (0: off)"),
    "shop_k_birthday_days": ("Скидка ко дню рождения действует дней до и после", "Birthday discount holds, days "
                             "before and after"),
    # regulars
    "shop_k_regulars": ("Приглашение в чат постоянных гостей после выданных заказов (0 — выключено)",
                        "Regulars' chat invitation after picked-up orders (0: off)"),
    # gifts
    "shop_k_gift_days": ("Подарок можно забрать, дней (потом деньги возвращаются)",
                         "A gift may be picked up for, days (then the money goes back)"),
    "shop_k_gift_amounts": ("Суммы подарков, ₽ («-» — только позиции меню)", "Gift amounts, rubles ('-': menu items "
                            "only)"),
    "shop_how": ("Изменить: /shop <настройка> <значение>, например\n/shop name Кофейня на Пушкина\n"
                 "/shop description Варим кофе с 2010 года («-» — без описания)\n/shop zone Europe/Moscow\n"
                 "/shop earn 5 · /shop cap 30 · /shop unpaid 15 · /shop accept 30 · /shop referral 100 · "
                 "/shop limit 3\nТочки выдачи — /point, промокоды — /promo, сотрудники — /staff",
                 "Change: /shop <setting> <value>, e.g.\n/shop name Coffee on Pushkina\n"
                 "/shop description Brewing since 2010 («-» — none)\n/shop zone Europe/Moscow\n"
                 "/shop earn 5 · /shop cap 30 · /shop unpaid 15 · /shop accept 30 · /shop referral 100 · "
                 "/shop limit 3\nPickup points — /point, promo codes — /promo, staff — /staff"),
    "shop_set": ("Готово. {what}: {value}", "Done. {what}: {value}"),
    "shop_need_value": ("Напишите значение: /shop {setting} <значение>. Все настройки — /shop.",
                        "Give a value: /shop {setting} <value>. All settings — /shop."),
    "shop_b_points": ("Точки выдачи", "Pickup points"),
    "shop_b_promos": ("Промокоды", "Promo codes"),
    "shop_b_staff": ("Сотрудники", "Staff"),
    # pickup points
    "shop_points": ("Точки выдачи:", "Pickup points:"),
    "shop_no_points": ("Точек выдачи пока нет.", "No pickup points yet."),
    "shop_point": ("• {id} — {name}{address}\n  часы: {hours}; готовим {prep} мин",
                   "• {id} — {name}{address}\n  hours: {hours}; ready in {prep} min"),
    "shop_point_how": ("Добавить: /point add <код> <название>, например /point add center Кофейня на Пушкина\n"
                       "Изменить: /point center name … · /point center address ул. Пушкина, 10 ·\n"
                       "/point center hours mon-fri 08:00-21:00; sat-sun 10:00-20:00 · /point center prep 10",
                       "Add: /point add <id> <name>, e.g. /point add center Coffee on Pushkina\n"
                       "Change: /point center name … · /point center address 10 Pushkina St ·\n"
                       "/point center hours mon-fri 08:00-21:00; sat-sun 10:00-20:00 · /point center prep 10"),
    "shop_point_added": ("Точка добавлена:\n{point}\nЧасы и время приготовления: /point {id} hours …, "
                         "/point {id} prep …",
                         "Pickup point added:\n{point}\nHours and preparation time: /point {id} hours …, "
                         "/point {id} prep …"),
    "shop_point_changed": ("Готово:\n{point}", "Done:\n{point}"),
    "shop_point_use": ("Как: /point add <код> <название> или /point <код> name|address|hours|prep <значение>.",
                       "Usage: /point add <id> <name> or /point <id> name|address|hours|prep <value>."),
    "shop_no_point": ("Такой точки выдачи нет: «{point}». Точки: {points}.",
                      "There is no pickup point «{point}». Points: {points}."),
    # promo codes
    "shop_promos": ("Промокоды:", "Promo codes:"),
    "shop_no_promos": ("Промокодов пока нет.", "No promo codes yet."),
    "shop_promo": ("• {code} — {discount}, использован {used}{of}{until} — {status}",
                   "• {code} — {discount}, used {used}{of}{until} — {status}"),
    "shop_promo_of": (" из {uses}", " of {uses}"),
    "shop_promo_until": (", последний день {day}", ", last day {day}"),
    "shop_st_active": ("действует", "active"),
    "shop_st_ended": ("завершён", "ended"),
    "shop_st_expired": ("срок истёк", "expired"),
    "shop_st_used_up": ("исчерпан", "used up"),
    "shop_promo_how": ("Создать: /promo <КОД> <N%|N ₽> [сколько раз] [until ГГГГ-ММ-ДД], например\n"
                       "/promo SPRING10 10% 100 until 2026-05-31 или /promo COFFEE150 150\n"
                       "Завершить: /promo end SPRING10",
                       "Create: /promo <CODE> <N%|N rubles> [uses] [until YYYY-MM-DD], e.g.\n"
                       "/promo SPRING10 10% 100 until 2026-05-31 or /promo COFFEE150 150\n"
                       "End: /promo end SPRING10"),
    "shop_promo_added": ("Промокод создан:\n{promo}\nКаждый покупатель может применить его один раз.",
                         "Promo code created:\n{promo}\nEach customer may use it once."),
    "shop_promo_end_ask": ("Завершить промокод {code}? Покупатели больше не смогут его применить; "
                           "прошлые заказы с ним не изменятся.",
                           "End promo code {code}? Customers will no longer be able to use it; past orders "
                           "with it stay as they are."),
    "shop_promo_ended": ("Промокод {code} завершён. Использован {used} раз.",
                         "Promo code {code} ended. Used {used} times."),
    "shop_b_end": ("Завершить {code}", "End {code}"),
    "shop_b_end_ok": ("Да, завершить", "Yes, end it"),
    "shop_b_back": ("Назад", "Back"),
    "shop_promo_use_end": ("Как: /promo end <КОД>", "Usage: /promo end <CODE>"),
    # staff
    "shop_staff": ("Сотрудники:", "Staff:"),
    "shop_no_staff": ("Сотрудников пока нет.", "No staff yet."),
    "shop_staff_line": ("• {account} — {point}", "• {account} — {point}"),
    "shop_everywhere": ("все точки", "every point"),
    "shop_owners": ("Владельцы (работают на всех точках): {owners}", "Owners (staff at every point): {owners}"),
    "shop_staff_how": ("Добавить: /staff add telegram:123456 center (или * — на всех точках)\n"
                       "Убрать: /staff remove telegram:123456 [точка]",
                       "Add: /staff add telegram:123456 center (or * — at every point)\n"
                       "Remove: /staff remove telegram:123456 [point]"),
    "shop_staff_added": ("Готово: {account} — сотрудник, {point}.", "Done: {account} is staff, {point}."),
    "shop_staff_removed": ("Готово: {account} больше не сотрудник{where}.",
                           "Done: {account} is no longer staff{where}."),
    "shop_staff_at": (" на точке {point}", " at {point}"),
    "shop_not_staff": ("{account} не сотрудник{where}, ничего не изменилось.",
                       "{account} is not staff{where}, nothing changed."),
    "shop_staff_use": ("Как: /staff add <канал:id> <точка> или /staff remove <канал:id> [точка], например "
                       "/staff add telegram:123456 center",
                       "Usage: /staff add <channel:id> <point> or /staff remove <channel:id> [point], e.g. "
                       "/staff add telegram:123456 center"),
})


def _guarded(handler: Handler) -> Handler:
    """The engine's refusals as this area tells them: an unknown point lists the known ones."""
    @wraps(handler)
    async def answer(conv: Conversation, turn: Turn) -> list[Reply]:
        try:
            return await handler(conv, turn)
        except DomainError as e:
            if e.code is not ErrorCode.POINT_NOT_FOUND:
                raise
            points = (await conv.engine.shop_view()).points
            known = ", ".join(f"{p.id} ({p.name})" for p in points) or "—"
            return [Text(t(turn.lang, "shop_no_point", point=e.detail, points=known))]
    return answer


# --- /shop --------------------------------------------------------------------------------------------

def _shop_text(lang: str, view: ShopSettings) -> str:
    lines = [t(lang, "shop_title", name=view.rules.name)]
    for item in SETTINGS:
        lines.append(f"{t(lang, 'shop_k_' + item.key)}: {view.shown(item) or '—'}")
    return "\n".join([*lines, "", t(lang, "shop_how")])


def _shop_buttons(lang: str) -> Rows:
    return ((Button(t(lang, "shop_b_points"), "shop_points"), Button(t(lang, "shop_b_promos"), "adm_promos")),
            (Button(t(lang, "shop_b_staff"), "adm_staff"),))


@command("shop", owner=True)
async def shop(conv: Conversation, turn: Turn) -> list[Reply]:
    lang, actor = turn.lang, turn.inbound.sender
    key, value = [*turn.inbound.argument.split(None, 1), "", ""][:2]
    if not key:
        return await show_shop(conv, turn)
    item = setting(key)
    if not value.strip():
        return [Text(t(lang, "shop_need_value", setting=item.key))]
    view = await conv.engine.change_shop(actor, item.key, value)
    return [Text(t(lang, "shop_set", what=t(lang, "shop_k_" + item.key), value=view.shown(item) or "—"))]


@action("adm_shop", owner=True)
async def show_shop(conv: Conversation, turn: Turn) -> list[Reply]:
    view = await conv.engine.shop_settings(turn.inbound.sender)
    return [Text(_shop_text(turn.lang, view), _shop_buttons(turn.lang))]


# --- /point -------------------------------------------------------------------------------------------

def _point_text(lang: str, p: PickupPoint) -> str:
    return t(lang, "shop_point", id=p.id, name=p.name, address=f", {p.address}" if p.address else "",
             hours=p.hours.format(), prep=p.prep_minutes)


@command("point", owner=True)
@_guarded
async def point(conv: Conversation, turn: Turn) -> list[Reply]:
    lang, actor = turn.lang, turn.inbound.sender
    words = turn.inbound.argument.split(None, 2)
    if not words:
        return await show_points(conv, turn)
    if words[0].lower() == "add":
        if len(words) < 3:
            return [Text(t(lang, "shop_point_use"))]
        added = await conv.engine.add_point(actor, words[1], words[2])
        return [Text(t(lang, "shop_point_added", point=_point_text(lang, added), id=added.id))]
    view = await conv.engine.shop_settings(actor)
    found = next((p for p in view.points if p.id == words[0].lower()), None)
    if found is None:
        raise DomainError(ErrorCode.POINT_NOT_FOUND, words[0])
    if len(words) == 1:
        return [Text(_point_text(lang, found) + "\n\n" + t(lang, "shop_point_how"))]
    if len(words) < 3:
        return [Text(t(lang, "shop_point_use"))]
    changed = await conv.engine.change_point(actor, found.id, words[1], words[2])
    return [Text(t(lang, "shop_point_changed", point=_point_text(lang, changed)))]


@action("shop_points", owner=True)
async def show_points(conv: Conversation, turn: Turn) -> list[Reply]:
    lang = turn.lang
    view = await conv.engine.shop_settings(turn.inbound.sender)
    head = [t(lang, "shop_points"), *(_point_text(lang, p) for p in view.points)] if view.points else \
        [t(lang, "shop_no_points")]
    return [Text("\n".join([*head, "", t(lang, "shop_point_how")]))]


# --- /promo -------------------------------------------------------------------------------------------

def _promo_text(lang: str, line: PromoLine, view: ShopSettings) -> str:
    p, last_day = line.promo, line.last_day(view.zone)
    until = t(lang, "shop_promo_until", day=last_day.isoformat()) if last_day else ""
    return t(lang, "shop_promo", code=p.code, discount=line.discount, used=p.used,
             of=t(lang, "shop_promo_of", uses=p.max_uses) if p.max_uses is not None else "", until=until,
             status=t(lang, "shop_st_" + line.status))


@command("promo", owner=True)
async def promo(conv: Conversation, turn: Turn) -> list[Reply]:
    lang, actor = turn.lang, turn.inbound.sender
    words = turn.inbound.argument.split()
    if not words:
        return await show_promos(conv, turn)
    if words[0].lower() == "end":
        if len(words) != 2:
            return [Text(t(lang, "shop_promo_use_end"))]
        ended = await conv.engine.end_promo(actor, words[1])
        return [Text(t(lang, "shop_promo_ended", code=ended.promo.code, used=ended.promo.used))]
    if words[0].lower() == "add":
        words = words[1:]
    created = await conv.engine.create_promo(actor, promo_terms(words))
    view = await conv.engine.shop_settings(actor)
    return [Text(t(lang, "shop_promo_added", promo=_promo_text(lang, created, view)))]


@action("adm_promos", owner=True)
async def show_promos(conv: Conversation, turn: Turn) -> list[Reply]:
    lang, actor = turn.lang, turn.inbound.sender
    lines = await conv.engine.promos(actor)
    view = await conv.engine.shop_settings(actor)
    head = [t(lang, "shop_promos"), *(_promo_text(lang, line, view) for line in lines)] if lines else \
        [t(lang, "shop_no_promos")]
    active = [line.promo.code for line in lines if line.status == "active"][:END_BUTTONS]
    rows = tuple((Button(t(lang, "shop_b_end", code=code), "promo_end", {"id": code}),) for code in active)
    return [Text("\n".join([*head, "", t(lang, "shop_promo_how")]), rows)]


@action("promo_end", owner=True)
async def ask_end_promo(conv: Conversation, turn: Turn) -> list[Reply]:
    lang, code = turn.lang, turn.inbound.payload.get("id", "")
    return [Text(t(lang, "shop_promo_end_ask", code=code),
                 ((Button(t(lang, "shop_b_end_ok"), "promo_end_ok", {"id": code}),
                   Button(t(lang, "shop_b_back"), "adm_promos")),))]


@action("promo_end_ok", owner=True)
async def end_promo(conv: Conversation, turn: Turn) -> list[Reply]:
    ended = await conv.engine.end_promo(turn.inbound.sender, turn.inbound.payload.get("id", ""))
    return [Text(t(turn.lang, "shop_promo_ended", code=ended.promo.code, used=ended.promo.used))]


# --- /staff -------------------------------------------------------------------------------------------

def _where(lang: str, point_id: str) -> str:
    return t(lang, "shop_everywhere") if point_id == "*" else point_id


@command("staff", owner=True)
@_guarded
async def staff(conv: Conversation, turn: Turn) -> list[Reply]:
    lang, actor = turn.lang, turn.inbound.sender
    words = turn.inbound.argument.split()
    if not words:
        return await show_staff(conv, turn)
    verb = words[0].lower()
    if verb == "add" and len(words) == 3:
        account = parse_account(words[1])
        point_id = "*" if words[2] in ("*", "все", "all") else words[2].lower()
        await conv.engine.add_staff(account, point_id, actor=actor)
        return [Text(t(lang, "shop_staff_added", account=account.key, point=_where(lang, point_id)))]
    if verb == "remove" and len(words) in (2, 3):
        account = parse_account(words[1])
        at = words[2].lower() if len(words) == 3 else None  # None: everywhere
        where = t(lang, "shop_staff_at", point=at) if at else ""
        if not await conv.engine.remove_staff(account, at, actor=actor):
            return [Text(t(lang, "shop_not_staff", account=account.key, where=where))]
        return [Text(t(lang, "shop_staff_removed", account=account.key, where=where))]
    return [Text(t(lang, "shop_staff_use"))]


@action("adm_staff", owner=True)
async def show_staff(conv: Conversation, turn: Turn) -> list[Reply]:
    lang = turn.lang
    found = await conv.engine.staff(turn.inbound.sender)
    lines = [t(lang, "shop_staff"), *(t(lang, "shop_staff_line", account=ref.key, point=_where(lang, point_id))
                                      for ref, point_id in found.staff)] if found.staff else [t(lang, "shop_no_staff")]
    if found.owners:
        lines.append(t(lang, "shop_owners", owners=", ".join(o.key for o in found.owners)))
    return [Text("\n".join([*lines, "", t(lang, "shop_staff_how")]))]

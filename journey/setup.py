"""The shop as its owner sets it up: its name and rules, pickup points, staff (promo codes: ``promo_codes``).

Each use case takes the actor first: an owner from the chat (refused unless listed in ``VITRINA_OWNERS``,
whatever the channel checked) or ``CLI``, the command line, whose user holds the database itself. It
reads what the owner typed, refuses a bad value with a message in the owner's language (``Refusal``),
and writes the change and its audit entry (``shop:<key>``, ``point:<id>``, ``staff:<channel:id>``) in one
unit of work. A change that changes nothing writes nothing.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from .audit import Snapshot, record, require_owner
from .catalog import POINT_ID, OpeningHours, PickupPoint
from .channels import CustomerRef
from .errors import DomainError, ErrorCode
from .model import ShopRules
from .money import format_rubles, parse_rubles

if TYPE_CHECKING:
    from .engine import Engine
    from .ports import UnitOfWork

DESCRIPTION = "shop.description"  # the shop's description is kept beside the rules, in the settings
NAME_MAX, DESCRIPTION_MAX, ADDRESS_MAX, PREP_MAX = 64, 500, 200, 240
WHOLE = re.compile(r"[0-9]{1,9}")


class Refusal(DomainError):
    """A value the owner typed that cannot be taken, explained in the owner's language."""

    def __init__(self, code: ErrorCode, ru: str, en: str) -> None:
        super().__init__(code)
        self.ru, self.en = ru, en

    def message(self, language: str = "ru") -> str:
        return self.en if language == "en" else self.ru


# --- the shop's settings ------------------------------------------------------------------------------

def _text(max_len: int, what_ru: str, what_en: str, *, required: bool) -> Callable[[str], str]:
    def parse(text: str) -> str:
        value = str(text).strip()
        if required:
            value = " ".join(value.split())  # a name is one line with single spaces
        elif value == "-":
            value = ""  # ``-`` clears an optional text
        if (required and not value) or len(value) > max_len:
            low = 1 if required else 0
            raise Refusal(ErrorCode.SETTING_INVALID, f"{what_ru}: от {low} до {max_len} символов.",
                          f"{what_en}: {low} to {max_len} characters.")
        return value
    return parse


def _whole(lo: int, hi: int, what_ru: str, what_en: str, *, percent: bool = False) -> Callable[[str], int]:
    def parse(text: str) -> int:
        value = str(text).strip()
        if percent:
            value = value.removesuffix("%").strip()
        if not WHOLE.fullmatch(value) or not lo <= int(value) <= hi:
            raise Refusal(ErrorCode.SETTING_INVALID, f"{what_ru}: целое число от {lo} до {hi}, а не {text!r}.",
                          f"{what_en}: a whole number from {lo} to {hi}, not {text!r}.")
        return int(value)
    return parse


def parse_zone(text: str) -> str:
    """A time zone of the IANA database, e.g. ``Europe/Moscow``; any case."""
    value = str(text).strip()
    try:
        if value and "." not in value:
            ZoneInfo(value)
            return value
    except (ZoneInfoNotFoundError, ValueError):
        by_case = {z.casefold(): z for z in available_timezones()}
        if value.casefold() in by_case:
            return by_case[value.casefold()]
    raise Refusal(ErrorCode.SETTING_INVALID,
                  f"Неизвестный часовой пояс {value!r}: пишите как Europe/Moscow, Asia/Yekaterinburg, "
                  "Asia/Novosibirsk.",
                  f"Unknown time zone {value!r}: write it like Europe/Moscow, Asia/Yekaterinburg, Asia/Novosibirsk.")


def parse_bonus(text: str) -> int:
    """Rubles (``100``, ``99.50``) -> points, in kopecks."""
    try:
        value = parse_rubles(text)
    except ValueError:
        value = -1
    if not 0 <= value <= 10_000_000:
        raise Refusal(ErrorCode.SETTING_INVALID,
                      f"Бонус за друга — сумма в рублях от 0 до 100000, например 100 или 99,50, а не {text!r}.",
                      f"The referral bonus is rubles from 0 to 100000, e.g. 100 or 99.50, not {text!r}.")
    return value


def parse_stars_packs(text: str) -> str:
    """Points packs sold for Telegram Stars, kept as typed once checked: ``500:50,2000:180`` or ``-``."""
    from .packs import parse_packs

    try:
        packs = parse_packs(str(text))
    except ValueError as e:
        raise Refusal(ErrorCode.SETTING_INVALID, f"Пакеты баллов за звёзды: {e}. Пример: 500:50,2000:180 "
                      "(баллы:звёзды), «-» — не продавать.",
                      f"Points packs for Stars: {e}. Example: 500:50,2000:180 (points:stars), '-' for none.") from None
    return ",".join(f"{p.points}:{p.stars}" for p in packs)


def parse_tiers(text: str) -> str:
    """Points tiers (journey/loyalty.py), kept as typed once checked: ``0:5,10000:7,30000:10`` or ``-``."""
    from .loyalty import parse_tiers as tiers_in

    try:
        tiers = tiers_in(str(text))
    except ValueError as e:
        raise Refusal(ErrorCode.SETTING_INVALID, f"Уровни баллов: {e}. Пример: 0:5,10000:7,30000:10 (рублей за 365 "
                      "дней:процент начисления), «-» — один уровень с процентом earn.",
                      f"Points tiers: {e}. Example: 0:5,10000:7,30000:10 (rubles in 365 days:earn percent), '-' "
                      "for one tier earning the earn percent.") from None
    return ",".join(f"{format_rubles(t.threshold)}:{t.percent}" for t in tiers)


def parse_gift_amounts(text: str) -> str:
    """Gifts' amounts in rubles (journey/gifts.py), kept as typed once checked: ``300,500,1000`` or ``-``."""
    from .gifts import parse_amounts

    try:
        found = parse_amounts(str(text))
    except ValueError as e:
        raise Refusal(ErrorCode.SETTING_INVALID, f"Суммы подарков: {e}. Пример: 300,500,1000 (рублей), «-» — "
                      "дарить только позиции меню.", f"Gift amounts: {e}. Example: 300,500,1000 (rubles), '-' for "
                      "items of the menu only.") from None
    return ",".join(str(n) for n in found) or "-"


@dataclass(frozen=True, slots=True)
class Setting:
    """One thing the owner may set: the word they type, where it is kept, and how its value is read."""

    key: str  # what the owner types: ``/shop earn 5``, ``vitrina shop set earn 5``
    field: str  # the ShopRules field (or ``description``): the audit target is ``shop:<field>``
    parse: Callable[[str], Any]

    @property
    def stored(self) -> str:
        return DESCRIPTION if self.field == "description" else f"rule.{self.field}"


SETTINGS = (
    Setting("name", "name", _text(NAME_MAX, "Название магазина", "The shop's name", required=True)),
    Setting("description", "description",
            _text(DESCRIPTION_MAX, "Описание магазина", "The shop's description", required=False)),
    Setting("zone", "timezone", parse_zone),
    Setting("earn", "earn_percent", _whole(0, 100, "Начисление баллов, %", "Points earned, %", percent=True)),
    Setting("cap", "redeem_cap_percent",
            _whole(0, 100, "Доля заказа, которую можно оплатить баллами, %", "Points pay at most, %", percent=True)),
    Setting("unpaid", "unpaid_timeout_minutes",
            _whole(1, 1440, "Минут ждать онлайн-оплату", "Minutes to wait for an online payment")),
    Setting("accept", "accept_timeout_minutes",
            _whole(0, 1440, "Минут ждать, пока заказ примут (0 — без срока)",
                   "Minutes to wait for staff to accept an order (0: no limit)")),
    Setting("referral", "referral_bonus", parse_bonus),
    Setting("packs", "stars_packs", parse_stars_packs),
    Setting("limit", "max_open_orders",
            _whole(0, 100, "Незабранных заказов у покупателя (0 — без ограничения)",
                   "Open orders per customer (0: no limit)")),
    # group orders (journey/groups.py)
    Setting("group_people", "group_min_people",
            _whole(2, 50, "Сколько человек нужно для скидки группы", "People a group needs for its discount")),
    Setting("group_percent", "group_percent",
            _whole(0, 90, "Скидка группы, %", "The group discount, %", percent=True)),
    Setting("group_minutes", "group_window_minutes",
            _whole(5, 1440, "Минут на сбор группы", "Minutes friends have to join a group")),
    # referrals that hold (journey/referrals.py)
    Setting("referral_cap", "referral_monthly_cap",
            _whole(0, 1000, "Бонусов за друзей одному пригласившему в месяц (0 — без ограничения)",
                   "Friends one customer is rewarded for per month (0: no cap)")),
    # regulars (journey/regulars.py)
    Setting("regulars", "regulars_after",
            _whole(0, 1000, "Приглашение в чат постоянных гостей после N выданных заказов (0 — выключено)",
                   "An invitation to the regulars' chat after N picked-up orders (0: off)")),
    # points and the birthday offer (journey/loyalty.py)
    Setting("tiers", "tiers", parse_tiers),
    Setting("expire", "points_expire_days",
            _whole(0, 3650, "Через сколько дней сгорают баллы (0 — никогда)", "Days before points expire (0: never)")),
    Setting("birthday", "birthday_percent",
            _whole(0, 90, "Скидка в день рождения, % (0 — выключена)", "The birthday discount, % (0: off)",
                   percent=True)),
    Setting("birthday_days", "birthday_days",
            _whole(0, 30, "Дней до и после дня рождения, когда действует скидка",
                   "Days before and after the birthday the discount holds")),
    # gifts (journey/gifts.py)
    Setting("gift_days", "gift_days",
            _whole(1, 365, "Дней, пока подарок можно забрать (потом деньги возвращаются)",
                   "Days a gift may be picked up (then its money goes back)")),
    Setting("gift_amounts", "gift_amounts", parse_gift_amounts),
)
_BY_NAME = {s.key: s for s in SETTINGS} | {s.field: s for s in SETTINGS} | {"timezone": SETTINGS[2]}


def setting(key: str) -> Setting:
    found = _BY_NAME.get(str(key).strip().lower())
    if found is None:
        keys = ", ".join(s.key for s in SETTINGS)
        raise Refusal(ErrorCode.SETTING_UNKNOWN, f"Такой настройки нет: {key!r}. Настройки: {keys}.",
                      f"There is no setting {key!r}. The settings: {keys}.")
    return found


@dataclass(frozen=True, slots=True)
class ShopSettings:
    """What the owner's ``/shop`` shows: the rules, the description and the pickup points."""

    rules: ShopRules
    description: str
    points: list[PickupPoint]

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.rules.timezone)

    def value(self, item: Setting) -> Any:
        return self.description if item.field == "description" else getattr(self.rules, item.field)

    def shown(self, item: Setting) -> str:
        """The value as the owner would type it back."""
        value = self.value(item)
        return format_rubles(value) if item.field == "referral_bonus" else str(value)


async def _settings(engine: Engine, uow: UnitOfWork) -> ShopSettings:
    return ShopSettings(await engine.rules(uow), await uow.settings.get(DESCRIPTION) or "",
                        await uow.catalog.points())


async def shop_settings(self: Engine, actor: CustomerRef) -> ShopSettings:
    require_owner(self, actor)
    async with self.read() as uow:
        return await _settings(self, uow)


async def change_shop(self: Engine, actor: CustomerRef, key: str, text: str) -> ShopSettings:
    """Set one of ``SETTINGS`` from what the owner typed (``earn``, ``"5"``)."""
    require_owner(self, actor)
    item = setting(key)
    value = item.parse(text)
    async with self.uow() as uow:
        before = (await _settings(self, uow)).value(item)
        if before != value:
            await uow.settings.set(item.stored, str(value))
            await record(self, uow, actor, "shop", f"shop:{item.field}", {"value": before}, {"value": value})
        return await _settings(self, uow)


# --- pickup points ------------------------------------------------------------------------------------

def point_snapshot(point: PickupPoint | None) -> Snapshot:
    if point is None:
        return None
    return {"id": point.id, "name": point.name, "address": point.address, "lat": point.lat, "lon": point.lon,
            "hours": point.hours.format(), "prep_minutes": point.prep_minutes}


def parse_point_id(text: str) -> str:
    value = str(text).strip().lower()
    if not POINT_ID.match(value) or len(value) > 32:
        raise Refusal(ErrorCode.POINT_INVALID,
                      f"Код точки {text!r}: латинские буквы и цифры, до 32 знаков, например center.",
                      f"Pickup point id {text!r}: lowercase latin letters and digits, at most 32, e.g. center.")
    return value


def parse_point_name(text: str) -> str:
    value = " ".join(str(text).split())
    if not value or len(value) > NAME_MAX:
        raise Refusal(ErrorCode.POINT_INVALID, f"Название точки: от 1 до {NAME_MAX} символов.",
                      f"A pickup point's name: 1 to {NAME_MAX} characters.")
    return value


def parse_address(text: str) -> str:
    value = " ".join(str(text).split())
    value = "" if value == "-" else value
    if len(value) > ADDRESS_MAX:
        raise Refusal(ErrorCode.POINT_INVALID, f"Адрес точки: не длиннее {ADDRESS_MAX} символов.",
                      f"A pickup point's address: at most {ADDRESS_MAX} characters.")
    return value


def parse_hours(text: str) -> OpeningHours:
    """The menu file's form: ``mon-fri 08:00-21:00; sat-sun 10:00-20:00``; a day not listed is closed."""
    try:
        if not str(text).strip():
            raise ValueError
        return OpeningHours.parse(str(text).strip().lower())
    except ValueError:
        raise Refusal(ErrorCode.POINT_INVALID,
                      f"Часы работы не понятны: {text!r}. Пишите так: mon-fri 08:00-21:00; sat-sun 10:00-20:00 "
                      "(дни mon tue wed thu fri sat sun, круглосуточно 00:00-24:00, выходной — sun closed).",
                      f"Opening hours not understood: {text!r}. Write them like mon-fri 08:00-21:00; "
                      "sat-sun 10:00-20:00 (days mon..sun, all day 00:00-24:00, a day off: sun closed).") from None


def parse_prep(text: str | int) -> int:
    value = str(text).strip()
    if not WHOLE.fullmatch(value) or int(value) > PREP_MAX:
        raise Refusal(ErrorCode.POINT_INVALID, f"Время приготовления: целое число минут от 0 до {PREP_MAX}.",
                      f"Preparation time: a whole number of minutes from 0 to {PREP_MAX}.")
    return int(value)


POINT_FIELDS: dict[str, Callable[[PickupPoint, str], PickupPoint]] = {
    "name": lambda p, text: replace(p, name=parse_point_name(text)),
    "address": lambda p, text: replace(p, address=parse_address(text)),
    "hours": lambda p, text: replace(p, hours=parse_hours(text)),
    "prep": lambda p, text: replace(p, prep_minutes=parse_prep(text)),
}


async def add_point(self: Engine, actor: CustomerRef, point_id: str, name: str, address: str = "",
                    hours: str | None = None, prep: str | int | None = None) -> PickupPoint:
    """A new pickup point; hours default to every day 08:00-22:00, preparation to 10 minutes."""
    require_owner(self, actor)
    point = PickupPoint(parse_point_id(point_id), parse_point_name(name), parse_address(address))
    if hours is not None:
        point = replace(point, hours=parse_hours(hours))
    if prep is not None:
        point = replace(point, prep_minutes=parse_prep(prep))
    async with self.uow() as uow:
        if await uow.catalog.point(point.id) is not None:
            raise Refusal(ErrorCode.POINT_EXISTS, f"Точка {point.id} уже есть: измените её командой point.",
                          f"Pickup point {point.id} exists already: change it with point set.")
        await uow.catalog.save_point(point)
        await record(self, uow, actor, "point", f"point:{point.id}", None, point_snapshot(point))
    return point


async def change_point(self: Engine, actor: CustomerRef, point_id: str, field: str, text: str) -> PickupPoint:
    """Change one of a point's ``name``, ``address``, ``hours``, ``prep`` (minutes)."""
    require_owner(self, actor)
    change = POINT_FIELDS.get(str(field).strip().lower())
    if change is None:
        raise Refusal(ErrorCode.POINT_INVALID, f"У точки можно изменить: {', '.join(POINT_FIELDS)}; не {field!r}.",
                      f"A pickup point's {', '.join(POINT_FIELDS)} can be changed; not {field!r}.")
    async with self.uow() as uow:
        before = await uow.catalog.point(str(point_id).strip().lower())
        if before is None:
            raise DomainError(ErrorCode.POINT_NOT_FOUND, str(point_id).strip())
        after = change(before, text)
        if after != before:
            await uow.catalog.save_point(after)
            await record(self, uow, actor, "point", f"point:{after.id}", point_snapshot(before), point_snapshot(after))
    return after


# --- staff --------------------------------------------------------------------------------------------

def parse_account(text: str) -> CustomerRef:
    try:
        return CustomerRef.parse(text)
    except ValueError:
        raise Refusal(ErrorCode.ACCOUNT_INVALID,
                      f"Аккаунт {text!r} не понятен: пишите канал:id, например telegram:123456 или vk:7654321.",
                      f"Account {text!r} not understood: write channel:id, e.g. telegram:123456 or vk:7654321."
                      ) from None


@dataclass(frozen=True, slots=True)
class StaffList:
    staff: list[tuple[CustomerRef, str]]  # account, point id ('*': every point)
    owners: list[CustomerRef]


async def staff(self: Engine, actor: CustomerRef) -> StaffList:
    require_owner(self, actor)
    async with self.read() as uow:
        rows = await uow.staff.list()
    return StaffList(sorted(rows, key=lambda r: (r[0].key, r[1])), sorted(self.owners, key=lambda o: o.key))

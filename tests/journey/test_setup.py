"""The shop as its owner sets it up (journey/setup.py): settings, pickup points, promo codes and staff.

Every change is refused to anyone but an owner or the command line, refused with a message in both
languages when the value is wrong, and written with its audit entry; a refusal leaves everything as it was.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from journey_support import refused
from shop_fixtures import BARISTA, OWNER, customer

from journey.audit import CLI
from journey.catalog import OpeningHours
from journey.channels import Channel, CustomerRef
from journey.errors import DomainError, ErrorCode
from journey.model import CartLine, Promo, PromoKind
from journey.money import Money
from journey.promo_codes import PromoTerms, promo_terms

GUEST = customer(1)
VK_OWNER = CustomerRef(Channel.VK, "9")  # not an owner of this engine: only telegram:1 is


async def state(engine) -> tuple:
    """Everything this area may change: the settings, the points, every promo, staff, the audit log."""
    async with engine.read() as uow:
        settings = await uow.settings.all()
        return (settings, await uow.catalog.points(), await uow.promos.all(), await uow.staff.list(),
                [(c.action, c.target) for c in await uow.audit.recent(1000)])


async def last_change(engine):
    return (await engine.changes(OWNER, limit=1))[0]


# --- the shop's settings ----------------------------------------------------------------------------

@pytest.mark.parametrize("key, text, field, value", [
    ("name", "  Кофейня   на Пушкина ", "name", "Кофейня на Пушкина"),
    ("zone", "asia/novosibirsk", "timezone", "Asia/Novosibirsk"),
    ("timezone", "Europe/Kaliningrad", "timezone", "Europe/Kaliningrad"),
    ("earn", "7%", "earn_percent", 7),
    ("cap", "0", "redeem_cap_percent", 0),
    ("unpaid", "1", "unpaid_timeout_minutes", 1),
    ("accept", "0", "accept_timeout_minutes", 0),
    ("referral", "99,50", "referral_bonus", 9950),
    ("limit", "5", "max_open_orders", 5),
    ("earn_percent", "100", "earn_percent", 100),
])
async def test_an_owner_sets_each_rule_and_the_change_is_audited(engine, key, text, field, value):
    before = getattr((await engine.shop_view()).rules, field)
    view = await engine.change_shop(OWNER, key, text)
    assert getattr(view.rules, field) == value == getattr((await engine.shop_view()).rules, field)
    change = await last_change(engine)
    assert (change.actor, change.action, change.target) == ("telegram:1", "shop", f"shop:{field}")
    assert (change.before, change.after) == ({"value": before}, {"value": value})


async def test_the_description_is_kept_cleared_with_a_dash_and_a_same_value_writes_nothing(engine):
    await engine.change_shop(OWNER, "description", "Варим кофе с 2010 года")
    assert (await engine.shop_settings(OWNER)).description == "Варим кофе с 2010 года"
    log = len(await engine.changes(OWNER))
    await engine.change_shop(OWNER, "description", "Варим кофе с 2010 года")
    assert len(await engine.changes(OWNER)) == log
    assert (await engine.change_shop(OWNER, "description", "-")).description == ""
    assert (await last_change(engine)).before == {"value": "Варим кофе с 2010 года"}


@pytest.mark.parametrize("key, text, code, ru, en", [
    ("name", "   ", ErrorCode.SETTING_INVALID, "от 1 до 64", "1 to 64"),
    ("name", "К" * 65, ErrorCode.SETTING_INVALID, "от 1 до 64", "1 to 64"),
    ("description", "о" * 501, ErrorCode.SETTING_INVALID, "до 500", "0 to 500"),
    ("zone", "Mars/Olympus", ErrorCode.SETTING_INVALID, "Неизвестный часовой пояс", "Unknown time zone"),
    ("zone", "../../etc/passwd", ErrorCode.SETTING_INVALID, "Неизвестный часовой пояс", "Unknown time zone"),
    ("zone", "MSK+1", ErrorCode.SETTING_INVALID, "Неизвестный часовой пояс", "Unknown time zone"),
    ("earn", "101", ErrorCode.SETTING_INVALID, "от 0 до 100", "from 0 to 100"),
    ("earn", "-1", ErrorCode.SETTING_INVALID, "от 0 до 100", "from 0 to 100"),
    ("cap", "150", ErrorCode.SETTING_INVALID, "от 0 до 100", "from 0 to 100"),
    ("cap", "много", ErrorCode.SETTING_INVALID, "от 0 до 100", "from 0 to 100"),
    ("unpaid", "0", ErrorCode.SETTING_INVALID, "от 1 до 1440", "from 1 to 1440"),
    ("accept", "2.5", ErrorCode.SETTING_INVALID, "от 0 до 1440", "from 0 to 1440"),
    ("referral", "сто", ErrorCode.SETTING_INVALID, "в рублях", "rubles"),
    ("limit", "1000", ErrorCode.SETTING_INVALID, "от 0 до 100", "from 0 to 100"),
    ("colour", "red", ErrorCode.SETTING_UNKNOWN, "Такой настройки нет", "There is no setting"),
])
async def test_a_bad_value_is_refused_in_both_languages_and_nothing_changes(engine, key, text, code, ru, en):
    before = await state(engine)
    with refused(code) as e:
        await engine.change_shop(OWNER, key, text)
    assert ru in e.value.message("ru") and en in e.value.message("en")
    assert await state(engine) == before


async def test_only_owners_and_the_command_line_change_the_shop(engine):
    before = await state(engine)
    for stranger in (GUEST, BARISTA, VK_OWNER, CustomerRef(Channel("cli"), "someone")):
        for call in (engine.change_shop(stranger, "name", "Чужая"), engine.add_point(stranger, "new", "Новая"),
                     engine.change_point(stranger, "center", "prep", "20"), engine.end_promo(stranger, "NOPE"),
                     engine.create_promo(stranger, PromoTerms("FREE100", "100%")),
                     engine.add_staff(stranger, "*", actor=stranger),
                     engine.remove_staff(BARISTA, actor=stranger), engine.shop_settings(stranger),
                     engine.promos(stranger), engine.staff(stranger)):
            with refused(ErrorCode.NOT_OWNER):
                await call
    assert await state(engine) == before
    view = await engine.change_shop(CLI, "name", "Витрина на Пушкина")
    assert view.rules.name == "Витрина на Пушкина"
    assert (await last_change(engine)).actor == "cli:owner"


# --- pickup points ----------------------------------------------------------------------------------

async def test_a_point_is_added_with_its_hours_and_changed_field_by_field(engine):
    added = await engine.add_point(OWNER, "Lenina", "Витрина  на Ленина", "пр. Ленина, 1",
                                   "mon-fri 08:00-21:00; sat-sun 10:00-20:00", "12")
    assert (added.id, added.name, added.prep_minutes) == ("lenina", "Витрина на Ленина", 12)
    stored = (await engine.shop_view()).point("lenina")
    assert stored == added and stored.hours == OpeningHours.parse("mon-fri 08:00-21:00; sat-sun 10:00-20:00")
    change = await last_change(engine)
    assert (change.target, change.before, change.after["hours"]) == (
        "point:lenina", None, "mon-fri 08:00-21:00; sat-sun 10:00-20:00")

    await engine.change_point(OWNER, "lenina", "hours", "mon-sun 00:00-24:00")
    await engine.change_point(OWNER, "LENINA", "prep", "0")
    await engine.change_point(OWNER, "lenina", "name", "Ленина")
    await engine.change_point(OWNER, "lenina", "address", "пр. Ленина, 2")
    point = (await engine.shop_view()).point("lenina")
    assert (point.hours.format(), point.prep_minutes, point.name, point.address) == (
        "mon-sun 00:00-24:00", 0, "Ленина", "пр. Ленина, 2")
    log = await engine.changes(OWNER, limit=5)
    assert [c.after["address"] for c in log[:1]] == ["пр. Ленина, 2"]
    assert log[0].before["address"] == "пр. Ленина, 1"
    # the menu can count stock at the new point at once
    await engine.set_stock("lenina", "croissant", 4)
    assert (await engine.menu("lenina")).stock["croissant"] == 4


async def test_a_point_without_hours_opens_every_day_8_to_22_and_prepares_in_10_minutes(engine):
    point = await engine.add_point(CLI, "south", "Юг")
    assert (point.hours, point.prep_minutes, point.address) == (OpeningHours(), 10, "")


@pytest.mark.parametrize("call, code, en", [
    (lambda e: e.add_point(OWNER, "Центр", "Центр"), ErrorCode.POINT_INVALID, "lowercase latin letters"),
    (lambda e: e.add_point(OWNER, "new point", "Новая"), ErrorCode.POINT_INVALID, "lowercase latin letters"),
    (lambda e: e.add_point(OWNER, "center", "Ещё центр"), ErrorCode.POINT_EXISTS, "exists already"),
    (lambda e: e.add_point(OWNER, "new", "  "), ErrorCode.POINT_INVALID, "1 to 64"),
    (lambda e: e.add_point(OWNER, "new", "Новая", hours="пн-пт 8-21"), ErrorCode.POINT_INVALID, "not understood"),
    (lambda e: e.add_point(OWNER, "new", "Новая", hours="mon-fri 21:00-08:00"), ErrorCode.POINT_INVALID,
     "not understood"),
    (lambda e: e.add_point(OWNER, "new", "Новая", prep="241"), ErrorCode.POINT_INVALID, "0 to 240"),
    (lambda e: e.add_point(OWNER, "new", "Новая", prep="-5"), ErrorCode.POINT_INVALID, "0 to 240"),
    (lambda e: e.change_point(OWNER, "moon", "prep", "5"), ErrorCode.POINT_NOT_FOUND, "no such pickup point"),
    (lambda e: e.change_point(OWNER, "center", "hours", ""), ErrorCode.POINT_INVALID, "not understood"),
    (lambda e: e.change_point(OWNER, "center", "colour", "red"), ErrorCode.POINT_INVALID, "can be changed"),
    (lambda e: e.change_point(OWNER, "center", "address", "д" * 201), ErrorCode.POINT_INVALID, "at most 200"),
])
async def test_a_bad_point_is_refused_and_nothing_changes(engine, call, code, en):
    before = await state(engine)
    with refused(code) as e:
        await call(engine)
    assert en in e.value.message("en") and e.value.message("ru") != e.value.message("en")
    assert await state(engine) == before


# --- promo codes ------------------------------------------------------------------------------------

async def test_a_percent_code_with_uses_and_a_last_day_works_until_midnight_in_the_shops_zone(engine, clock):
    line = await engine.create_promo(OWNER, promo_terms(["spring10", "10%", "100", "until", "2026-11-20"]))
    promo = line.promo
    assert (promo.code, promo.kind, promo.value, promo.max_uses, line.status) == (
        "SPRING10", PromoKind.PERCENT, 10, 100, "active")
    assert promo.expires_at == datetime(2026, 11, 20, 21, 0, tzinfo=UTC)  # midnight in Moscow
    change = await last_change(engine)
    assert (change.target, change.before, change.after["value"]) == ("promo:SPRING10", None, 10)
    quote = await engine.quote(GUEST, [CartLine("espresso")], promo_code="spring10")
    assert quote.discount == Money(1500)
    clock.current = datetime(2026, 11, 20, 20, 59, tzinfo=UTC)  # 23:59 on the last day
    await engine.quote(GUEST, [CartLine("espresso")], promo_code="SPRING10")
    clock.current = datetime(2026, 11, 20, 21, 0, tzinfo=UTC)
    with refused(ErrorCode.PROMO_EXPIRED):
        await engine.quote(GUEST, [CartLine("espresso")], promo_code="SPRING10")
    assert [(p.promo.code, p.status) for p in await engine.promos(OWNER)] == [("SPRING10", "expired")]


async def test_a_fixed_code_in_rubles_and_the_last_day_follows_the_shops_zone(engine):
    await engine.change_shop(OWNER, "zone", "Asia/Novosibirsk")
    line = await engine.create_promo(CLI, promo_terms(["COFFEE150", "149,90", "до", "2026-12-31"]))
    assert (line.promo.kind, line.promo.value, line.promo.max_uses) == (PromoKind.FIXED, 14990, None)
    assert line.promo.expires_at == datetime(2026, 12, 31, 17, 0, tzinfo=UTC)
    view = await engine.shop_settings(OWNER)
    assert line.last_day(view.zone).isoformat() == "2026-12-31" and line.discount == "149,90 ₽"


@pytest.mark.parametrize("words, en", [
    (["AB1", "10%"], "4 to 32 latin letters"),
    (["ВЕСНА", "10%"], "4 to 32 latin letters"),
    (["SPRING", "0%"], "from 1 to 100"),
    (["SPRING", "150%"], "from 1 to 100"),
    (["SPRING", "0"], "above zero"),
    (["SPRING", "десять"], "above zero"),
    (["SPRING", "10%", "0"], "1 or more"),
    (["SPRING", "10%", "until", "2026-02-30"], "not understood"),
    (["SPRING", "10%", "until", "31.12.2026"], "not understood"),
    (["SPRING", "10%", "until", "2026-11-17"], "in the past"),
    (["SPRING", "10%", "5", "7"], "Not understood"),
    (["SPRING"], "Give a code and a discount"),
    (["WELCOME", "5%"], "exists (or existed) already"),
    (["welcome", "5%"], "exists (or existed) already"),
])
async def test_a_bad_promo_is_refused_and_nothing_changes(engine, words, en):
    await engine.save_promo(Promo("WELCOME", PromoKind.PERCENT, 10, max_uses=1000))
    before = await state(engine)
    with pytest.raises(DomainError) as e:
        await engine.create_promo(OWNER, promo_terms(words))
    assert en in e.value.message("en") and e.value.message("ru") != e.value.message("en")
    assert await state(engine) == before


async def test_ending_a_code_stops_it_keeps_its_uses_and_it_cannot_come_back_as_new(engine):
    await engine.save_promo(Promo("WELCOME", PromoKind.PERCENT, 10, max_uses=1000))
    view = await engine.place_order(GUEST, [CartLine("espresso")], "center", promo_code="WELCOME")
    ended = await engine.end_promo(OWNER, "welcome")
    assert (ended.promo.active, ended.promo.used, ended.status) == (False, 1, "ended")
    with refused(ErrorCode.PROMO_EXPIRED):
        await engine.quote(customer(2), [CartLine("espresso")], promo_code="WELCOME")
    assert (await engine.order_view(GUEST, view.order.id)).order.promo_code == "WELCOME"
    change = await last_change(engine)
    assert (change.action, change.target, change.before["active"], change.after["active"]) == (
        "promo_end", "promo:WELCOME", True, False)
    before = await state(engine)
    with refused(ErrorCode.PROMO_ENDED):
        await engine.end_promo(OWNER, "WELCOME")
    with refused(ErrorCode.PROMO_EXISTS):
        await engine.create_promo(OWNER, PromoTerms("WELCOME", "10%"))
    with refused(ErrorCode.PROMO_UNKNOWN):
        await engine.end_promo(OWNER, "NOSUCH")
    assert await state(engine) == before


async def test_the_list_shows_each_code_with_its_uses_and_status_active_first(engine, clock):
    await engine.save_promo(Promo("ONCE", PromoKind.FIXED, 5000, max_uses=1))
    await engine.create_promo(OWNER, PromoTerms("ZETA", "5%"))
    await engine.create_promo(OWNER, PromoTerms("ALPHA", "5%", until="2026-11-18"))
    await engine.create_promo(OWNER, PromoTerms("GONE", "300"))
    await engine.end_promo(OWNER, "GONE")
    await engine.place_order(GUEST, [CartLine("latte")], "center", promo_code="ONCE")
    clock.advance(days=1)
    listed = [(p.promo.code, p.promo.used, p.status) for p in await engine.promos(OWNER)]
    assert listed == [("ZETA", 0, "active"), ("ALPHA", 0, "expired"), ("GONE", 0, "ended"), ("ONCE", 1, "used_up")]


@pytest.mark.parametrize("words, terms", [
    (["A1B2", "10%"], PromoTerms("A1B2", "10%")),
    (["A1B2", "10%", "100"], PromoTerms("A1B2", "10%", "100")),
    (["A1B2", "150", "until", "2027-01-01", "5"], PromoTerms("A1B2", "150", "5", "2027-01-01")),
    (["A1B2", "150", "2027-01-01"], PromoTerms("A1B2", "150", None, "2027-01-01")),
    (["A1B2", "10%", "20", "до", "2027-01-01"], PromoTerms("A1B2", "10%", "20", "2027-01-01")),
])
def test_the_promo_grammar_takes_uses_and_the_last_day_in_any_order(words, terms):
    assert promo_terms(words) == terms


# --- staff ------------------------------------------------------------------------------------------

async def test_an_owner_adds_and_removes_staff_and_each_change_is_audited(engine):
    newcomer = CustomerRef(Channel.VK, "77")
    await engine.add_staff(newcomer, "park", actor=OWNER)
    await engine.add_staff(newcomer, "center", actor=OWNER)
    await engine.add_staff(newcomer, "center", actor=OWNER)  # already: nothing to log
    listed = (await engine.staff(OWNER)).staff
    assert [(r.key, p) for r, p in listed] == [("telegram:2", "center"), ("vk:77", "center"), ("vk:77", "park")]
    log = await engine.changes(OWNER, limit=2)
    assert [(c.action, c.target, c.before, c.after) for c in log] == [
        ("staff", "staff:vk:77", {"points": ["park"]}, {"points": ["center", "park"]}),
        ("staff", "staff:vk:77", None, {"points": ["park"]})]
    assert await engine.remove_staff(newcomer, "park", actor=OWNER) == 1
    assert await engine.remove_staff(newcomer, actor=OWNER) == 1
    assert await engine.remove_staff(newcomer, actor=OWNER) == 0
    log = await engine.changes(OWNER, limit=2)
    assert [(c.before, c.after) for c in log] == [({"points": ["center"]}, None),
                                                  ({"points": ["center", "park"]}, {"points": ["center"]})]
    assert [r.key for r, _ in (await engine.staff(OWNER)).staff] == ["telegram:2"]
    assert [o.key for o in (await engine.staff(OWNER)).owners] == ["telegram:1"]


async def test_staff_at_an_unknown_point_is_refused_and_nothing_changes(engine):
    before = await state(engine)
    with refused(ErrorCode.POINT_NOT_FOUND):
        await engine.add_staff(CustomerRef(Channel.VK, "77"), "moon", actor=OWNER)
    assert await state(engine) == before


async def test_an_unparseable_account_is_refused_in_both_languages():
    from journey.setup import parse_account
    for text in ("icq:1", "telegram", "telegram:"):
        with pytest.raises(DomainError) as e:
            parse_account(text)
        assert e.value.code is ErrorCode.ACCOUNT_INVALID
        assert "channel:id" in e.value.message("en") and "канал:id" in e.value.message("ru")


async def test_the_clock_of_a_last_day_is_the_shops_own(engine, clock):
    """A code ending today is still accepted: a date before today in the shop's zone is refused."""
    clock.current = datetime(2026, 11, 18, 21, 30, tzinfo=UTC)  # already the 19th in Moscow
    with refused(ErrorCode.PROMO_INVALID):
        await engine.create_promo(OWNER, PromoTerms("LATE", "5%", until="2026-11-18"))
    line = await engine.create_promo(OWNER, PromoTerms("LATE", "5%", until="2026-11-19"))
    assert line.promo.expires_at - clock.now() == timedelta(hours=23, minutes=30)

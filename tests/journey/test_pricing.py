"""Prices are computed on the server from ids and quantities, and round in the customer's favour.

Options add their deltas and a required group defaults to its first option; a percent discount rounds
up to the kopeck (the customer pays the rounded-down amount); a fixed promo never exceeds the subtotal;
promo codes expire, run out and are used once per customer; points are capped at a share of what is
payable (rounded up) and by the balance. Property tests check the arithmetic identities on random carts.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from journey_support import ITEMS as MENU
from journey_support import customer, give_points, refused

from journey import pricing
from journey.catalog import Item
from journey.errors import ErrorCode
from journey.model import CartLine, Promo, PromoKind, ShopRules
from journey.money import XTR, Money

ITEMS = {i.id: i for i in MENU}
RULES = ShopRules()


def price(cart, *, promo=None, balance=0, points=0, items=ITEMS, rules=RULES):
    return pricing.quote(items, cart, rules, promo=promo, balance=balance, points=points)


# --- lines and options -----------------------------------------------------------------------------

def test_option_deltas_add_up():
    line = CartLine("latte", 2, {"size": ("l",), "milk": ("oat",), "syrup": ("vanilla", "caramel")})
    q = price([line])
    (priced,) = q.lines
    assert priced.unit_price == Money(25000 + 8000 + 6000 + 3000 + 3000)
    assert priced.options == ("L", "Овсяное", "Ваниль", "Карамель")
    assert priced.option_ids == {"size": ("l",), "milk": ("oat",), "syrup": ("vanilla", "caramel")}
    assert q.subtotal == Money(2 * 45000) and q.total == q.subtotal


def test_required_group_defaults_to_its_first_option_and_optional_groups_stay_empty():
    (priced,) = price([CartLine("latte")]).lines
    assert priced.option_ids == {"size": ("s",)}
    assert priced.options == ("S",) and priced.unit_price == Money(25000)


def test_a_repeated_choice_counts_once():
    (priced,) = price([CartLine("latte", 1, {"syrup": ("vanilla", "vanilla")})]).lines
    assert priced.unit_price == Money(28000)


@pytest.mark.parametrize("options", [
    {"sugar": ("yes",)},  # unknown group
    {"size": ("xl",)},  # unknown option
    {"size": ("s", "m")},  # two choices in a single-choice group
    {"milk": ("oat", "almond")},
    {"syrup": ("vanilla", "honey")},
])
def test_bad_options_are_refused(options):
    with refused(ErrorCode.BAD_OPTION):
        price([CartLine("latte", 1, options)])


@pytest.mark.parametrize("quantity", [0, -1, 100, 1.5, "2"])
def test_bad_quantities_are_refused(quantity):
    with refused(ErrorCode.BAD_QUANTITY):
        price([CartLine("espresso", quantity)])


def test_empty_cart_unknown_and_unavailable_items_are_refused():
    with refused(ErrorCode.EMPTY_CART):
        price([])
    with refused(ErrorCode.ITEM_NOT_FOUND):
        price([CartLine("borscht")])
    hidden = {**ITEMS, "espresso": Item("espresso", "coffee", "Эспрессо", Money(15000), available=False)}
    with refused(ErrorCode.ITEM_UNAVAILABLE):
        price([CartLine("espresso")], items=hidden)
    with refused(ErrorCode.BAD_QUANTITY):
        price([CartLine("espresso")] * (pricing.MAX_LINES + 1))


def test_items_in_different_currencies_cannot_share_an_order():
    stars = {**ITEMS, "sticker": Item("sticker", "merch", "Стикер", Money(50, XTR))}
    assert price([CartLine("sticker", 3)], items=stars).total == Money(150, XTR)
    with refused(ErrorCode.BAD_INPUT):
        price([CartLine("sticker"), CartLine("espresso")], items=stars)


# --- promo codes -----------------------------------------------------------------------------------

@pytest.mark.parametrize("percent, discount", [(10, 1699), (15, 2549), (33, 5607), (100, 16990)])
def test_percent_discount_rounds_up_so_the_customer_pays_the_rounded_down_amount(percent, discount):
    q = price([CartLine("eclair")], promo=Promo("P", PromoKind.PERCENT, percent))
    assert q.discount == Money(discount)  # 15% of 169.90 = 25.485 -> 25.49
    assert q.total == Money(16990 - discount)
    assert q.promo_code == "P"


def test_fixed_promo_is_capped_at_the_subtotal():
    assert price([CartLine("espresso")], promo=Promo("F", PromoKind.FIXED, 5000)).total == Money(10000)
    q = price([CartLine("espresso")], promo=Promo("F", PromoKind.FIXED, 50000))
    assert q.discount == Money(15000) and q.total == Money(0) and q.points_cap == 0


async def test_promo_codes_through_the_engine(engine, clock):
    await engine.save_promo(Promo("AUTUMN", PromoKind.PERCENT, 10))
    q = await engine.quote(customer(1), [CartLine("eclair")], promo_code=" autumn ")
    assert (q.discount, q.total, q.promo_code) == (Money(1699), Money(15291), "AUTUMN")
    with refused(ErrorCode.PROMO_UNKNOWN):
        await engine.quote(customer(1), [CartLine("eclair")], promo_code="WINTER")


async def test_an_expired_or_switched_off_promo_is_refused(engine, clock):
    await engine.save_promo(Promo("SOON", PromoKind.FIXED, 1000, expires_at=clock.now() + timedelta(hours=1)))
    await engine.save_promo(Promo("OFF", PromoKind.FIXED, 1000, active=False))
    assert (await engine.quote(customer(1), [CartLine("eclair")], promo_code="SOON")).discount == Money(1000)
    clock.advance(hours=1)
    with refused(ErrorCode.PROMO_EXPIRED):
        await engine.quote(customer(1), [CartLine("eclair")], promo_code="SOON")
    with refused(ErrorCode.PROMO_EXPIRED):
        await engine.quote(customer(1), [CartLine("eclair")], promo_code="OFF")


async def test_an_exhausted_promo_is_refused(engine):
    await engine.save_promo(Promo("ONE", PromoKind.PERCENT, 20, max_uses=1, once_per_customer=False))
    await engine.place_order(customer(1), [CartLine("eclair")], "center", promo_code="ONE")
    with refused(ErrorCode.PROMO_EXHAUSTED):
        await engine.place_order(customer(2), [CartLine("eclair")], "center", promo_code="ONE")
    async with engine.uow() as uow:
        assert (await uow.promos.get("ONE")).used == 1


async def test_a_promo_is_used_once_per_customer(engine):
    await engine.save_promo(Promo("HELLO", PromoKind.FIXED, 3000))
    await engine.save_promo(Promo("MANY", PromoKind.FIXED, 3000, once_per_customer=False))
    await engine.place_order(customer(1), [CartLine("eclair")], "center", promo_code="HELLO")
    with refused(ErrorCode.PROMO_ALREADY_USED):
        await engine.place_order(customer(1), [CartLine("eclair")], "center", promo_code="HELLO")
    second = await engine.place_order(customer(2), [CartLine("eclair")], "center", promo_code="HELLO")
    assert second.order.discount == Money(3000)
    for _ in range(2):
        view = await engine.place_order(customer(1), [CartLine("eclair")], "center", promo_code="MANY")
        assert view.order.discount == Money(3000)


# --- points ----------------------------------------------------------------------------------------

def test_points_are_capped_at_a_share_of_what_is_payable_rounded_up():
    promo = Promo("P", PromoKind.PERCENT, 10)  # 169.90 - 16.99 = 152.91 payable; 30% = 45.873 -> 45.88
    q = price([CartLine("eclair")], promo=promo, balance=100_000, points=4588)
    assert (q.points_cap, q.points_spent, q.total) == (4588, 4588, Money(15291 - 4588))
    with refused(ErrorCode.POINTS_OVER_CAP):
        price([CartLine("eclair")], promo=promo, balance=100_000, points=4589)


def test_the_cap_never_exceeds_the_balance_and_spending_more_than_it_is_refused():
    assert price([CartLine("eclair")], balance=700).points_cap == 700
    with refused(ErrorCode.POINTS_INSUFFICIENT):
        price([CartLine("eclair")], balance=700, points=701)
    with refused(ErrorCode.BAD_INPUT):
        price([CartLine("eclair")], balance=700, points=-1)


def test_the_cap_follows_the_shop_rule():
    rules = ShopRules(redeem_cap_percent=50)
    assert price([CartLine("eclair")], balance=100_000, rules=rules).points_cap == 8495
    assert price([CartLine("eclair")], balance=100_000, rules=ShopRules(redeem_cap_percent=0)).points_cap == 0


async def test_points_never_pay_more_than_is_payable_even_when_the_rule_allows_it(engine):
    await engine.set_rules(redeem_cap_percent=150)
    await give_points(engine, customer(1), 100_000)
    q = await engine.quote(customer(1), [CartLine("espresso")], points=15000)
    assert (q.points_cap, q.total) == (15000, Money(0))
    with refused(ErrorCode.POINTS_OVER_CAP):
        await engine.quote(customer(1), [CartLine("espresso")], points=15001)
    view = await engine.place_order(customer(1), [CartLine("espresso")], "center", points=15000)
    assert view.order.total == Money(0)


async def test_points_through_the_engine(engine):
    await give_points(engine, customer(1), 1000)
    q = await engine.quote(customer(1), [CartLine("espresso")], points=1000)
    assert q.total == Money(14000) and q.points_cap == 1000
    with refused(ErrorCode.POINTS_INSUFFICIENT):
        await engine.quote(customer(1), [CartLine("espresso")], points=1001)
    with refused(ErrorCode.POINTS_INSUFFICIENT):
        await engine.quote(customer(2), [CartLine("espresso")], points=1)
    await give_points(engine, customer(2), 100_000)
    with refused(ErrorCode.POINTS_OVER_CAP):
        await engine.quote(customer(2), [CartLine("espresso")], points=4501)


@pytest.mark.parametrize("paid, earned", [(16990, 849), (15291, 764), (19, 0), (20, 1), (0, 0)])
def test_points_earned_round_down(paid, earned):
    assert pricing.points_earned(Money(paid), RULES) == earned


# --- properties ------------------------------------------------------------------------------------

def _choice(group):
    ids = [o.id for o in group.options]
    if group.multiple:
        return st.lists(st.sampled_from(ids), max_size=len(ids)).map(tuple)
    return st.one_of(st.just(()), st.sampled_from(ids).map(lambda i: (i,)))


@st.composite
def cart_lines(draw):
    item = draw(st.sampled_from(list(ITEMS.values())))
    options = {g.id: draw(_choice(g)) for g in item.option_groups}
    return CartLine(item.id, draw(st.integers(1, pricing.MAX_QUANTITY)), {k: v for k, v in options.items() if v})


promos = st.one_of(
    st.none(),
    st.integers(1, 100).map(lambda v: Promo("PCT", PromoKind.PERCENT, v)),
    st.integers(1, 10_000_000).map(lambda v: Promo("FIX", PromoKind.FIXED, v)),
)


@settings(max_examples=300, deadline=None)
@given(cart=st.lists(cart_lines(), min_size=1, max_size=8), promo=promos, balance=st.integers(0, 10_000_000),
       cap_percent=st.integers(0, 200), share=st.fractions(0, 1))
def test_totals_add_up(cart, promo, balance, cap_percent, share):
    rules = ShopRules(redeem_cap_percent=cap_percent)
    cap = price(cart, promo=promo, balance=balance, rules=rules).points_cap
    points = int(cap * share)
    q = price(cart, promo=promo, balance=balance, points=points, rules=rules)
    amounts = (q.subtotal.amount, q.discount.amount, q.points_spent, q.total.amount, q.points_cap)
    assert all(type(a) is int for a in amounts)
    assert q.total.amount == q.subtotal.amount - q.discount.amount - q.points_spent
    assert q.total.amount >= 0
    assert 0 <= q.discount.amount <= q.subtotal.amount
    assert q.points_spent == points <= q.points_cap <= balance
    assert q.subtotal.amount == sum(l.unit_price.amount * l.quantity for l in q.lines)
    if promo is not None and promo.kind is PromoKind.PERCENT:
        exact = q.subtotal.amount * promo.value  # in hundredths of a kopeck
        assert q.discount.amount * 100 >= exact > (q.discount.amount - 1) * 100
    payable = q.subtotal.amount - q.discount.amount
    assert q.points_cap == min(balance, payable, -(-payable * cap_percent // 100))

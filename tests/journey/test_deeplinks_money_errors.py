"""Small contracts: the deep-link grammar, money arithmetic and rubles parsing, and the error messages.

A start parameter is parsed into its kind (p, t, r, g, s); anything malformed, too long or unknown is
LinkKind.UNKNOWN and never an exception. Money is integer minor units that refuse floats and mixed
currencies. Every error code speaks Russian and English.
"""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from journey.deeplinks import LinkKind, parse_start
from journey.errors import DomainError, ErrorCode
from journey.money import RUB, XTR, Money, format_rubles, parse_rubles

# --- deep links ------------------------------------------------------------------------------------

@pytest.mark.parametrize("param, kind, fields, label", [
    ("pcenter", LinkKind.POINT, {"point_id": "center"}, "qr:center"),
    ("p7", LinkKind.POINT, {"point_id": "7"}, "qr:7"),
    ("tcenter_12", LinkKind.TABLE, {"point_id": "center", "table": "12"}, "table:center:12"),
    ("tpark_A3", LinkKind.TABLE, {"point_id": "park", "table": "A3"}, "table:park:A3"),
    ("rAb3_x-9", LinkKind.REFERRAL, {"code": "Ab3_x-9"}, "ref:Ab3_x-9"),
    ("gGIFT2026", LinkKind.GIFT, {"code": "GIFT2026"}, "gift:GIFT2026"),
    ("s2gis", LinkKind.SOURCE, {"source": "2gis"}, "2gis"),
    ("syamaps", LinkKind.SOURCE, {"source": "yamaps"}, "yamaps"),
    ("r" + "x" * 63, LinkKind.REFERRAL, {"code": "x" * 63}, "ref:" + "x" * 63),
])
def test_deep_link_kinds(param, kind, fields, label):
    link = parse_start(param)
    assert (link.raw, link.kind, link.label) == (param, kind, label)
    for name, value in fields.items():
        assert getattr(link, name) == value


@pytest.mark.parametrize("param", [
    "p", "pCenter", "p-center", "p center", "tcenter", "tcenter_", "t_12", "tCenter_1", "tcenter_" + "1" * 17,
    "r", "g", "s", "x123", "P123", "r" + "x" * 64, "s" + "a" * 100, "p" * 65, "привет", "pcenter?x=1",
    "../../etc", "s2gis;drop", "\x00", " pcenter", "pcenter\n",
])
def test_malformed_deep_links_are_unknown(param):
    link = parse_start(param)
    assert link.kind is LinkKind.UNKNOWN
    assert len(link.raw) <= 64 and link.label.startswith("unknown:")
    assert link.point_id is link.code is link.source is None


def test_no_parameter_is_no_link():
    assert parse_start(None) is None and parse_start("") is None


@given(st.text(max_size=200))
def test_any_text_parses_without_an_exception(text):
    link = parse_start(text)
    if text:
        assert link.kind in LinkKind and len(link.raw) <= 64
        assert link.label  # always something to record


# --- money -----------------------------------------------------------------------------------------

def test_money_arithmetic():
    a, b = Money(24990), Money(1010)
    assert a + b == Money(26000) and a - b == Money(23980) and b * 3 == Money(3030)
    assert Money.zero() == Money(0, RUB) and Money(5) < Money(6)
    assert Money(16990).percent_down(15) == Money(2548)
    assert Money(50, XTR) + Money(1, XTR) == Money(51, XTR)


def test_money_refuses_floats_bools_and_mixed_currencies():
    with pytest.raises(TypeError):
        Money(249.9)
    with pytest.raises(TypeError):
        Money(True)
    with pytest.raises(TypeError):
        Money(100) * 1.5
    with pytest.raises(ValueError):
        Money(100) + Money(100, XTR)
    with pytest.raises(ValueError):
        Money(100) - Money(100, XTR)


@pytest.mark.parametrize("money, text", [(Money(25000), "250 ₽"), (Money(24990), "249,90 ₽"),
                                         (Money(5), "0,05 ₽"), (Money(42, XTR), "42 ⭐")])
def test_money_format(money, text):
    assert str(money) == money.format() == text


@pytest.mark.parametrize("text, kopecks", [("250", 25000), ("249.90", 24990), ("249,90", 24990), ("249.9", 24990),
                                           ("0", 0), ("0,05", 5), (" 1 250 ", 125000), ("1\u00a0250,50", 125050)])
def test_parse_rubles(text, kopecks):
    assert parse_rubles(text) == kopecks


@pytest.mark.parametrize("text", ["12x", "-5", "1.234", "", " ", "1,2,3", "1.", ".5", "1e3", "₽250", "2 50.0.0",
                                  "nan", "1234567890"])
def test_parse_rubles_refuses(text):
    with pytest.raises(ValueError, match="rubles"):
        parse_rubles(text)


@given(st.integers(0, 999_999_999_99))
def test_format_rubles_parses_back(kopecks):
    assert parse_rubles(format_rubles(kopecks)) == kopecks


# --- error messages --------------------------------------------------------------------------------

@pytest.mark.parametrize("code", list(ErrorCode), ids=lambda c: c.value)
def test_every_error_code_speaks_russian_and_english(code):
    ru, en = code.message("ru"), code.message("en")
    assert ru.strip() and en.strip() and ru != en
    assert any("а" <= ch.lower() <= "я" for ch in ru), "the Russian message is in Cyrillic"
    assert en.isascii()
    assert code.message() == ru
    assert 400 <= code.http_status < 500
    error = DomainError(code, "detail")
    assert error.code is code and error.message("en") == en and code.value in str(error)

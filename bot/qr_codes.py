"""Printable QR codes: which start parameter and caption each kind of code carries."""
from __future__ import annotations

from journey.deeplinks import LinkKind, parse_start

_PREFIX = {"counter": ("p", LinkKind.POINT), "table": ("t", LinkKind.TABLE), "referral": ("r", LinkKind.REFERRAL),
           "gift": ("g", LinkKind.GIFT), "source": ("s", LinkKind.SOURCE)}
_CAPTION = {"counter": "Закажите здесь — заберите без очереди", "table": "Стол {table}: закажите со смартфона",
            "referral": "Приглашение: заберите первый заказ — и вы с другом получите баллы",
            "gift": "Вам подарок!", "source": "Закажите онлайн"}


class QrError(ValueError):
    pass


def qr_param(kind: str, value: str, table: str | None = None, caption: str | None = None) -> tuple[str, str]:
    """The start parameter for a code of this kind, checked against the deep-link grammar, and its caption."""
    prefix, expected = _PREFIX[kind]
    if kind == "table":
        if not table:
            raise QrError("a table code needs the table number: vitrina qr table <point> <table>")
        param = f"t{value}_{table}"
    else:
        param = f"{prefix}{value}"
    link = parse_start(param)
    if link is None or link.kind is not expected:
        raise QrError(f"{value!r} does not make a valid {kind} link ({param!r}): ids are [a-z0-9], codes [A-Za-z0-9_-]")
    return param, caption if caption is not None else _CAPTION[kind].format(table=table)

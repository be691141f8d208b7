"""Money: integer minor units plus a currency code. No floats anywhere."""
from __future__ import annotations

import re
from dataclasses import dataclass

RUB = "RUB"  # kopecks
XTR = "XTR"  # Telegram Stars, no minor unit

_RUBLES = re.compile(r"^(?P<int>\d{1,9})(?:[.,](?P<frac>\d{1,2}))?$")


@dataclass(frozen=True, slots=True, order=True)
class Money:
    amount: int
    currency: str = RUB

    def __post_init__(self) -> None:
        if not isinstance(self.amount, int) or isinstance(self.amount, bool):
            raise TypeError(f"money amount must be int minor units, got {self.amount!r}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __mul__(self, times: int) -> Money:
        if not isinstance(times, int):
            raise TypeError("money is multiplied by whole quantities only")
        return Money(self.amount * times, self.currency)

    def _same(self, other: Money) -> None:
        if self.currency != other.currency:
            raise ValueError(f"currency mismatch: {self.currency} and {other.currency}")

    def percent_down(self, percent: int) -> Money:
        """``percent`` % of this amount, rounded down (the discount never exceeds the exact share)."""
        return Money(self.amount * percent // 100, self.currency)

    def format(self) -> str:
        if self.currency == XTR:
            return f"{self.amount} ⭐"
        rub, kop = divmod(self.amount, 100)
        return f"{rub} ₽" if kop == 0 else f"{rub},{kop:02d} ₽"

    def __str__(self) -> str:
        return self.format()

    @classmethod
    def zero(cls, currency: str = RUB) -> Money:
        return cls(0, currency)


def parse_rubles(text: str) -> int:
    """``"250"``, ``"249.90"`` or ``"249,90"`` -> kopecks. Raises ValueError with a readable reason."""
    value = str(text).strip().replace(" ", "").replace("\u00a0", "")
    match = _RUBLES.match(value)
    if not match:
        raise ValueError(f"not a price in rubles: {text!r} (expected 250, 249.90 or 249,90)")
    frac = (match["frac"] or "").ljust(2, "0")
    return int(match["int"]) * 100 + int(frac or 0)


def format_rubles(kopecks: int) -> str:
    """Kopecks -> the shortest menu-file form that parses back to the same value: ``250`` or ``249.90``."""
    rub, kop = divmod(kopecks, 100)
    return str(rub) if kop == 0 else f"{rub}.{kop:02d}"

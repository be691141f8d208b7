"""54-FZ receipts sent with YooKassa payments and refunds (for shops whose online cash register is connected
through YooKassa).

A receipt's items must add up to the payment exactly, kopeck for kopeck, while an order's lines add up to
its subtotal before the promo discount and the points. The payment is shared among the lines in proportion
to their totals (whole kopecks, the odd ones to the largest remainders, earlier lines first on a tie), and a
line whose share does not divide by its quantity becomes two items: some units at one price and the rest a
kopeck dearer. Only integers are used, so the sums are exact.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from journey.model import Order, OrderLine

from .client import from_value, money

MAX_TEXT = 128  # YooKassa's longest item description
PREPAYMENT = "full_prepayment"  # paid now, the goods handed over at pick-up
COMMODITY = "commodity"


def allocate(weights: Sequence[int], total: int) -> list[int]:
    """``total`` shared in proportion to ``weights`` (non-negative, not all zero), summing to it exactly."""
    whole = sum(weights)
    if whole <= 0 or any(w < 0 for w in weights):
        raise ValueError(f"cannot share by weights {list(weights)!r}")
    shares = [w * total // whole for w in weights]
    left = total - sum(shares)  # fewer than len(weights): each floor lost less than one
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(weights[i] * total % whole), i))
    for i in by_remainder[:left]:
        shares[i] += 1
    return shares


def describe(line: OrderLine) -> str:
    name = line.name.strip() or "Товар"
    options = ", ".join(option for option in line.options if option)
    return (f"{name} ({options})" if options else name)[:MAX_TEXT]


def item(description: str, quantity: int, unit: int, currency: str, vat_code: int,
         mode: str = PREPAYMENT) -> dict[str, Any]:
    return {"description": description[:MAX_TEXT] or "Товар", "quantity": f"{quantity}.00",
            "amount": money(unit, currency), "vat_code": vat_code, "payment_mode": mode,
            "payment_subject": COMMODITY}


def line_items(description: str, quantity: int, total: int, currency: str, vat_code: int,
               mode: str = PREPAYMENT) -> list[dict[str, Any]]:
    """``quantity`` units costing ``total`` together: one item, or two when the units' prices differ by
    a kopeck. Units left at no price at all are not listed."""
    unit, dearer = divmod(total, quantity)
    parts = [(quantity - dearer, unit), (dearer, unit + 1)]
    return [item(description, count, price, currency, vat_code, mode) for count, price in parts if count and price]


def payment_receipt(order: Order, amount: int, currency: str, email: str, vat_code: int,
                    fallback: str) -> dict[str, Any]:
    """The receipt of a payment of ``amount`` for ``order``; ``fallback`` names the single item of an
    order without priced lines."""
    lines = [line for line in order.lines if line.quantity > 0 and line.total.amount > 0]
    items: list[dict[str, Any]] = []
    if lines:
        for line, share in zip(lines, allocate([line.total.amount for line in lines], amount), strict=True):
            items += line_items(describe(line), line.quantity, share, currency, vat_code)
    else:
        items = [item(fallback, 1, amount, currency, vat_code)]
    return {"customer": {"email": email}, "items": items}


def refund_receipt(description: str, amount: int, currency: str, email: str, vat_code: int,
                   mode: str = PREPAYMENT) -> dict[str, Any]:
    """The receipt of a refund: one item, what the payment was for, at the amount given back."""
    return {"customer": {"email": email}, "items": [item(description, 1, amount, currency, vat_code, mode)]}


def items_total(receipt: dict[str, Any]) -> int:
    """What a receipt's items add up to, in minor units (whole quantities only, as ours are)."""
    total = 0
    for entry in receipt["items"]:
        whole, _, fraction = str(entry["quantity"]).partition(".")
        if fraction.strip("0"):
            raise ValueError(f"not a whole quantity: {entry['quantity']!r}")
        total += int(whole) * from_value(entry["amount"]["value"])
    return total

"""``journey.ports.PaymentProvider`` for YooKassa: payments held at checkout (``capture: false``), captured
when the order is handed over, released when it is cancelled, refunded after capture.

Every POST carries an ``Idempotence-Key`` made of our payment id and the operation, so a request repeated
after a crash or a lost answer is the same request and YooKassa does it once. What a payment is comes only
from YooKassa's payment object, mapped to our statuses:

=========================  =====================================================================
YooKassa                   ours
=========================  =====================================================================
pending                    pending (the customer has not paid yet)
waiting_for_capture        authorized (the money is held)
succeeded                  captured; refunded when ``refunded_amount`` is the whole amount
canceled                   voided when a hold was released (``canceled_by_merchant``,
                           ``expired_on_capture``); failed otherwise (declined, abandoned)
=========================  =====================================================================
"""
from __future__ import annotations

import logging
from typing import Any

from journey.model import PaymentIntent
from journey.money import Money
from journey.ports import Checkout, PaymentResult, PaymentUnavailable
from journey.states import PaymentStatus

from .client import TIMEOUT, Refused, YookassaClient, from_value, idempotence_key, money
from .receipts import MAX_TEXT, items_total, payment_receipt, refund_receipt

log = logging.getLogger(__name__)

API_BASE = "https://api.yookassa.ru/v3/"
RECEIPT_EMAIL = "receipt_email"  # kept in the payment's metadata: a refund's receipt goes to the same address
RELEASED = frozenset({"canceled_by_merchant", "expired_on_capture"})  # a hold let go, not a payment refused
STATUSES = {"pending": PaymentStatus.PENDING, "waiting_for_capture": PaymentStatus.AUTHORIZED,
            "succeeded": PaymentStatus.CAPTURED}


def result_of(payment: dict[str, Any]) -> PaymentResult:
    """Our reading of YooKassa's payment object; ``PaymentUnavailable`` for one we cannot read."""
    try:
        ref = payment["id"]
        said = payment["status"]
        amount = from_value(payment["amount"]["value"])
        refunded = from_value((payment.get("refunded_amount") or {}).get("value", "0"))
        if not isinstance(ref, str) or not ref:
            raise ValueError("no payment id")
        if said == "canceled":
            reason = (payment.get("cancellation_details") or {}).get("reason")
            status = PaymentStatus.VOIDED if reason in RELEASED else PaymentStatus.FAILED
        else:
            status = STATUSES[said]
        if status is PaymentStatus.CAPTURED and refunded >= amount > 0:
            status = PaymentStatus.REFUNDED
        url = (payment.get("confirmation") or {}).get("confirmation_url")
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise PaymentUnavailable(f"YooKassa's payment object cannot be read: {e!r}") from e
    return PaymentResult(status, ref, confirmation_url=url if isinstance(url, str) and url else None,
                         refunded=refunded, amount=amount)


class YookassaProvider:
    """YooKassa through its HTTP API (no SDK). ``receipts``: 54-FZ receipts go with payments and refunds,
    every item with ``vat_code`` (YooKassa's code: 1 no VAT ... 6 20/120)."""

    name = "yookassa"
    online = True
    two_stage = True
    link = "confirmation_url"

    def __init__(self, shop_id: str, secret_key: str, api_base: str = API_BASE, *, receipts: bool = False,
                 vat_code: int = 1, timeout: float = TIMEOUT) -> None:
        self.client = YookassaClient(shop_id, secret_key, api_base, timeout=timeout)
        self.receipts = receipts
        self.vat_code = vat_code

    @property
    def needs_email(self) -> bool:
        """A receipt goes to the customer's e-mail."""
        return self.receipts

    async def close(self) -> None:
        await self.client.close()

    # -- the port ------------------------------------------------------------------------------------

    async def start(self, intent: PaymentIntent, checkout: Checkout) -> PaymentResult:
        """A payment held on the customer's card once they pay on YooKassa's page (``confirmation_url``)."""
        if not checkout.return_url:
            return PaymentResult(PaymentStatus.FAILED, error="YooKassa needs the address the customer comes back "
                                                             "to after paying: the order has none")
        amount = intent.amount
        description = (checkout.description or f"Заказ {checkout.order.short_code}")[:MAX_TEXT]
        metadata = {"order_id": checkout.order.id, "payment_id": intent.id}
        body: dict[str, Any] = {
            "amount": money(amount.amount, amount.currency), "capture": False,
            "confirmation": {"type": "redirect", "return_url": checkout.return_url},
            "description": description, "metadata": metadata}
        if self.receipts:
            if not checkout.email:
                return PaymentResult(PaymentStatus.FAILED, error="a receipt needs the customer's e-mail")
            receipt = payment_receipt(checkout.order, amount.amount, amount.currency, checkout.email,
                                      self.vat_code, description)
            if items_total(receipt) != amount.amount:  # allocate() makes this impossible; never send a wrong one
                raise AssertionError(f"receipt of {intent.id} adds up to {items_total(receipt)}, not {amount}")
            body["receipt"] = receipt
            metadata[RECEIPT_EMAIL] = checkout.email
        try:
            payment = await self.client.post("payments", body=body, key=idempotence_key(intent.id, "create"))
        except Refused as e:
            return PaymentResult(PaymentStatus.FAILED, error=str(e))
        return result_of(payment)

    async def status(self, intent: PaymentIntent) -> PaymentResult:
        """YooKassa's payment again. A payment whose YooKassa id we never learned answers our own status.
        Keys YooKassa refuses raise ``PaymentUnavailable``: nothing could be asked, so reconcile reports it
        and a notification is answered 503 and repeated once the keys are fixed."""
        if not intent.provider_ref:
            return self._ours(intent)
        try:
            return result_of(await self.client.get("payments", intent.provider_ref))
        except Refused as e:
            if e.credentials:
                raise PaymentUnavailable(str(e)) from e
            return self._ours(intent, str(e))

    async def capture(self, intent: PaymentIntent) -> PaymentResult:
        """Take the held amount (the whole of it)."""
        if not intent.provider_ref:
            return self._ours(intent, "no YooKassa payment to capture")
        return await self._post(intent, ("payments", intent.provider_ref, "capture"),
                                {"amount": money(intent.amount.amount, intent.amount.currency)}, "capture")

    async def void(self, intent: PaymentIntent) -> PaymentResult:
        """Release the hold (YooKassa cancels only a payment waiting for capture)."""
        if not intent.provider_ref:
            return self._ours(intent, "no YooKassa payment to cancel")
        return await self._post(intent, ("payments", intent.provider_ref, "cancel"), {}, "cancel")

    async def refund(self, intent: PaymentIntent, amount: Money) -> PaymentResult:
        """Give back ``amount``; the answer is the payment as YooKassa counts it afterwards."""
        if not intent.provider_ref:
            return self._ours(intent, "no YooKassa payment to refund")
        # what was refunded before and how much now: the same refund asked again is the same request, the
        # next part of a refund a new one
        key = idempotence_key(intent.id, "refund", intent.refunded, amount.amount)
        try:
            return await self._refund(intent.provider_ref, amount, key)
        except Refused as e:
            return self._ours(intent, str(e))

    async def refund_payment(self, payment_id: str, amount: Money, key: str) -> PaymentResult:
        """Refund a payment made elsewhere through this shop: a Telegram charge, whose
        ``provider_payment_charge_id`` is YooKassa's payment id. ``key`` is the caller's idempotence key."""
        try:
            return await self._refund(payment_id, amount, idempotence_key(key), telegram=True)
        except Refused as e:  # the caller keeps the payment as it was (captured) and reports the error
            return PaymentResult(PaymentStatus.CAPTURED, payment_id, error=str(e))

    # -- the requests ----------------------------------------------------------------------------------

    async def _post(self, intent: PaymentIntent, path: tuple[str, ...], body: dict[str, Any],
                    operation: str) -> PaymentResult:
        try:
            payment = await self.client.post(*path, body=body, key=idempotence_key(intent.id, operation))
        except Refused as e:
            return self._ours(intent, str(e))
        return result_of(payment)

    async def _refund(self, payment_id: str, amount: Money, key: str, *, telegram: bool = False) -> PaymentResult:
        body: dict[str, Any] = {"payment_id": payment_id, "amount": money(amount.amount, amount.currency)}
        if self.receipts:
            # the receipt goes where the payment's went; the payment is read first, and it does not change,
            # so a retried refund sends the same body
            payment = await self.client.get("payments", payment_id)
            email = (payment.get("metadata") or {}).get(RECEIPT_EMAIL)
            if isinstance(email, str) and email:
                what = str(payment.get("description") or "Возврат")
                body["receipt"] = refund_receipt(what, amount.amount, amount.currency, email, self.vat_code,
                                                 mode="full_payment" if telegram else "full_prepayment")
            else:
                log.warning("YooKassa payment %s has no receipt e-mail of ours: refunded without a receipt",
                            payment_id)
        refund = await self.client.post("refunds", body=body, key=key)
        if refund.get("status") == "canceled":
            reason = (refund.get("cancellation_details") or {}).get("reason") or "no reason given"
            raise Refused(400, "refund_canceled", f"YooKassa could not refund {amount}: {reason}")
        return result_of(await self.client.get("payments", payment_id))

    @staticmethod
    def _ours(intent: PaymentIntent, error: str = "") -> PaymentResult:
        """The intent as we know it, with why YooKassa was not (or could not be) asked."""
        return PaymentResult(intent.status, intent.provider_ref, error=error, refunded=intent.refunded,
                             amount=intent.amount.amount)

"""A fake YooKassa API (v3) on loopback that the real adapter talks HTTP to.

Modelled on YooKassa's documented behaviour: HTTP Basic auth with the shop id and secret key (401
``invalid_credentials`` otherwise); an ``Idempotence-Key`` required on every POST, the same key with the
same request answered with the first answer and no second effect, the same key with another request refused
(``Idempotence key duplicated``); payments created ``pending`` with a ``confirmation_url``, held
(``waiting_for_capture``) once the customer pays when ``capture`` is false, captured only from there (all or
part of the held amount), cancelled only from there; refunds only of succeeded payments and never more than
was paid, counted in the payment's ``refunded_amount``; receipts whose items must add up to the payment
exactly; errors as ``{"type": "error", "id", "code", "description", "parameter"}``.

Tests play the customer and the faults::

    async with FakeYookassa() as fake:
        provider = YookassaProvider(fake.shop_id, fake.secret_key, fake.base_url)
        ...
        fake.pay(payment_id)          # -> waiting_for_capture
        fake.decline(payment_id)      # -> canceled (card_expired)
        fake.expire_hold(payment_id)  # -> canceled (expired_on_capture)
        fake.fail_next(2, status=500) # the next two requests fail (after=True: done, but the answer is lost)
        fake.stall_next(1)            # the next request is never answered (a client timeout)
        await fake.notify(url, payment_id)

and read what happened in ``calls``, ``payments``, ``refunds`` and ``receipts``.
"""
from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import itertools
import json
import re
import uuid
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import unquote

import aiohttp
from aiohttp import web

VALUE = re.compile(r"^\d{1,15}\.\d{2}$")  # the fake is strict: always two decimals, as the adapter sends
MAX_KEY = 64
MAX_METADATA_KEYS = 16
MAX_RECEIPT_ITEMS = 100
PARTIES = {"card_expired": "payment_network", "insufficient_funds": "payment_network",
           "expired_on_confirmation": "yoo_money", "expired_on_capture": "yoo_money",
           "canceled_by_merchant": "merchant", "fraud_suspected": "yoo_money"}


@dataclass
class Call:
    """One API request as it arrived (``path`` relative to ``/v3/``)."""

    method: str
    path: str
    key: str | None
    json: Any
    status: int = 0  # what the fake answered


@dataclass
class Fault:
    status: int
    after: bool  # the request is carried out and its answer stored, then the client is told ``status``


@dataclass
class Stored:
    fingerprint: str
    status: int
    body: dict[str, Any]


@dataclass
class Receipt:
    kind: str  # "payment" or "refund"
    payment_id: str
    data: dict[str, Any]
    refund_id: str = ""


@dataclass
class _State:
    faults: list[Fault] = field(default_factory=list)
    stalls: int = 0


class ApiError(Exception):
    def __init__(self, status: int, code: str, description: str, parameter: str = "") -> None:
        super().__init__(description)
        self.status, self.code, self.parameter = status, code, parameter

    def body(self) -> dict[str, Any]:
        body = {"type": "error", "id": str(uuid.uuid4()), "code": self.code, "description": str(self)}
        if self.parameter:
            body["parameter"] = self.parameter
        return body


def minor(value: Any, parameter: str) -> int:
    if not isinstance(value, str) or not VALUE.match(value):
        raise ApiError(400, "invalid_request", f"Invalid amount value: {value!r}", parameter)
    rub, kop = value.split(".")
    return int(rub) * 100 + int(kop)


def value(minor_units: int) -> str:
    return f"{minor_units // 100}.{minor_units % 100:02d}"


class FakeYookassa:
    def __init__(self, shop_id: str = "506751", secret_key: str = "test_Fh8hUAVVBGUGbjmlzba6TB0iyUbos_lueTHE-axOwM0",
                 *, receipts_required: bool = False) -> None:
        self.shop_id = shop_id
        self.secret_key = secret_key
        self.receipts_required = receipts_required
        self.calls: list[Call] = []
        self.payments: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.receipts: list[Receipt] = []
        self.notifications: list[tuple[str, dict[str, Any], int]] = []  # url, body, our webhook's status
        self._keys: dict[str, Stored] = {}
        self._state = _State()
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self._port = 0
        self._closing = asyncio.Event()

    # -- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(client_max_size=1 << 20)
        app.router.add_route("*", "/v3/{path:.*}", self._handle)
        app.router.add_get("/checkout/{payment_id}", self._checkout)
        self._runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=1)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self._port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        self._closing.set()
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> FakeYookassa:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def root(self) -> str:
        if not self._port:
            raise RuntimeError("FakeYookassa is not started")
        return f"http://127.0.0.1:{self._port}"

    @property
    def base_url(self) -> str:
        return f"{self.root}/v3/"

    # -- the customer's side and YooKassa's own doings --------------------------------------------

    def pay(self, payment_id: str) -> dict[str, Any]:
        """The customer pays on the confirmation page: held (``capture: false``) or taken at once."""
        payment = self._pending(payment_id)
        payment["paid"] = True
        if payment["_capture"]:
            self._succeed(payment, payment["amount"]["value"])
        else:
            payment["status"] = "waiting_for_capture"
            payment["expires_at"] = "2030-01-08T00:00:00.000Z"
        return self._public(payment)

    def decline(self, payment_id: str, reason: str = "card_expired") -> dict[str, Any]:
        """The bank refuses the card, or the customer never pays (``expired_on_confirmation``)."""
        payment = self._pending(payment_id)
        self._cancel(payment, reason)
        return self._public(payment)

    def expire_hold(self, payment_id: str) -> dict[str, Any]:
        """Nobody captured the hold in time: YooKassa cancels it and the money goes back."""
        payment = self.payments[payment_id]
        if payment["status"] != "waiting_for_capture":
            raise ValueError(f"payment {payment_id} is {payment['status']}, not waiting_for_capture")
        self._cancel(payment, "expired_on_capture")
        return self._public(payment)

    def fail_next(self, n: int = 1, status: int = 500, *, after: bool = False) -> None:
        """The next ``n`` API requests are answered ``status`` (500, 429, 503...). ``after``: each is
        carried out first (as a timeout on YooKassa's side after the effect), only its answer is lost."""
        self._state.faults.extend(Fault(status, after) for _ in range(n))

    def stall_next(self, n: int = 1) -> None:
        """The next ``n`` API requests are never answered (until the fake stops): the client times out."""
        self._state.stalls += n

    async def notify(self, url: str, payment_id: str, event: str | None = None) -> int:
        """POST YooKassa's notification of the payment to ``url``; returns the HTTP status it got."""
        payment = self._public(self.payments[payment_id])
        event = event or f"payment.{payment['status']}"
        return await self._send(url, {"type": "notification", "event": event, "object": payment})

    async def notify_refund(self, url: str, refund_id: str) -> int:
        return await self._send(url, {"type": "notification", "event": "refund.succeeded",
                                      "object": dict(self.refunds[refund_id])})

    async def _send(self, url: str, body: dict[str, Any]) -> int:
        async with aiohttp.ClientSession() as session, session.post(url, json=body) as answer:
            await answer.read()
            self.notifications.append((url, body, answer.status))
            return answer.status

    def public(self, payment_id: str) -> dict[str, Any]:
        """The payment object as the API answers it."""
        return self._public(self.payments[payment_id])

    # -- HTTP ---------------------------------------------------------------------------------------

    async def _checkout(self, request: web.Request) -> web.Response:
        payment = self.payments.get(request.match_info["payment_id"])
        if payment is None:
            raise web.HTTPNotFound()
        return web.Response(text=f"<h1>ЮKassa</h1><p>{payment['amount']['value']} {payment['amount']['currency']}</p>",
                            content_type="text/html")

    async def _handle(self, request: web.Request) -> web.Response:
        # the path as sent, each segment decoded on its own: an escaped "/" stays inside its segment
        raw_path = request.raw_path.split("?")[0].removeprefix("/v3/").rstrip("/")
        path = "/".join(unquote(part).replace("/", "%2F") for part in raw_path.split("/"))
        key = request.headers.get("Idempotence-Key")
        raw = await request.read()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        call = Call(request.method, path, key, body)
        self.calls.append(call)
        if self._state.stalls:
            self._state.stalls -= 1
            await self._closing.wait()
        fault = self._state.faults.pop(0) if self._state.faults else None
        status, answer = self._answer(request, path, key, raw, body, carry_out=fault is None or fault.after)
        if fault is not None:
            code = "too_many_requests" if fault.status == 429 else "internal_server_error"
            status, answer = fault.status, ApiError(fault.status, code, "Simulated failure").body()
        call.status = status
        return web.json_response(answer, status=status)

    def _answer(self, request: web.Request, path: str, key: str | None, raw: bytes, body: Any,
                carry_out: bool) -> tuple[int, dict[str, Any]]:
        try:
            self._authenticate(request)
            if request.method == "POST":
                return self._post(path, key, raw, body, carry_out)
            if request.method == "GET":
                return 200, self._get(path)
            raise ApiError(405, "invalid_request", f"Method {request.method} is not allowed")
        except ApiError as e:
            return e.status, e.body()

    def _authenticate(self, request: web.Request) -> None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        try:
            given = base64.b64decode(token, validate=True) if scheme == "Basic" else b""
        except (binascii.Error, ValueError):
            given = b""
        expected = f"{self.shop_id}:{self.secret_key}".encode()
        if not hmac.compare_digest(given, expected):
            raise ApiError(401, "invalid_credentials",
                           "Login and password are incorrect. Check the shopId and the secret key")

    def _post(self, path: str, key: str | None, raw: bytes, body: Any, carry_out: bool) -> tuple[int, dict[str, Any]]:
        if not key:
            raise ApiError(400, "invalid_request", "Idempotence key is missing", "Idempotence-Key")
        if len(key) > MAX_KEY:
            raise ApiError(400, "invalid_request", f"Idempotence key is longer than {MAX_KEY}", "Idempotence-Key")
        fingerprint = f"{path}\n{json.dumps(body, sort_keys=True)}"
        stored = self._keys.get(key)
        if stored is not None:
            if stored.fingerprint != fingerprint:
                raise ApiError(400, "invalid_request", "Idempotence key duplicated", "Idempotence-Key")
            return stored.status, stored.body
        if not carry_out:
            return 500, {}
        try:
            status, answer = 200, self._operation(path, body)
        except ApiError as e:
            status, answer = e.status, e.body()
        self._keys[key] = Stored(fingerprint, status, answer)
        return status, answer

    def _operation(self, path: str, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise ApiError(400, "invalid_request", "The request body is not a JSON object")
        parts = path.split("/")
        if parts == ["payments"]:
            return self._create(body)
        if len(parts) == 3 and parts[0] == "payments" and parts[2] == "capture":
            return self._capture(self._payment(parts[1]), body)
        if len(parts) == 3 and parts[0] == "payments" and parts[2] == "cancel":
            return self._cancel_request(self._payment(parts[1]))
        if parts == ["refunds"]:
            return self._refund(body)
        raise ApiError(404, "not_found", f"No such resource: {path}")

    def _get(self, path: str) -> dict[str, Any]:
        parts = path.split("/")
        if len(parts) == 2 and parts[0] == "payments":
            return self._public(self._payment(parts[1]))
        if len(parts) == 2 and parts[0] == "refunds" and parts[1] in self.refunds:
            return dict(self.refunds[parts[1]])
        raise ApiError(404, "not_found", f"No such resource: {path}")

    # -- the operations ------------------------------------------------------------------------------

    def _create(self, body: dict[str, Any]) -> dict[str, Any]:
        amount = self._amount(body.get("amount"), "amount")
        confirmation = body.get("confirmation")
        if not isinstance(confirmation, dict) or confirmation.get("type") != "redirect":
            raise ApiError(400, "invalid_request", "Confirmation of type redirect is expected", "confirmation")
        if not isinstance(confirmation.get("return_url"), str) or not confirmation["return_url"]:
            raise ApiError(400, "invalid_request", "Return URL is missing", "confirmation.return_url")
        description = body.get("description", "")
        if not isinstance(description, str) or len(description) > 128:
            raise ApiError(400, "invalid_request", "Description is longer than 128 characters", "description")
        metadata = body.get("metadata", {})
        if not isinstance(metadata, dict) or len(metadata) > MAX_METADATA_KEYS or any(
                not isinstance(k, str) or len(k) > 32 or not isinstance(v, str) or len(v) > 512
                for k, v in metadata.items()):
            raise ApiError(400, "invalid_request", "Invalid metadata", "metadata")
        capture = body.get("capture", False)
        if not isinstance(capture, bool):
            raise ApiError(400, "invalid_request", "Capture must be a boolean", "capture")
        receipt = self._check_receipt(body.get("receipt"), amount)
        payment_id = f"{next(self._ids):08x}-000f-5000-8000-{uuid.uuid4().hex[:12]}"
        payment: dict[str, Any] = {
            "id": payment_id, "status": "pending", "paid": False,
            "amount": {"value": value(amount[0]), "currency": amount[1]},
            "recipient": {"account_id": self.shop_id, "gateway_id": "2000001"},
            "created_at": "2030-01-01T00:00:00.000Z", "description": description,
            "confirmation": {"type": "redirect", "return_url": confirmation["return_url"],
                             "confirmation_url": f"{self.root}/checkout/{payment_id}"},
            "test": True, "refundable": False, "metadata": metadata, "_capture": capture}
        if receipt is not None:
            payment["receipt_registration"] = "pending"
            self.receipts.append(Receipt("payment", payment_id, receipt))
        self.payments[payment_id] = payment
        return self._public(payment)

    def _capture(self, payment: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        if payment["status"] != "waiting_for_capture":
            raise ApiError(400, "invalid_request",
                           f"Payment in status {payment['status']} can't be captured", "payment_id")
        held = minor(payment["amount"]["value"], "amount.value")
        taken = held
        if "amount" in body:
            taken, currency = self._amount(body["amount"], "amount")
            if currency != payment["amount"]["currency"] or taken > held:
                raise ApiError(400, "invalid_request", "The capture amount exceeds the payment amount", "amount")
        self._succeed(payment, value(taken))
        return self._public(payment)

    def _cancel_request(self, payment: dict[str, Any]) -> dict[str, Any]:
        if payment["status"] != "waiting_for_capture":
            raise ApiError(400, "invalid_request",
                           f"Payment in status {payment['status']} can't be canceled", "payment_id")
        self._cancel(payment, "canceled_by_merchant")
        return self._public(payment)

    def _refund(self, body: dict[str, Any]) -> dict[str, Any]:
        payment_id = body.get("payment_id")
        if not isinstance(payment_id, str) or payment_id not in self.payments:
            raise ApiError(400, "invalid_request", "Payment not found", "payment_id")
        payment = self.payments[payment_id]
        amount, currency = self._amount(body.get("amount"), "amount")
        if payment["status"] != "succeeded":
            raise ApiError(400, "invalid_request",
                           f"Payment in status {payment['status']} can't be refunded", "payment_id")
        paid = minor(payment["amount"]["value"], "amount.value")
        refunded = minor(payment.get("refunded_amount", {}).get("value", "0.00"), "refunded_amount")
        if currency != payment["amount"]["currency"] or amount > paid - refunded:
            raise ApiError(400, "invalid_request", "The refund amount exceeds what is left to refund", "amount")
        receipt = self._check_receipt(body.get("receipt"), (amount, currency))
        refund_id = f"{next(self._ids):08x}-0015-5000-9000-{uuid.uuid4().hex[:12]}"
        refund = {"id": refund_id, "payment_id": payment_id, "status": "succeeded",
                  "amount": {"value": value(amount), "currency": currency},
                  "created_at": "2030-01-02T00:00:00.000Z"}
        if isinstance(body.get("description"), str):
            refund["description"] = body["description"]
        if receipt is not None:
            refund["receipt_registration"] = "pending"
            self.receipts.append(Receipt("refund", payment_id, receipt, refund_id))
        self.refunds[refund_id] = refund
        payment["refunded_amount"] = {"value": value(refunded + amount), "currency": currency}
        payment["refundable"] = refunded + amount < paid
        return dict(refund)

    # -- rules ---------------------------------------------------------------------------------------------

    def _amount(self, amount: Any, parameter: str) -> tuple[int, str]:
        if not isinstance(amount, dict) or amount.get("currency") != "RUB":
            raise ApiError(400, "invalid_request", "Amount in RUB is expected", parameter)
        units = minor(amount.get("value"), f"{parameter}.value")
        if units <= 0:
            raise ApiError(400, "invalid_request", "Amount must be positive", f"{parameter}.value")
        return units, "RUB"

    def _check_receipt(self, receipt: Any, amount: tuple[int, str]) -> dict[str, Any] | None:
        if receipt is None:
            if self.receipts_required:
                raise ApiError(400, "invalid_request", "Receipt is missing or illegal", "receipt")
            return None
        if not isinstance(receipt, dict):
            raise ApiError(400, "invalid_request", "Receipt is missing or illegal", "receipt")
        customer = receipt.get("customer")
        if not isinstance(customer, dict) or not (customer.get("email") or customer.get("phone")):
            raise ApiError(400, "invalid_request", "Receipt customer contact is missing", "receipt.customer")
        items = receipt.get("items")
        if not isinstance(items, list) or not 0 < len(items) <= MAX_RECEIPT_ITEMS:
            raise ApiError(400, "invalid_request", "Receipt items are missing", "receipt.items")
        total = Decimal(0)
        for n, entry in enumerate(items):
            where = f"receipt.items[{n}]"
            if not isinstance(entry, dict) or not isinstance(entry.get("description"), str) \
                    or not 0 < len(entry["description"]) <= 128:
                raise ApiError(400, "invalid_request", "Item description is missing or too long", where)
            if entry.get("payment_mode") is None or entry.get("payment_subject") is None \
                    or not isinstance(entry.get("vat_code"), int) or not 1 <= entry["vat_code"] <= 12:
                raise ApiError(400, "invalid_request", "Item vat_code, payment_mode or payment_subject", where)
            try:
                quantity = Decimal(str(entry.get("quantity")))
            except InvalidOperation:
                raise ApiError(400, "invalid_request", "Item quantity", where) from None
            units, currency = self._amount(entry.get("amount"), f"{where}.amount")
            if currency != amount[1] or quantity <= 0:
                raise ApiError(400, "invalid_request", "Item quantity or currency", where)
            total += quantity * units
        if total != amount[0]:
            raise ApiError(400, "invalid_request",
                           "Sum of receipt items amounts doesn't match the amount", "receipt.items")
        return receipt

    # -- payments ------------------------------------------------------------------------------------------

    def _payment(self, payment_id: str) -> dict[str, Any]:
        payment = self.payments.get(payment_id)
        if payment is None:
            raise ApiError(404, "not_found", "Payment not found")
        return payment

    def _pending(self, payment_id: str) -> dict[str, Any]:
        payment = self.payments[payment_id]
        if payment["status"] != "pending":
            raise ValueError(f"payment {payment_id} is {payment['status']}, not pending")
        return payment

    def _succeed(self, payment: dict[str, Any], taken: str) -> None:
        payment.update(status="succeeded", paid=True, refundable=True, captured_at="2030-01-01T01:00:00.000Z")
        payment["amount"] = {"value": taken, "currency": payment["amount"]["currency"]}
        payment.pop("expires_at", None)

    def _cancel(self, payment: dict[str, Any], reason: str) -> None:
        payment.update(status="canceled", paid=False, refundable=False,
                       cancellation_details={"party": PARTIES.get(reason, "yoo_money"), "reason": reason})
        payment.pop("expires_at", None)

    @staticmethod
    def _public(payment: dict[str, Any]) -> dict[str, Any]:
        return json.loads(json.dumps({k: v for k, v in payment.items() if not k.startswith("_")}))

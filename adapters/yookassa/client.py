"""YooKassa's HTTP API over aiohttp: HTTP Basic auth with the shop id and secret key, an ``Idempotence-Key``
on every POST, and YooKassa's answers sorted into three kinds.

- 200: the object asked for (a payment, a refund) as a dict.
- A definite refusal (4xx: ``{"type": "error", "code", "description", "parameter"}``): ``Refused``.
  401 and 403 name the settings to fix, since nothing will work until the owner does.
- Nothing known (the network, a timeout, 5xx, 429, 202 "still processing", an answer that is not
  YooKassa's JSON): ``journey.ports.PaymentUnavailable``. YooKassa's own advice for these is to repeat the
  request with the same idempotence key, which is what the engine's reconcile does.

Amounts cross this boundary as strings with two decimals (``"123.45"``), converted from and to integer
minor units here without ever becoming a float.
"""
from __future__ import annotations

import base64
import hashlib
import json
import re
from typing import Any
from urllib.parse import quote

import aiohttp

from journey.ports import PaymentUnavailable

TIMEOUT = 30.0  # seconds for a whole request: YooKassa answers within 30 s or gives up itself with a 500
MAX_ANSWER = 1 << 20  # a payment or refund object is a few kilobytes
CHUNK = 64 * 1024
MAX_KEY = 64  # YooKassa's longest Idempotence-Key
SHOP_ID = "VITRINA_YOOKASSA__SHOP_ID"
SECRET_KEY = "VITRINA_YOOKASSA__SECRET_KEY"
_VALUE = re.compile(r"^(\d{1,15})(?:\.(\d{1,2}))?$")


def to_value(minor: int) -> str:
    """Minor units -> YooKassa's amount value: ``12345`` -> ``"123.45"`` (exactly two decimals)."""
    if not isinstance(minor, int) or isinstance(minor, bool) or minor < 0:
        raise ValueError(f"not an amount in minor units: {minor!r}")
    return f"{minor // 100}.{minor % 100:02d}"


def from_value(value: object) -> int:
    """YooKassa's amount value -> minor units: ``"123.45"`` -> ``12345``, ``"10"`` -> ``1000``. ``ValueError``
    for anything else (a float included: YooKassa sends strings)."""
    match = _VALUE.match(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"not an amount value: {value!r}")
    return int(match[1]) * 100 + int((match[2] or "0").ljust(2, "0"))


def money(minor: int, currency: str) -> dict[str, str]:
    return {"value": to_value(minor), "currency": currency}


def idempotence_key(*parts: object) -> str:
    """Our payment id and the operation, so a retried request is the same request. A key longer than
    YooKassa takes is replaced by its SHA-256 (still the same for the same parts)."""
    key = ":".join(str(part) for part in parts)
    return key if len(key) <= MAX_KEY else hashlib.sha256(key.encode()).hexdigest()


class Refused(Exception):
    """YooKassa answered a definite no (4xx); the message is what to tell the owner."""

    def __init__(self, status: int, code: str, message: str, parameter: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.parameter = parameter

    @property
    def credentials(self) -> bool:
        """The shop id or secret key is wrong or lacks rights: no request can work until it is fixed."""
        return self.status in (401, 403)


class YookassaClient:
    """One shop's access to the API; the session is made at the first request and closed by ``close``."""

    def __init__(self, shop_id: str, secret_key: str, api_base: str, *, timeout: float = TIMEOUT) -> None:
        self.shop_id = shop_id
        self.api_base = api_base if api_base.endswith("/") else api_base + "/"
        # built by hand: aiohttp's BasicAuth refuses a ":" in the login and non-Latin-1 text, and a typo in
        # a setting must come back as YooKassa's 401, not as an exception at start
        token = base64.b64encode(f"{shop_id}:{secret_key}".encode()).decode("ascii")
        self._authorization = f"Basic {token}"
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout,
                                                  headers={"Authorization": self._authorization})
        return self._session

    async def get(self, *path: str) -> dict[str, Any]:
        return await self._request("GET", _path(path), None, None)

    async def post(self, *path: str, body: dict[str, Any], key: str) -> dict[str, Any]:
        return await self._request("POST", _path(path), body, key)

    async def _request(self, method: str, path: str, body: dict[str, Any] | None,
                       key: str | None) -> dict[str, Any]:
        headers = {"Idempotence-Key": key} if key is not None else {}
        what = f"{method} {path}"
        try:
            async with self._open().request(method, self.api_base + path, json=body, headers=headers) as answer:
                status = answer.status
                raw = bytearray()
                async for chunk in answer.content.iter_chunked(CHUNK):
                    raw += chunk
                    if len(raw) > MAX_ANSWER:
                        break
        except (aiohttp.ClientError, TimeoutError, OSError) as e:
            raise PaymentUnavailable(f"YooKassa cannot be reached ({what}): {e!r}") from e
        data = _json(bytes(raw)) if len(raw) <= MAX_ANSWER else None
        if status == 200:
            if data is None:
                raise PaymentUnavailable(f"YooKassa answered {what} with something that is not its JSON")
            return data
        error = data or {}
        description = str(error.get("description") or "")[:500]
        code = str(error.get("code") or "")
        if status == 401:
            raise Refused(status, code, f"YooKassa does not accept shop id {self.shop_id!r} with this secret key "
                                        f"(401 {code or 'invalid_credentials'}): check {SHOP_ID} and {SECRET_KEY}")
        if status == 403:
            raise Refused(status, code, f"YooKassa does not let shop {self.shop_id!r} do this with this secret key "
                                        f"(403 {code or 'forbidden'}{': ' + description if description else ''}): "
                                        f"check {SECRET_KEY} and the shop's settings in YooKassa")
        if 400 <= status < 500 and status != 429 and data is not None:
            parameter = str(error.get("parameter") or "")
            text = description or code or f"HTTP {status}"
            raise Refused(status, code, f"YooKassa refused {what}: {text}"
                                        f"{f' ({parameter})' if parameter else ''}", parameter)
        # 5xx, 429, 202 "accepted, still processing", a 4xx that is not YooKassa's: the outcome is unknown
        raise PaymentUnavailable(f"YooKassa answered {what} with HTTP {status}"
                                 f"{': ' + description if description else ''}")


def _path(parts: tuple[str, ...]) -> str:
    """Resource path segments, each escaped: an id can never reach another resource."""
    return "/".join(quote(part, safe="") for part in parts)


def _json(raw: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None

"""Pickup credentials: a signed token for the QR code and a short numeric code for people."""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets


def sign_token(secret: bytes, order_id: str) -> str:
    mac = hmac.new(secret, b"pickup:" + order_id.encode(), hashlib.sha256).digest()[:16]
    return f"{order_id}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"


def verify_token(secret: bytes, token: str) -> str | None:
    """The order id when the signature is right (compared in constant time), else None."""
    order_id, dot, _ = str(token).strip().rpartition(".")
    if not dot or not order_id:
        return None
    expected = sign_token(secret, order_id)
    return order_id if hmac.compare_digest(expected.encode(), str(token).strip().encode()) else None


def new_short_code(in_use: set[str]) -> str:
    """Four digits unique among the point's open orders (six when four are nearly exhausted)."""
    for digits in (4, 4, 4, 4, 6, 6, 6, 6):
        for _ in range(20):
            code = f"{secrets.randbelow(10 ** digits):0{digits}d}"
            if code not in in_use:
                return code
    raise RuntimeError("no free short code")  # a million open orders at one point

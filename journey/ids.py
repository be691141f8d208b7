"""Identifiers made in the engine, so a unit of work can write without asking the database first."""
from __future__ import annotations

import secrets
import time

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lower case


def new_id(prefix: str) -> str:
    """A time-ordered id: ``o_`` + 10 chars of milliseconds + 6 random chars (sortable, URL-safe)."""
    ms = time.time_ns() // 1_000_000
    head = "".join(_ALPHABET[(ms >> shift) & 31] for shift in range(45, -1, -5))
    tail = "".join(secrets.choice(_ALPHABET) for _ in range(6))
    return f"{prefix}_{head}{tail}"

"""Abuse limits on the Mini App API, per client address (journey/limits.py keeps the buckets and the policy).

Every /api call takes a token of its address's general bucket, and the costly ones (placing orders, link codes,
staff look-ups of pickup codes, reviews) one of a tighter bucket as well. A refusal, and the engine's refusals
per account that reach a view, are HTTP 429 with ``Retry-After`` (whole seconds, at least 1) and the JSON error
``{"error": "rate_limited", "message": ...}``.

The address is the direct peer's (``request.remote``). ``X-Forwarded-For`` is believed only when the peer is
one of the trusted proxies (``VITRINA_WEBAPP__TRUSTED_PROXIES``, addresses or CIDRs): then the client is the
right-most address in it that is not a trusted proxy itself, since a client may write anything to the left.
An IPv6 client is counted by its /64 network, which a home or a phone gets whole.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from functools import cache

from aiohttp import web

from journey.errors import DomainError, ErrorCode, RateLimited
from journey.limits import Bucket, take_each

from . import serialize
from .config import CONFIG, ENGINE
from .views import language, reply

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
LINK_LOCKOUT_SECONDS = 600  # journey/customers.py: wrong link codes count for ten minutes

# the tighter bucket of a costly operation, by method and route (ShopLimits.address_<name>)
COSTLY: dict[tuple[str, str], str] = {
    ("POST", "/api/orders"): "orders",
    ("POST", "/api/groups"): "orders",
    ("POST", "/api/groups/{code}/lines"): "orders",
    ("POST", "/api/groups/{code}/close"): "orders",
    ("POST", "/api/gifts"): "orders",
    ("POST", "/api/gifts/{code}/order"): "orders",
    ("POST", "/api/packs/{pack_id}"): "orders",
    ("POST", "/api/link/code"): "link_codes",
    ("POST", "/api/link"): "link_codes",
    ("POST", "/api/staff/lookup"): "pickup_lookups",
    ("POST", "/api/staff/handover"): "pickup_lookups",
    ("POST", "/api/orders/{order_id}/reviews"): "reviews",
}


@cache
def networks(trusted: tuple[str, ...]) -> tuple[Network, ...]:
    """The trusted proxies as networks (a bare address is a network of one)."""
    return tuple(ipaddress.ip_network(t.strip(), strict=False) for t in trusted if t.strip())


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        found = ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None
    if isinstance(found, ipaddress.IPv6Address) and found.ipv4_mapped is not None:
        return found.ipv4_mapped
    return found


def client_address(peer: str | None, forwarded: str | None, trusted: Sequence[str]) -> str:
    """Who the request came from, as a bucket key part (see the module's docstring)."""
    trusted_nets = networks(tuple(trusted))

    def is_trusted(addr: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        return any(addr in net for net in trusted_nets)

    client = _address(peer or "")
    if client is not None and forwarded and is_trusted(client):
        for hop in reversed([h for h in forwarded.split(",") if h.strip()]):
            addr = _address(hop)
            if addr is None:  # a hop we cannot read: the one before it is the last we can vouch for
                break
            client = addr
            if not is_trusted(addr):
                break
    if client is None:
        return peer or "unknown"
    if isinstance(client, ipaddress.IPv6Address):
        return str(ipaddress.ip_network(f"{client}/64", strict=False))
    return str(client)


async def too_many(request: web.Request, retry_after: int, code: ErrorCode = ErrorCode.RATE_LIMITED) -> web.Response:
    """The 429 answer: ``Retry-After`` and the JSON error in the caller's language."""
    lang = await language(request)
    text = RateLimited(retry_after).message(lang) if code is ErrorCode.RATE_LIMITED else code.message(lang)
    answer = reply(serialize.error(code.value, text), 429)
    answer.headers["Retry-After"] = str(max(1, int(retry_after)))
    return answer


async def limited(request: web.Request) -> web.Response | None:
    """The 429 answer when an /api call finds its address's bucket (or its costly operation's) empty, else
    None (see the module's docstring); takes the tokens."""
    engine = request.app[ENGINE]
    limits = engine.limits
    if not limits.enabled:
        return None
    config = request.app[CONFIG]
    address = client_address(request.remote, request.headers.get("X-Forwarded-For"), config.trusted_proxies)
    buckets: list[tuple[str, Bucket]] = [(f"addr:api:{address}", limits.address_api)]
    route = request.match_info.route.resource
    costly = COSTLY.get((request.method, route.canonical)) if route is not None else None
    if costly is not None:
        buckets.append((f"addr:{costly}:{address}", getattr(limits, f"address_{costly}")))
    wait = await take_each(engine, buckets)
    if wait > 0:
        return await too_many(request, RateLimited(wait).retry_after)
    return None


async def refused(request: web.Request, exc: DomainError) -> web.Response | None:
    """The 429 answer for the engine's refusals per account (``RateLimited``) and the lockout of wrong link
    codes, else None: another refusal, for the error answer."""
    if isinstance(exc, RateLimited):
        return await too_many(request, exc.retry_after)
    if exc.code is ErrorCode.LINK_TOO_MANY_ATTEMPTS:
        return await too_many(request, LINK_LOCKOUT_SECONDS, exc.code)
    return None

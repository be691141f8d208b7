"""Every answer of the Mini App server carries the security headers, whatever kind it is.

The page, its static files, the JSON API (personal, public and refused), the QR landing page, the policy
page, 404 and 405: a CSP that allows no inline script and names who may frame the app (Telegram's and
VK's web clients), ``nosniff``, a ``Referrer-Policy``; personal answers are never stored by a cache; no
HTML page served holds an inline script or an inline event handler (the CSP would block it anyway).
"""
from __future__ import annotations

from html.parser import HTMLParser

import pytest

from webapp.app import content_security_policy

TELEGRAM_WEB = "https://web.telegram.org"
VK_WEB = ("https://vk.com", "https://*.vk.com")  # desktop vk.com and m.vk.com load mini apps in an iframe
ANONYMOUS = [("GET", "/"), ("GET", "/static/js/main.js"), ("GET", "/static/app.css"), ("GET", "/api/config"),
             ("GET", "/api/openapi.json"), ("GET", "/go/pcenter"), ("GET", "/go/no-such-link!"),
             ("GET", "/privacy"), ("GET", "/paid"), ("GET", "/no/such/page"), ("GET", "/static/no-such.js"),
             ("GET", "/api/no-such"), ("GET", "/api/me"), ("POST", "/api/config"), ("DELETE", "/api/menu"),
             ("GET", "/healthz")]
PERSONAL = ["/api/me", "/api/orders", "/api/me/points", "/api/me/referrals", "/api/me/export"]


def directives(csp: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for part in csp.split(";"):
        name, *values = part.split()
        assert name not in found, f"{name} twice in {csp}"
        found[name] = values
    return found


def check_headers(response, what: str) -> None:
    csp = response.headers.get("Content-Security-Policy", "")
    policy = directives(csp)
    script = policy.get("script-src", policy.get("default-src"))
    assert script is not None and "'unsafe-inline'" not in script and "'unsafe-eval'" not in script, (what, csp)
    assert "*" not in script and "data:" not in script, (what, csp)
    assert policy["object-src"] == ["'none'"] and policy["base-uri"] == ["'self'"], (what, csp)
    ancestors = policy["frame-ancestors"]
    assert TELEGRAM_WEB in ancestors and all(vk in ancestors for vk in VK_WEB), (what, csp)
    assert "*" not in ancestors and "https:" not in ancestors, (what, csp)
    assert response.headers.get("X-Content-Type-Options") == "nosniff", what
    assert response.headers.get("Referrer-Policy") in ("strict-origin-when-cross-origin", "no-referrer"), what


class Scripts(HTMLParser):
    """Inline scripts and inline handlers of a page: a <script> without src or with a body, on*="...",
    javascript: addresses. A ``<script type="application/json">`` is data a browser never runs (the first
    screen's data in the Mini App's page, webapp/page.py): counted apart, in ``data_blocks``."""

    def __init__(self) -> None:
        super().__init__()
        self.inline: list[str] = []
        self.in_script = False
        self.script_count = 0
        self.data_blocks: list[str] = []
        self.in_data = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script" and values.get("type") == "application/json" and not values.get("src"):
            self.in_data = True
            self.data_blocks.append("")
        elif tag == "script":
            self.script_count += 1
            self.in_script = True
            if not values.get("src"):
                self.inline.append(f"<script> without src: {attrs}")
        for name, value in attrs:
            if name.startswith("on"):
                self.inline.append(f"<{tag} {name}=...>")
            if name in ("href", "src", "action", "formaction") and (value or "").strip().lower().startswith(
                    "javascript:"):
                self.inline.append(f"<{tag} {name}={value}>")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self.in_script = self.in_data = False

    def handle_data(self, data: str) -> None:
        if self.in_data:
            self.data_blocks[-1] += data
        elif self.in_script and data.strip():
            self.inline.append(f"script body: {data[:60]!r}")


def inline_scripts(html: str) -> Scripts:
    parser = Scripts()
    parser.feed(html)
    parser.close()
    return parser


@pytest.mark.parametrize(("method", "path"), ANONYMOUS)
async def test_every_kind_of_answer_carries_the_headers(client, method, path):
    response = await client.request(method, path)
    check_headers(response, f"{method} {path} -> {response.status}")
    if path.startswith("/api/") and response.status >= 400:
        assert response.content_type == "application/json"
        assert response.headers.get("Cache-Control") == "no-store", path
    if response.content_type == "text/html":
        assert not inline_scripts(await response.text()).inline, path


async def test_the_answers_are_what_the_test_means(client):
    """The list above reaches each kind it names (else a header check on the wrong answer proves nothing)."""
    statuses = {f"{m} {p}": (await client.request(m, p)).status for m, p in ANONYMOUS}
    assert statuses["GET /"] == statuses["GET /static/js/main.js"] == statuses["GET /api/config"] == 200
    assert statuses["GET /go/pcenter"] == statuses["GET /privacy"] == 200
    assert statuses["GET /no/such/page"] == statuses["GET /api/no-such"] == statuses["GET /go/no-such-link!"] == 404
    assert statuses["POST /api/config"] == statuses["DELETE /api/menu"] == 405
    assert statuses["GET /api/me"] == 401


async def test_the_mini_app_page_has_scripts_only_by_address(client):
    page = inline_scripts(await (await client.get("/")).text())
    assert page.script_count >= 1 and page.inline == []


@pytest.mark.parametrize("path", PERSONAL)
async def test_personal_answers_are_never_stored(client, tma, path):
    response = await client.get(path, headers=tma(5001))
    assert response.status == 200, await response.text()
    assert response.headers.get("Cache-Control") == "no-store", path
    check_headers(response, path)


async def test_photo_hosts_join_img_src_and_nothing_else(make_client):
    client = await make_client(photo_sources=("https://cdn.example", "https://*.img.example"))
    for path in ("/", "/api/config", "/no/such/page"):
        policy = directives((await client.get(path)).headers["Content-Security-Policy"])
        assert policy["img-src"] == ["'self'", "data:", "blob:", "https://cdn.example", "https://*.img.example"]
        assert "https://cdn.example" not in policy["script-src"] + policy["default-src"] + policy["connect-src"]
    assert directives(content_security_policy())["img-src"] == ["'self'", "data:", "blob:"]

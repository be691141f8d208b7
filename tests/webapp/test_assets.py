"""The Mini App's page and built files, as a phone on a slow line gets them (webapp/page.py, webapp/build.mjs).

The committed build is the build of the committed sources; the first screen is the page and at most two
files, under 20 KB compressed; built files are cached for good under names that change with their content,
the page is revalidated and changes with the menu; the first screen's data rides in the page as JSON a
browser never runs, whatever the shop's texts hold.
"""
from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from test_security_headers import inline_scripts

from webapp.config import STATIC_DIR
from webapp.page import IMMUTABLE

ROOT = Path(__file__).resolve().parents[2]
DIST = STATIC_DIR / "dist"
BUDGET = 20 * 1024  # bytes over the wire (gzip) before the menu can show: the page, the script, its chunk
GZIP = {"Accept-Encoding": "gzip"}


def built_names(html: str) -> list[str]:
    """The files the page makes the browser fetch at once: its module script and modulepreloads."""
    return re.findall(r'<script type="module" src="static/dist/([^"]+)"', html) + re.findall(
        r'<link rel="modulepreload" href="static/dist/([^"]+)"', html)


def boot_data(html: str) -> dict:
    blocks = inline_scripts(html).data_blocks
    assert len(blocks) == 1
    return json.loads(blocks[0])


def test_the_committed_build_is_the_build_of_the_sources(tmp_path):
    node, esbuild = shutil.which("node"), ROOT / "node_modules" / "esbuild"
    if node is None or not esbuild.is_dir():
        if os.environ.get("CI"):
            pytest.fail("node or esbuild is missing in CI (`npm ci` installs esbuild)")
        pytest.skip("node or esbuild missing: run `npm ci`")
    out = tmp_path / "dist"
    subprocess.run([node, str(ROOT / "webapp" / "build.mjs"), "--out", str(out)], check=True, cwd=ROOT,
                   capture_output=True, timeout=120)
    built = {p.name: p.read_bytes() for p in out.iterdir()}
    committed = {p.name: p.read_bytes() for p in DIST.iterdir()}
    assert sorted(built) == sorted(committed), "webapp/static/dist is stale: run `npm run build` and commit it"
    for name, data in built.items():
        assert committed[name] == data, f"{name} differs from its sources' build: run `npm run build`"


async def test_the_first_screen_is_the_page_and_two_files_under_the_budget(client):
    page = await client.get("/", headers=GZIP)
    assert page.status == 200 and page.headers["Content-Encoding"] == "gzip"
    html = await page.text()
    names = built_names(html)
    assert len(names) <= 2, names  # with /api/me: three requests after the page
    total = int(page.headers["Content-Length"])
    for name in names:
        answer = await client.get(f"/static/dist/{name}", headers=GZIP)
        assert answer.status == 200 and answer.headers["Content-Encoding"] == "gzip", name
        total += int(answer.headers["Content-Length"])
    assert total < BUDGET, f"{total} bytes compressed before the menu shows"
    # the later screens and English are not among them
    manifest = json.loads((DIST / "manifest.json").read_text())
    assert any(n.startswith("later-") for n in manifest["files"]) and not any(n.startswith("later-") for n in names)
    assert any(n.startswith("i18n-en-") for n in manifest["files"])
    assert not any(n.startswith("i18n-en-") for n in names)


async def test_the_page_brings_what_the_api_answers(client, tma):
    html = await (await client.get("/")).text()
    data = boot_data(html)
    anna = tma(5001)
    assert data["config"] == await (await client.get("/api/config")).json()
    assert data["points"] == await (await client.get("/api/points", headers=anna)).json()
    first = data["points"]["points"][0]["id"]
    assert list(data["menus"]) == [first]
    assert data["menus"][first] == await (await client.get(f"/api/menu?point={first}", headers=anna)).json()
    assert "<style>" in html and 'rel="stylesheet"' not in html  # the stylesheet is in the page


async def test_built_files_are_cached_for_good_and_the_page_is_revalidated(client, engine):
    page = await client.get("/", headers={"Accept-Encoding": "br, gzip"})
    assert page.headers["Cache-Control"] == "no-cache" and page.headers["Content-Encoding"] == "br"
    etag = page.headers["ETag"]
    again = await client.get("/", headers={"Accept-Encoding": "br, gzip", "If-None-Match": etag})
    assert again.status == 304 and await again.read() == b""

    name = built_names(await page.text())[0]
    script = await client.get(f"/static/dist/{name}", headers={"Accept-Encoding": "br"})
    assert script.status == 200 and script.headers["Cache-Control"] == IMMUTABLE
    assert script.headers["Content-Encoding"] == "br" and script.content_type == "text/javascript"
    plain = await client.get(f"/static/dist/{name}", headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain.headers and await plain.read() == (DIST / name).read_bytes()
    unchanged = await client.get(f"/static/dist/{name}", headers={"If-None-Match": script.headers["ETag"]})
    assert unchanged.status == 304
    assert (await client.get("/static/dist/main-NOSUCHHASH.js")).status == 404
    assert (await client.get("/static/dist/..%2F..%2Fpage.py")).status == 404
    # every built name but the manifest carries a hash of its content
    for path in DIST.iterdir():
        if path.name != "manifest.json":
            assert re.fullmatch(r"[a-z0-9-]+-[A-Z0-9]{8}\.(js|css)", path.name), path.name

    await engine.set_stock("center", "croissant", 3)  # the menu changed: so did the page
    changed = await client.get("/", headers={"Accept-Encoding": "br, gzip", "If-None-Match": etag})
    assert changed.status == 200 and changed.headers["ETag"] != etag
    croissant = next(i for i in boot_data(await changed.text())["menus"]["center"]["items"] if i["id"] == "croissant")
    assert croissant["stock"] == 3


async def test_shop_texts_cannot_end_the_data_block(client, engine):
    hostile = "</script><script>alert(1)</script><!--"
    await engine.set_rules(name=hostile)
    html = await (await client.get("/", headers={"Accept-Encoding": "identity"})).text()
    parsed = inline_scripts(html)
    assert parsed.inline == [] and parsed.script_count == 1
    assert "</script><script>" not in html.split('id="boot">', 1)[1].split("</script>", 1)[0]
    assert boot_data(html)["config"]["shop"] == hostile


async def test_a_folder_without_a_build_has_no_page(make_client, tmp_path):
    client = await make_client(static_dir=tmp_path)
    assert (await client.get("/")).status == 404
    assert (await client.get("/static/dist/main.js")).status == 404


def test_the_page_bytes_are_compressed_once_per_content():
    """The compressed page is kept by its data: the same data is the same object, new data a new page."""
    from webapp.page import PAGES_KEPT, Front

    front = Front(STATIC_DIR)
    first = front.page(b'{"config":{}}')
    assert front.page(b'{"config":{}}') is first
    assert gzip.decompress(first.gzip) == first.plain
    for n in range(PAGES_KEPT + 2):
        front.page(b'{"n":%d}' % n)
    assert len(front.pages) == PAGES_KEPT

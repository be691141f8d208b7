"""Fetching an attached photo from a messenger's file server: capped, and every failure one of two kinds."""
from __future__ import annotations

import pytest
from aiohttp import web

from adapters.download import fetch, read_capped
from journey.photos import PhotoRefused


async def test_a_stream_is_cut_as_soon_as_it_passes_the_cap():
    pulled = []

    async def chunks():
        for n in range(100):
            pulled.append(n)
            yield b"x" * 1000

    with pytest.raises(PhotoRefused) as refused:
        await read_capped(chunks(), limit=2500)
    assert refused.value.reason == "too_large" and pulled == [0, 1, 2]
    assert await read_capped(_stream(b"ab", b"cd"), limit=4) == b"abcd"


async def _stream(*parts: bytes):
    for part in parts:
        yield part


@pytest.fixture
async def server(aiohttp_server):
    async def chunked(request: web.Request) -> web.StreamResponse:
        # no Content-Length: the size is known only by reading
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        for _ in range(50):
            await response.write(b"y" * 1000)
        return response

    async def small(request: web.Request) -> web.Response:
        return web.Response(body=b"photo bytes")

    async def big(request: web.Request) -> web.Response:
        return web.Response(body=b"z" * 5000)

    app = web.Application()
    app.router.add_get("/chunked", chunked)
    app.router.add_get("/small", small)
    app.router.add_get("/big", big)
    return await aiohttp_server(app)


async def test_a_file_is_fetched_and_a_big_one_refused_announced_or_not(server):
    assert await fetch(str(server.make_url("/small")), limit=100) == b"photo bytes"
    for path in ("/chunked", "/big"):
        with pytest.raises(PhotoRefused) as refused:
            await fetch(str(server.make_url(path)), limit=4000)
        assert refused.value.reason == "too_large", path


@pytest.mark.parametrize("url", ["/missing", "file:///etc/passwd", "ftp://example.com/a.jpg", "javascript:alert(1)"])
async def test_what_cannot_be_fetched_is_a_connection_error(server, url):
    with pytest.raises(ConnectionError):
        await fetch(str(server.make_url(url)) if url.startswith("/") else url)

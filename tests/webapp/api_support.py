"""What the Mini App API tests share: an answer that must succeed, and one that must be refused."""
from __future__ import annotations

from journey.errors import ErrorCode


async def ok(response, status: int = 200) -> dict:
    """The JSON of an answer with ``status``; anything else fails with the body the server sent."""
    assert response.status == status, await response.text()
    return await response.json()


async def refused(response, status: int, code: str | ErrorCode) -> dict:
    """A refusal with ``status`` and the error ``code``, which always carries a message for people."""
    data = await response.json()
    expected = code.value if isinstance(code, ErrorCode) else code
    assert (response.status, data["error"]) == (status, expected), data
    assert data["message"]
    return data

"""The served OpenAPI document is valid OpenAPI 3.1 and describes exactly the /api routes the server has.

``openapi-spec-validator`` checks the document (its schemas too: a default the schema does not admit, a path
parameter not declared); the routes the aiohttp app registers under /api, with their methods, must be the
document's operations, so a route added without its description (or described and gone) fails here. And
docs/API.md, where it names a status with an error code, names the status the server answers it with.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from openapi_spec_validator import OpenAPIV31SpecValidator

from journey.errors import ErrorCode
from webapp.app import PUBLIC_API

METHODS = {"get", "put", "post", "delete", "patch", "options", "head", "trace"}


async def served(client: Any) -> dict[str, Any]:
    answer = await client.get("/api/openapi.json")
    assert answer.status == 200 and answer.content_type == "application/json"
    return await answer.json()


async def test_the_served_document_is_valid_openapi_3_1(client: Any) -> None:
    document = await served(client)
    assert document["openapi"].startswith("3.1.")
    problems = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
                for e in OpenAPIV31SpecValidator(document).iter_errors()]
    assert problems == []


def test_the_validator_finds_what_the_document_once_had() -> None:
    """A null default on a string (what pydantic leaves for a key skipped when empty) is refused: the check
    above can fail."""
    document = {"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {}, "components": {
        "schemas": {"Error": {"type": "object", "properties": {"detail": {"type": "string", "default": None}}}}}}
    assert list(OpenAPIV31SpecValidator(document).iter_errors())


def registered(app: Any) -> set[tuple[str, str]]:
    """(path, method) of every /api route the app has; HEAD comes with GET and is not an operation of its own."""
    return {(route.resource.canonical, route.method.lower()) for route in app.router.routes()
            if route.resource is not None and route.resource.canonical.startswith("/api/")
            and route.method != "HEAD"}


async def test_every_api_route_is_in_the_document_and_nothing_else(client: Any) -> None:
    document = await served(client)
    described = {(path, method) for path, item in document["paths"].items() for method in item if method in METHODS}
    routes = registered(client.app)
    assert routes - described == set(), "routes the document does not describe"
    assert described - routes == set(), "operations the server does not have"


async def test_the_public_operations_are_the_ones_without_launch_data(client: Any) -> None:
    """``security: []`` (no launch data, never 401) exactly on the paths the auth middleware lets through."""
    document = await served(client)
    public = {path for path, item in document["paths"].items() for method, op in item.items()
              if method in METHODS and op.get("security") == []}
    assert public == set(PUBLIC_API)
    for path in PUBLIC_API:
        for method, op in document["paths"][path].items():
            assert "401" not in op["responses"], (path, method)


DOCS = Path(__file__).resolve().parents[2] / "docs" / "API.md"
# "404 `order_not_found`", "409 `already_picked_up`": a status, then the error code the server answers with it
STATUS_AND_CODE = re.compile(r"\b([1-5][0-9]{2})\s+`([a-z]+(?:_[a-z]+)*)`")


def test_every_status_and_code_docs_api_md_names_is_the_servers() -> None:
    """docs/API.md says "409 `already_picked_up`": that code exists and the server answers it with 409."""
    statuses = {code.value: code.http_status for code in ErrorCode}
    named = STATUS_AND_CODE.findall(DOCS.read_text(encoding="utf-8"))
    assert len(named) >= 20  # the pattern still finds what the page says
    wrong = sorted({f"{status} {code}: the server answers {statuses.get(code, 'no such code')}"
                    for status, code in named if statuses.get(code) != int(status)})
    assert wrong == []

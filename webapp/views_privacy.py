"""Personal data (152-FZ) in the Mini App: the policy page, the consent, the export and the deletion.

Export and deletion always act on the caller: the account comes from the verified launch data, and no
parameter names anyone else.
"""
from __future__ import annotations

from functools import lru_cache

from aiohttp import web

from journey.customers import language_of

from . import serialize
from .bodies import ConsentBody, ForgetBody
from .policy import Policy, PolicyDetails, render
from .views import body, caller, config, dumps, engine, reply

routes = web.RouteTableDef()


async def policy(request: web.Request) -> Policy:
    """The policy ``bot.main`` rendered at start; a server built without one (embedded, in tests) serves the
    shipped text with the shop's name."""
    given = config(request).privacy
    if given is not None:
        return given
    return _shipped((await engine(request).shop_view()).rules.name, config(request).base_url)


@lru_cache(maxsize=4)
def _shipped(shop: str, site: str) -> Policy:
    return render(PolicyDetails(shop=shop, site=site))


def policy_url(request: web.Request) -> str:
    return config(request).base_url + "/privacy"


@routes.get("/privacy")
async def privacy_page(request: web.Request) -> web.Response:
    """The policy in Russian, in English when ``?lang=en`` or the browser prefers English."""
    found = await policy(request)
    wanted = request.query.get("lang") or language_of(request.headers.get("Accept-Language"))
    return web.Response(text=found.html(wanted), content_type="text/html", charset="utf-8",
                        headers={"Cache-Control": "no-cache", "Vary": "Accept-Language",
                                 "Content-Language": found.language(wanted)})


async def privacy_config(request: web.Request) -> dict:
    """``/api/config``'s ``privacy``: where the policy is, its version, and whether consent is asked."""
    asked = engine(request).consent_version
    return serialize.privacy_config(policy_url(request), asked or (await policy(request)).version, asked is not None)


@routes.post("/api/consent")
async def post_consent(request: web.Request) -> web.Response:
    """The caller consents to the policy of ``version`` (the one ``/api/config`` gave); an older one is
    refused (``consent_version_stale``): the page they read is not the policy in force."""
    given = await body(request, ConsentBody)
    consent = await engine(request).give_consent(caller(request), given.version)
    return reply(serialize.consent(consent), 201)


@routes.get("/api/me/export")
async def get_export(request: web.Request) -> web.Response:
    """Everything the shop keeps about the caller, as a JSON file to save."""
    eng = engine(request)
    data = await eng.export_data(caller(request))
    day = eng.now().date().isoformat()
    return web.Response(body=dumps(data, indent=1).encode(), content_type="application/json", charset="utf-8",
                        headers={"Cache-Control": "no-store",
                                 "Content-Disposition": f'attachment; filename="my-data-{day}.json"'})


@routes.post("/api/me/forget")
async def post_forget(request: web.Request) -> web.Response:
    """Delete the caller's profile and every account linked to it (``{"confirm": true}``, so that no stray
    request deletes anyone). Orders stay for the accounts, without the person."""
    await body(request, ForgetBody)
    await engine(request).forget(caller(request))
    return reply(serialize.forgotten())

"""The VK Mini App: launch parameters signed with the app secret, and the vk.com/app link on the QR page."""
from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable
from datetime import datetime
from urllib.parse import parse_qsl, urlencode

from journey.channels import Channel, CustomerRef, LandingLink, Launch
from journey.customers import language_of
from journey.launch import KeptLaunches, refused


def vk_sign(secret: str, params: Iterable[tuple[str, str]]) -> str:
    """VK's launch signature: the ``vk_*`` pairs sorted by key, url-encoded, HMAC-SHA256, base64url unpadded."""
    signed = urlencode(sorted((k, v) for k, v in params if k.startswith("vk_")))
    digest = hmac.new(secret.encode(), signed.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


KEPT = 4096  # launch strings whose sign held, kept with what they say


def _digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


class VkMiniApp:
    channel = Channel.VK
    scheme = "vk"

    def __init__(self, app_id: int | None, app_secret: str, group_id: int | None = None) -> None:
        self.app_id = app_id
        self.app_secret = app_secret
        self.group_id = group_id
        self._verified = KeptLaunches(KEPT)  # launch strings whose sign held: when, and who

    def check(self, launch: str, now: datetime, max_age: int) -> Launch:
        """The account that signed ``launch``, if it is at most ``max_age`` seconds old; what a string whose
        sign held says is kept (``KeptLaunches``)."""
        return self._verified.check(launch, now, max_age, self._verify)

    def _verify(self, launch: str) -> tuple[float, Launch]:
        query = launch.split("#", 1)[0]
        query = query.split("?", 1)[1] if "?" in query else query
        try:
            pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=True)
        except ValueError:
            raise refused("launch parameters do not parse") from None
        params = dict(pairs)
        if len(params) != len(pairs):
            raise refused("a launch parameter is repeated")
        sign = params.get("sign", "")
        expected = vk_sign(self.app_secret, pairs)
        if not sign or not hmac.compare_digest(expected.encode(), sign.encode()):
            raise refused("bad sign")
        if self.app_id is not None and params.get("vk_app_id") != str(self.app_id):
            raise refused("another VK app")
        user_id, ts = params.get("vk_user_id", ""), params.get("vk_ts", "")
        if not _digits(user_id) or not _digits(ts):
            raise refused("vk_user_id and vk_ts are required")
        return int(ts), Launch(CustomerRef(Channel.VK, user_id, "", language_of(params.get("vk_language"))))

    def landing_link(self, param: str) -> LandingLink | None:
        if not self.app_id:
            return None
        return LandingLink(f"https://vk.com/app{self.app_id}#{param}", "Открыть во ВКонтакте", "Open in VK", "#0077ff")

    def public(self) -> dict[str, str | int | None]:
        return {"app_id": self.app_id, "group_id": self.group_id}

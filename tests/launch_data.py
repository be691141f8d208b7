"""Launch data signed the way Telegram and VK sign it, for tests that open the Mini App."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
from urllib.parse import urlencode


def telegram_init_data(user_id: int, auth_date: int, *, token: str, first_name: str = "Анна",
                       language_code: str = "ru", start_param: str | None = None) -> str:
    """initData as Telegram builds it: hash = HMAC(HMAC("WebAppData", token), sorted key=value lines)."""
    user = {"id": user_id, "first_name": first_name, "last_name": "Тестова", "language_code": language_code,
            "allows_write_to_pm": True}
    fields = {"query_id": "AAHdF6IQAAAAAN0XohDhrOrc", "auth_date": str(auth_date),
              "user": json.dumps(user, ensure_ascii=False, separators=(",", ":"))}
    if start_param:
        fields["start_param"] = start_param
    data_check_string = "\n".join(f"{k}={v}" for k, v in sorted(fields.items()))
    secret = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    fields["hash"] = hmac.new(secret, data_check_string.encode(), hashlib.sha256).hexdigest()
    return urlencode(fields)


def vk_launch_params(user_id: int, ts: int, *, secret: str, app_id: int, language: str = "ru",
                     platform: str = "mobile_android") -> str:
    """The launch query string as VK signs it: vk_* sorted, url-encoded, HMAC-SHA256, base64url unpadded."""
    params = {"vk_user_id": str(user_id), "vk_app_id": str(app_id), "vk_ts": str(ts), "vk_language": language,
              "vk_platform": platform, "vk_is_app_user": "1", "vk_are_notifications_enabled": "0",
              "vk_access_token_settings": "friends,status"}
    signed = urlencode(sorted(params.items()))
    digest = hmac.new(secret.encode(), signed.encode(), hashlib.sha256).digest()
    sign = base64.urlsafe_b64encode(digest).decode().rstrip("=")
    return urlencode({**params, "odr_enabled": "1", "sign": sign})

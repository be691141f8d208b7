"""The two translators: VK community events -> ``Inbound``, ``Reply`` buttons -> a VK keyboard."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from journey.channels import Button, Capabilities, Channel, CustomerRef, Inbound

CAPABILITIES = Capabilities(inline_buttons=True, mini_app_buttons=True, photos=True, invoices=False, max_text=4000,
                            files=True)
MAX_ROWS, MAX_BUTTONS, MAX_LABEL = 6, 10, 40  # VK's limits for an inline keyboard


def random_id(key: str) -> int:
    """VK drops a second send with the same random_id: derive it from what the send is about."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "big") & 0x7FFFFFFF or 1


def _payload(raw: Any) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    try:
        value = json.loads(raw) if raw else {}
    except (TypeError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def photo_url(message: dict[str, Any]) -> str | None:
    """The address of the largest size of the first photo attached to a message (``orig_photo`` counts)."""
    for attachment in message.get("attachments") or ():
        photo = attachment.get("photo") if isinstance(attachment, dict) and attachment.get("type") == "photo" else None
        if not isinstance(photo, dict):
            continue
        sizes = [s for s in [*(photo.get("sizes") or ()), photo.get("orig_photo")]
                 if isinstance(s, dict) and isinstance(s.get("url"), str) and s["url"]]
        if sizes:
            return max(sizes, key=_area)["url"]
    return None


def _area(size: dict[str, Any]) -> int:
    width, height = size.get("width"), size.get("height")
    return width * height if isinstance(width, int) and isinstance(height, int) else 0


def from_message_new(event: dict[str, Any], language: str = "ru",
                     fetch: Callable[[str], Awaitable[bytes]] | None = None) -> Inbound | None:
    """A message to the community. ``ref`` on a first message from vk.me/<group>?ref=<param> is a start.
    ``fetch(url)`` downloads a file: with it, an attached photo becomes ``Inbound.photo``."""
    message = (event.get("object") or {}).get("message") or {}
    from_id = message.get("from_id")
    if not isinstance(from_id, int) or from_id <= 0:  # communities and malformed events
        return None
    sender = CustomerRef(Channel.VK, str(from_id), "", language)
    text = str(message.get("text") or "").strip()[:4096]
    payload = _payload(message.get("payload"))
    command, argument, action, args = None, "", None, {}
    if message.get("ref"):
        command, argument = "start", str(message["ref"])[:256]
    elif payload.get("command") == "start":  # VK's own "Начать" button
        command = "start"
    elif "a" in payload:  # a text button of ours
        action, args = str(payload["a"]), ({"id": str(payload["id"])} if payload.get("id") else {})
    elif text.startswith("/"):
        head, _, argument = text.partition(" ")
        command, argument = head[1:].lower() or None, argument.strip()
    url = photo_url(message) if fetch else None
    return Inbound(sender, text=text, command=command, argument=argument, action=action, payload=args,
                   update_id=str(event.get("event_id") or f"m{message.get('peer_id')}:{message.get('id')}"),
                   photo=partial(fetch, url) if fetch and url else None, raw=event,
                   group_chat=message.get("peer_id", from_id) != from_id)


def from_message_event(event: dict[str, Any], language: str = "ru") -> Inbound | None:
    """A callback button pressed."""
    obj = event.get("object") or {}
    user_id = obj.get("user_id")
    if not isinstance(user_id, int):
        return None
    payload = _payload(obj.get("payload"))
    action = str(payload.get("a") or "unknown")
    args = {"id": str(payload["id"])} if payload.get("id") else {}
    return Inbound(CustomerRef(Channel.VK, str(user_id), "", language), action=action, payload=args,
                   update_id=str(event.get("event_id") or obj.get("event_id")), raw=event,
                   group_chat=obj.get("peer_id", user_id) != user_id)


def keyboard(rows: tuple[tuple[Button, ...], ...], app_id: int | None, group_id: int | None) -> str | None:
    """An inline keyboard within VK's limits; a Mini App button opens the VK Mini App with its hash."""
    out: list[list[dict]] = []
    count = 0
    for row in rows:
        buttons = []
        for b in row:
            label = b.text[:MAX_LABEL]
            if b.mini_app is not None:
                if not app_id:
                    continue
                action = {"type": "open_app", "app_id": app_id, "label": label, "hash": b.mini_app}
                if group_id:
                    action["owner_id"] = -group_id
            elif b.url:
                action = {"type": "open_link", "link": b.url, "label": label}
            elif b.action:
                data = {"a": b.action, **({"id": b.payload["id"]} if b.payload.get("id") else {})}
                action = {"type": "callback", "label": label, "payload": json.dumps(data, ensure_ascii=False)}
            else:
                continue
            if count < MAX_BUTTONS:
                buttons.append({"action": action})
                count += 1
        if buttons:
            out.append(buttons)
    while len(out) > MAX_ROWS:  # fold single-button rows in pairs until it fits
        singles = [i for i, r in enumerate(out) if len(r) == 1]
        if len(singles) < 2:
            out = out[:MAX_ROWS]
            break
        first, second = singles[0], singles[1]
        out[first] = out[first] + out.pop(second)
    return json.dumps({"inline": True, "buttons": out}, ensure_ascii=False) if out else None

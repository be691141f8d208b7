"""The start parameter grammar shared by every channel (see DESIGN.md, "Deep links")."""
from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

PARAM = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_POINT = r"[a-z0-9]+"


class LinkKind(str, Enum):
    POINT = "point"  # p<point>: counter QR
    TABLE = "table"  # t<point>_<table>
    REFERRAL = "referral"  # r<code>
    GIFT = "gift"  # g<code>
    SOURCE = "source"  # s<source>: campaign or map listing
    UNKNOWN = "unknown"  # recorded, never fatal
    # group orders (journey/groups.py)
    GROUP = "group"  # j<code>: join a group order


@dataclass(frozen=True, slots=True)
class DeepLink:
    raw: str
    kind: LinkKind
    point_id: str | None = None
    table: str | None = None
    code: str | None = None
    source: str | None = None
    # sharing (journey/sharing.py): how a referral link was shared, r<code>-<via>; None for a plain r<code>
    via: str | None = None

    @property
    def label(self) -> str:
        """What is recorded as the visit's source: ``qr:center``, ``ref:ab12``, ``2gis`` ..."""
        match self.kind:
            case LinkKind.POINT:
                return f"qr:{self.point_id}"
            case LinkKind.TABLE:
                return f"table:{self.point_id}:{self.table}"
            case LinkKind.REFERRAL:
                return f"ref:{self.code}"
            case LinkKind.GIFT:
                return f"gift:{self.code}"
            case LinkKind.SOURCE:
                return str(self.source)
            case LinkKind.GROUP:
                return f"group:{self.code}"
        return f"unknown:{self.raw[:64]}"


# sharing: r<code>-<via>, a referral link carrying how it was shared (referral codes are alphanumeric)
SHARE_VIAS = ("ts", "ti", "vs", "vw", "l")  # Telegram story, Telegram inline card, VK story, VK wall, a link
_SHARED = re.compile(rf"^r(?P<code>[A-Za-z0-9]{{1,60}})-(?P<via>{'|'.join(SHARE_VIAS)})$")

_RULES = (
    (re.compile(rf"^p(?P<point>{_POINT})$"), LinkKind.POINT),
    (re.compile(rf"^t(?P<point>{_POINT})_(?P<table>[A-Za-z0-9]{{1,16}})$"), LinkKind.TABLE),
    (re.compile(r"^r(?P<code>[A-Za-z0-9_-]{1,63})$"), LinkKind.REFERRAL),
    (re.compile(r"^g(?P<code>[A-Za-z0-9_-]{1,63})$"), LinkKind.GIFT),
    (re.compile(r"^s(?P<source>[A-Za-z0-9_-]{1,63})$"), LinkKind.SOURCE),
    (re.compile(r"^j(?P<code>[A-Za-z0-9_-]{1,63})$"), LinkKind.GROUP),  # group orders
)


def parse_start(param: str | None) -> DeepLink | None:
    """Parse a start parameter. None for no parameter; LinkKind.UNKNOWN for anything malformed."""
    if param is None or param == "":
        return None
    text = str(param)
    if PARAM.fullmatch(text):
        shared = _SHARED.fullmatch(text)  # sharing: the referral code and how it was shared
        if shared:
            return DeepLink(text, LinkKind.REFERRAL, code=shared["code"], via=shared["via"])
        for pattern, kind in _RULES:
            m = pattern.fullmatch(text)
            if m:
                g = m.groupdict()
                return DeepLink(text, kind, point_id=g.get("point"), table=g.get("table"),
                                code=g.get("code"), source=g.get("source"))
    safe = re.sub(r"[^A-Za-z0-9_-]", "?", text)[:64]
    return DeepLink(safe, LinkKind.UNKNOWN)

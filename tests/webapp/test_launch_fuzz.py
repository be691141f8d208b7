"""Launch data under fuzzing: no mutation of Telegram's initData or VK's launch parameters makes anyone else.

Each example signs a launch for a fresh account (with the real bot token or app secret, or with an
attacker's key), mutates it (values, keys, order, duplicates, extra and missing parameters, encodings,
truncation, the hash or sign, the times) and asks ``GET /api/me`` of the real app with the real Telegram
and VK checks. The oracle reads the mutated string as the platforms define it (a query string whose
pairs are percent-decoded; Telegram signs every pair but ``hash``, VK the ``vk_*`` ones):

- signed with another key, or the signed pairs or the hash/sign now mean something else: 401;
- the signed pairs and the hash/sign decode exactly as signed: 200, and the account is the signed one;
- whatever answers 200 is exactly the signed account (id, name, language): 0 forged identities.

Times: a launch is accepted from ``FUTURE_SKEW`` seconds in the future to ``auth_max_age`` seconds old,
both ends included (journey/launch.py, docs/SECURITY.md).
"""
from __future__ import annotations

import json
import string
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus

import launch_data
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from adapters.telegram.launch import TelegramMiniApp
from adapters.vk.launch import VkMiniApp
from journey.launch import FUTURE_SKEW
from webapp import WebappConfig, create_app

TOKEN = "7000000001:AAfuzz-the-real-bot-token"
ATTACKER_TOKEN = "7000000002:AAan-attackers-own-bot"
SECRET = "fuzz-vk-app-secret"
ATTACKER_SECRET = "an-attackers-vk-secret"
APP_ID = 51000001
MAX_AGE = 3600
FIRST_NAMES = ("Йожик", "José", "Zoë", "Анна", "ﬁona", "O'Neil & \"Co\"", "a+b=c;d")
FUZZ = settings(max_examples=200, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

Pairs = list[tuple[str, str]]
REFUSE = "refuse"  # the string cannot be read as a query string: it must be refused
EITHER = "either"  # a repeated Telegram key: the signed identity or nothing


@dataclass(frozen=True)
class Signed:
    scheme: str  # "tma" or "vk"
    user_id: int
    name: str
    language: str
    pairs: Pairs
    genuine: bool  # signed with the shop's own token or secret

    @property
    def proof(self) -> str:
        return "hash" if self.scheme == "tma" else "sign"


class Qr:
    def svg(self, data: str, caption: str = "") -> bytes:
        return b"<svg/>"

    def png(self, data: str, caption: str = "") -> bytes:
        return b"png"


@pytest.fixture
async def app_client(aiohttp_client, engine):
    config = WebappConfig(demo=False, auth_max_age=MAX_AGE, public_url="https://shop.example",
                          mini_apps=[TelegramMiniApp(TOKEN, lambda: "fuzz_bot"), VkMiniApp(APP_ID, SECRET)])
    return await aiohttp_client(create_app(engine, config, Qr()))


def now_of(engine) -> int:
    return int(engine.now().timestamp())


def sign_telegram(user_id: int, auth_date: int, genuine: bool = True) -> Signed:
    first = FIRST_NAMES[user_id % len(FIRST_NAMES)]  # one name per account: a stored name is never stale
    language = ("ru", "en")[user_id % 2]
    raw = launch_data.telegram_init_data(user_id, auth_date, token=TOKEN if genuine else ATTACKER_TOKEN,
                                         first_name=first, language_code=language)
    return Signed("tma", user_id, f"{first} Тестова", language, parse_qsl(raw), genuine)


def sign_vk(user_id: int, ts: int, genuine: bool = True) -> Signed:
    language = ("ru", "en")[user_id % 2]
    raw = launch_data.vk_launch_params(user_id, ts, secret=SECRET if genuine else ATTACKER_SECRET,
                                       app_id=APP_ID, language=language)
    return Signed("vk", user_id, "", language, parse_qsl(raw), genuine)


# --- how the platforms define the string: what it says, and its proof --------------------------------
def telegram_view(raw: str) -> tuple[dict[str, str], str | None] | str:
    """Every pair but ``hash`` is signed; pairs with an empty value carry nothing (Telegram sends none)."""
    try:
        pairs = parse_qsl(raw, strict_parsing=True)
    except ValueError:
        return REFUSE
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        return EITHER
    said = dict(pairs)
    return said, said.pop("hash", None)


def vk_view(raw: str) -> tuple[Pairs, str | None] | str:
    """The ``vk_*`` pairs are signed; the string may be a whole URL; a repeated parameter is refused."""
    query = raw.split("#", 1)[0]
    query = query.split("?", 1)[1] if "?" in query else query
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        return REFUSE
    if len({k for k, _ in pairs}) != len(pairs):
        return REFUSE
    return sorted(p for p in pairs if p[0].startswith("vk_")), dict(pairs).get("sign")


# --- mutations --------------------------------------------------------------------------------------
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12)
HEX, B64 = "0123456789abcdef", string.ascii_letters + string.digits + "-_"


def mutate_text(draw: Callable[..., Any], old: str) -> str:
    how = draw(st.sampled_from(["replace", "insert", "delete", "case", "normalize", "space", "fullwidth"]))
    if how == "replace":
        return draw(TEXT)
    if how == "insert":
        at = draw(st.integers(0, len(old)))
        return old[:at] + draw(st.sampled_from(["\n", "=", "&", "%", "+", " ", "\x00", "\u200b", "0"])) + old[at:]
    if how == "delete" and old:
        at = draw(st.integers(0, len(old) - 1))
        return old[:at] + old[at + 1:]
    if how == "case":
        return draw(st.sampled_from([old.upper(), old.lower(), old.swapcase(), old.title()]))
    if how == "normalize":
        return unicodedata.normalize(draw(st.sampled_from(["NFC", "NFD", "NFKC", "NFKD"])), old)
    if how == "space":
        return draw(st.sampled_from([" " + old, old + " ", old + "\n", "\t" + old]))
    # fullwidth lookalikes of ASCII letters and digits
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" and draw(st.booleans()) else c for c in old)


def mutate_user_json(draw: Callable[..., Any], old: str) -> str:
    try:
        user = json.loads(old)
    except ValueError:
        user = None
    if not isinstance(user, dict) or not isinstance(user.get("id"), int):  # mutated before into something else
        return draw(TEXT)
    how = draw(st.sampled_from(["id", "name", "spaces", "order", "ascii", "string id", "extra"]))
    if how == "id":
        user["id"] = draw(st.sampled_from([user["id"] + 1, user["id"] - 1, 1, 2, -user["id"], 0]))
    elif how == "name":
        user["first_name"] = draw(TEXT)
    elif how == "string id":
        user["id"] = str(user["id"])
    elif how == "extra":
        user["is_premium"] = True
    elif how == "order":
        user = dict(reversed(list(user.items())))
    if how == "spaces":
        return json.dumps(user, ensure_ascii=False)
    return json.dumps(user, ensure_ascii=how == "ascii", separators=(",", ":"))


def mutate_proof(draw: Callable[..., Any], old: str, signed: Signed) -> str:
    alphabet = HEX if signed.scheme == "tma" else B64
    how = draw(st.sampled_from(["flip", "empty", "cut", "longer", "upper", "zeros", "pad", "other key",
                                "spaces"]))
    if how == "flip" and old:
        at = draw(st.integers(0, len(old) - 1))
        return old[:at] + draw(st.sampled_from([c for c in alphabet if c != old[at]])) + old[at + 1:]
    if how == "cut":
        return old[:draw(st.integers(0, max(len(old) - 1, 0)))]
    if how == "longer":
        return old + draw(st.sampled_from(list(alphabet)))
    if how == "upper":
        return old.upper()
    if how == "zeros":
        return "0" * len(old)
    if how == "pad":
        return old + "="
    if how == "spaces":
        return f" {old} "
    if how == "other key":  # the same data signed by someone else
        other = (sign_telegram if signed.scheme == "tma" else sign_vk)(signed.user_id, 0, genuine=False)
        return dict(other.pairs)[signed.proof]
    return ""


def mutate_time(draw: Callable[..., Any], old: str) -> str:
    if not old.isdigit():  # mutated before
        return draw(TEXT)
    ts = int(old)
    return draw(st.sampled_from([
        str(ts - MAX_AGE - 1), str(ts + FUTURE_SKEW + 1), str(ts + 10**6), str(ts - 1), str(ts + 1), "0", "-1",
        f"{ts}.0", f"0{ts}", f"{ts}000", f"+{ts}", f" {ts}", f"{ts / 1e9:.9f}e9", "", str(2**63)]))


def mutate_pairs(draw: Callable[..., Any], signed: Signed, now: int) -> Pairs:
    pairs = list(signed.pairs)
    time_key = "auth_date" if signed.scheme == "tma" else "vk_ts"
    for _ in range(draw(st.integers(1, 3))):
        # about half the examples keep the meaning (order, encodings, nothing): they must still be accepted
        how = draw(st.sampled_from(["value", "key", "drop", "duplicate", "extra", "order", "proof", "time",
                                    "user"] + ["nothing", "order"] * 4))
        at = draw(st.integers(0, len(pairs) - 1)) if pairs else 0
        if how == "value" and pairs:
            pairs[at] = (pairs[at][0], mutate_text(draw, pairs[at][1]))
        elif how == "key" and pairs:
            pairs[at] = (mutate_text(draw, pairs[at][0]), pairs[at][1])
        elif how == "drop" and pairs:
            del pairs[at]
        elif how == "duplicate" and pairs:
            key, value = pairs[at]
            copy = (key, draw(st.sampled_from([value, mutate_text(draw, value)])))
            pairs.insert(draw(st.integers(0, len(pairs))), copy)
        elif how == "extra":
            key = draw(st.sampled_from(["signature", "chat_type", "start_param", "receiver", "vk_ref",
                                        "vk_is_favorite", "vk_user_id ", "odr_enabled", "x"]) | TEXT)
            pairs.insert(draw(st.integers(0, len(pairs))), (key, draw(TEXT)))
        elif how == "order":
            pairs = draw(st.permutations(pairs))
        elif how in ("proof", "time", "user"):
            key = {"proof": signed.proof, "time": time_key, "user": "user" if signed.scheme == "tma"
                   else "vk_user_id"}[how]
            for i, (k, v) in enumerate(pairs):
                if k == key:
                    if how == "proof":
                        v = mutate_proof(draw, v, signed)
                    elif how == "time":
                        v = mutate_time(draw, v)
                    elif signed.scheme == "tma":
                        v = mutate_user_json(draw, v)
                    else:
                        bumped = str(int(v) + 1) if v.isdigit() else "3"
                        v = draw(st.sampled_from([bumped, "1", "2", f"0{v}", f"{v} ", f"-{v}", "",
                                                  v.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))]))
                    pairs[i] = (k, v)
                    break
    return pairs


def encode(draw: Callable[..., Any], text: str) -> str:
    how = draw(st.sampled_from(["plus", "pct20", "every byte", "lower hex", "double", "latin-1", "loose"]))
    if how == "plus":
        return quote_plus(text, safe="")
    if how == "pct20":
        return quote(text, safe="")
    if how == "every byte":
        return "".join(f"%{b:02X}" for b in text.encode())
    if how == "lower hex":
        return "".join(f"%{b:02x}" for b in text.encode())
    if how == "double":
        return quote(quote(text, safe=""), safe="")
    if how == "latin-1":
        return quote(text, safe="", encoding="latin-1", errors="replace")
    return quote(text, safe=':/,{}"\'!*()@$;?#')  # a client that leaves what it may raw (and some it may not)


def serialize(draw: Callable[..., Any], pairs: Pairs, scheme: str) -> str:
    raw = "&".join(f"{encode(draw, k)}={encode(draw, v)}" for k, v in pairs)
    how = draw(st.sampled_from(["as is"] * 4 + ["cut", "empty segment", "trailing &", "semicolons", "url",
                                                "fragment", "no =", "leading ?"]))
    if how == "cut":
        return raw[:draw(st.integers(0, max(len(raw) - 1, 0)))]
    if how == "empty segment":
        at = raw.find("&")
        return raw[:at] + "&" + raw[at:] if at >= 0 else raw
    if how == "trailing &":
        return raw + "&"
    if how == "semicolons":
        return raw.replace("&", ";", 1)
    if how == "url":
        return "https://shop.example/?" + raw
    if how == "fragment":
        return raw + "#pcenter"
    if how == "leading ?":
        return "?" + raw
    if how == "no =":
        return raw.replace("=", "", 1)
    return raw


async def ask(client, scheme: str, raw: str) -> tuple[int, dict]:
    response = await client.get("/api/me", headers={"Authorization": f"{scheme} {raw}"})
    body = await response.json()
    if response.status == 401:
        assert body["error"] == "unauthorized"
    return response.status, body


def assert_is_signed(me: dict, signed: Signed) -> None:
    """The answer is the signed account and nothing else: channel, id, name, language."""
    channel = "telegram" if signed.scheme == "tma" else "vk"
    assert me["channels"] == [{"channel": channel, "id": str(signed.user_id)}], (me, signed)
    if signed.scheme == "tma":
        assert me["name"] == signed.name, (me, signed)
    assert me["language"] == signed.language, (me, signed)


async def check_mutation(client, engine, data, scheme: str) -> None:
    now = now_of(engine)
    user_id = data.draw(st.integers(10**8, 10**10), label="user id")
    age = data.draw(st.integers(-FUTURE_SKEW, MAX_AGE), label="age")
    genuine = data.draw(st.sampled_from([True] * 5 + [False]), label="genuine")
    signed = (sign_telegram if scheme == "tma" else sign_vk)(user_id, now - age, genuine)
    raw = serialize(data.draw, mutate_pairs(data.draw, signed, now), scheme)
    note(f"sent: {scheme} {raw}")
    view = (telegram_view if scheme == "tma" else vk_view)
    original, seen = view("&".join(f"{quote(k)}={quote(v)}" for k, v in signed.pairs)), view(raw)
    status, me = await ask(client, scheme, raw)
    assert status in (200, 401), me
    if status == 200:
        assert_is_signed(me, signed)  # 0 forged identities, whatever the mutation
    if not signed.genuine or seen == REFUSE or (seen != EITHER and seen != original):
        assert status == 401, f"accepted a launch that means something else than what was signed: {raw}"
    elif seen == original:
        assert status == 200, f"refused a launch that decodes exactly as signed: {raw}"


@FUZZ
@given(data=st.data())
async def test_no_mutation_of_telegram_init_data_is_another_identity(app_client, engine, data):
    await check_mutation(app_client, engine, data, "tma")


@FUZZ
@given(data=st.data())
async def test_no_mutation_of_vk_launch_params_is_another_identity(app_client, engine, data):
    await check_mutation(app_client, engine, data, "vk")


# --- the times: accepted from FUTURE_SKEW seconds ahead to MAX_AGE seconds old, both ends included -------
EDGES = [MAX_AGE, MAX_AGE + 1, MAX_AGE - 1, -FUTURE_SKEW, -FUTURE_SKEW - 1, -FUTURE_SKEW + 1, 0, 10**9, -10**9]


@settings(max_examples=60, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(scheme=st.sampled_from(["tma", "vk"]), age=st.sampled_from(EDGES) | st.integers(-10**6, 10**6),
       user_id=st.integers(10**8, 10**10))
async def test_a_signed_launch_is_accepted_exactly_within_its_age(app_client, engine, scheme, age, user_id):
    signed = (sign_telegram if scheme == "tma" else sign_vk)(user_id, now_of(engine) - age)
    status, me = await ask(app_client, scheme, "&".join(f"{quote(k)}={quote(v)}" for k, v in signed.pairs))
    if -FUTURE_SKEW <= age <= MAX_AGE:
        assert status == 200, (age, me)
        assert_is_signed(me, signed)
    else:
        assert status == 401, (age, me)


@pytest.mark.parametrize("scheme", ["tma", "vk"])
async def test_the_boundary_times(app_client, engine, scheme):
    for age, status in [(MAX_AGE, 200), (MAX_AGE + 1, 401), (-FUTURE_SKEW, 200), (-FUTURE_SKEW - 1, 401)]:
        signed = (sign_telegram if scheme == "tma" else sign_vk)(987654321, now_of(engine) - age)
        answer, _ = await ask(app_client, scheme, "&".join(f"{quote(k)}={quote(v)}" for k, v in signed.pairs))
        assert answer == status, age

"""Telegram's initData read with the standard library accepts and refuses exactly what aiogram's
``safe_parse_webapp_init_data`` (the check it replaced) does, and reads the same account from it: signed
initData of every shape (typed fields in odd forms, extra fields, a user object that aiogram's model would
refuse), and strings that are not initData at all."""
from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest
from aiogram.utils.web_app import safe_parse_webapp_init_data
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.telegram.launch import TelegramMiniApp
from journey.channels import Channel, CustomerRef, Launch
from journey.customers import language_of
from journey.errors import DomainError
from journey.launch import check_age, refused

TOKEN = "7000000003:AAthe-shops-bot"
NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
ISSUED = int(NOW.timestamp()) - 60
MAX_AGE = 86400


def by_aiogram(launch: str) -> Launch:
    """The check as it was, on aiogram's parser and model."""
    try:
        data = safe_parse_webapp_init_data(TOKEN, launch)
    except Exception as exc:
        raise refused(f"initData: {exc.__class__.__name__}") from None
    if data.user is None:
        raise refused("initData has no user")
    check_age(data.auth_date.timestamp(), NOW, MAX_AGE)
    user = data.user
    name = " ".join(filter(None, (user.first_name, user.last_name)))[:64]
    return Launch(CustomerRef(Channel.TELEGRAM, str(user.id), name, language_of(user.language_code)),
                  data.start_param or None)


def outcome(check, launch: str) -> tuple:
    try:
        found = check(launch)
    except DomainError:
        return ("refused",)
    return (found.ref, found.ref.name, found.ref.language, found.start_param)


def signed(fields: dict[str, str], token: str = TOKEN) -> str:
    check = "\n".join(f"{k}={v}" for k, v in sorted(fields.items()) if v)  # empty values are dropped when read
    secret = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    return urlencode({**fields, "hash": hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()})


def same(launch: str) -> None:
    new = TelegramMiniApp(TOKEN)
    assert outcome(lambda s: new.check(s, NOW, MAX_AGE), launch) == outcome(by_aiogram, launch), launch


ODD = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(allow_nan=False),
                st.text(max_size=8), st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=3),
                                                                                      st.integers(), max_size=2))
USER_KEYS = ["id", "first_name", "last_name", "username", "language_code", "photo_url", "is_bot", "is_premium",
             "added_to_attachment_menu", "allows_write_to_pm", "extra"]


@st.composite
def users(draw) -> str:
    user: dict = {"id": draw(st.integers(1, 2**52)), "first_name": draw(st.text(max_size=10))}
    if draw(st.booleans()):
        user["last_name"] = draw(st.text(max_size=10))
    if draw(st.booleans()):
        user["language_code"] = draw(st.sampled_from(["ru", "en", "en-US", "de", ""]))
    for _ in range(draw(st.integers(0, 3))):  # a field in an odd form, missing, or unknown
        key = draw(st.sampled_from(USER_KEYS))
        if draw(st.booleans()):
            user[key] = draw(ODD)
        else:
            user.pop(key, None)
    text = json.dumps(user, ensure_ascii=draw(st.booleans()), separators=(",", ":"))
    return draw(st.sampled_from([text, text, text, text[:-1], " " + text, "[" + text + "]", "{}"]))


TIMES = st.just(str(ISSUED)) | st.sampled_from([
    str(ISSUED) + "000", "0" + str(ISSUED), str(ISSUED) + ".5", "-5", "0", "", "2026-05-01T11:59:00",
    "2026-05-01T11:59:00Z", str(ISSUED - MAX_AGE - 1), "x", "[1]", str(ISSUED)[:9], "١٧٠٠٠٠٠٠٠٠"])
PLAIN = st.text(max_size=12) | st.sampled_from(["[1,2]", "{\"a\":1}", "{", "]", "p1", ""])


@settings(max_examples=400, deadline=None, database=None)
@given(user=users() | st.none(), issued=TIMES, extra=st.dictionaries(
    st.sampled_from(["query_id", "start_param", "chat_type", "chat_instance", "signature", "receiver", "chat",
                     "can_send_after", "x"]), PLAIN | users(), max_size=2))
def test_signed_init_data_of_any_shape_is_read_as_aiogram_reads_it(user, issued, extra):
    fields = {**extra, "auth_date": issued}
    if user is not None:
        fields["user"] = user
    same(signed(fields))


@settings(max_examples=200, deadline=None, database=None)
@given(text=st.text(max_size=40) | st.sampled_from(["hash=", "hash=x", "a=1&&hash=2", "=", "&", "%zz=1"]))
def test_any_string_is_refused_or_accepted_as_aiogram_would(text):
    same(text)


@pytest.mark.parametrize("broken", ["another token", "hash flipped", "hash upper", "hash not ascii", "no hash"])
def test_a_signature_that_does_not_hold_is_refused(broken):
    fields = {"auth_date": str(ISSUED), "user": '{"id":5,"first_name":"Анна"}'}
    launch = signed(fields, "1:other" if broken == "another token" else TOKEN)
    mac = launch.rsplit("hash=", 1)[1]
    launch = {"hash flipped": launch[:-1] + ("0" if launch[-1] != "0" else "1"),
              "hash upper": launch.replace(mac, mac.upper()),
              "hash not ascii": launch.replace(mac, mac[:-1] + "%D0%96"),
              "no hash": launch.split("&hash=")[0]}.get(broken, launch)
    same(launch)
    with pytest.raises(DomainError):
        TelegramMiniApp(TOKEN).check(launch, NOW, MAX_AGE)


def test_the_usual_launch_is_the_signed_account():
    launch = signed({"query_id": "AAH1", "auth_date": str(ISSUED), "start_param": "pcenter",
                     "user": '{"id":5,"first_name":"Анна","last_name":"Тестова","language_code":"en"}'})
    found = TelegramMiniApp(TOKEN).check(launch, NOW, MAX_AGE)
    assert found == Launch(CustomerRef(Channel.TELEGRAM, "5", "Анна Тестова", "en"), "pcenter")
    same(launch)


@pytest.mark.parametrize("user", [
    '{"id":5,"first_name":"A","is_bot":"abc"}', '{"id":5,"first_name":"A","is_bot":"true"}',
    '{"id":5,"first_name":"A","is_premium":1}', '{"id":5,"first_name":"A","allows_write_to_pm":null}',
    '{"id":5,"first_name":"A","last_name":5}', '{"id":5,"first_name":"A","last_name":null}',
    '{"id":5,"first_name":"A","language_code":null}', '{"id":5,"first_name":"A","language_code":["en"]}',
    '{"id":"5","first_name":"A"}', '{"id":5.0,"first_name":"A"}', '{"id":true,"first_name":"A"}',
    '{"id":5}', '{"id":5,"first_name":7}', '{"id":5,"first_name":"A","x":{"y":1}}',
    '{"id":5,"first_name":"A","username":"a","photo_url":"https://t.me/i/a.jpg"}', '{"first_name":"A"}',
    '{"id":5,"first_name":"A"', '[{"id":5,"first_name":"A"}]', '{"id":5,"first_name":"A","id":6}',
])
def test_a_user_object_in_any_form_is_read_as_aiogram_reads_it(user):
    same(signed({"auth_date": str(ISSUED), "user": user}))


def test_a_kept_launch_is_still_refused_once_too_old_and_the_kept_ones_are_bounded(monkeypatch):
    import adapters.telegram.launch as module

    monkeypatch.setattr(module, "KEPT", 3)
    app = TelegramMiniApp(TOKEN)
    launch = signed({"auth_date": str(ISSUED), "user": '{"id":5,"first_name":"Анна"}'})
    first = app.check(launch, NOW, MAX_AGE)
    assert app.check(launch, NOW, MAX_AGE) == first  # kept: the same account
    later = datetime.fromtimestamp(ISSUED + MAX_AGE + 1, UTC)
    with pytest.raises(DomainError):
        app.check(launch, later, MAX_AGE)  # the age is checked every time
    forged = launch[:-1] + ("0" if launch[-1] != "0" else "1")
    for _ in range(2):  # a refusal is not kept
        with pytest.raises(DomainError):
            app.check(forged, NOW, MAX_AGE)
    for n in range(6, 12):
        app.check(signed({"auth_date": str(ISSUED), "user": f'{{"id":{n},"first_name":"A"}}'}), NOW, MAX_AGE)
    assert len(app._verified) == 3
    assert app.check(launch, NOW, MAX_AGE) == first  # dropped, then checked again

"""The shop's personal data policy (152-FZ): the text Vitrina ships, filled with the owner's details, or the
owner's own file; and its version, which the consent a customer gives names.

The version is a short hash of the rendered text, so any change of the text (a new operator, another
retention period, an edited file) is a new version, and every customer is asked to consent again before
their next order. The text is rendered once, when the server starts. Every value from the settings goes in
escaped: a template is the owner's HTML, a value is only ever text.
"""
from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from string import Template

TEMPLATES = Path(__file__).resolve().parent / "templates"
LANGUAGES = ("ru", "en")
PATH = "/privacy"  # where the server serves it
PLACEHOLDERS = ("shop", "operator", "operator_details", "contact", "site", "retention")
_TITLE = {"ru": "Политика обработки персональных данных", "en": "Personal data policy"}
_VERSION = {"ru": "Версия политики", "en": "Policy version"}
_STYLE = ("body{font:16px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0;padding:20px 16px 40px;"
          "background:#fbf6f0;color:#2b211b}main{max-width:720px;margin:auto}h1{font-size:1.5em;line-height:1.2}"
          "h2{font-size:1.15em;margin-top:1.6em}ul{padding-left:1.2em}li{margin:.3em 0}"
          "footer{margin-top:2em;color:#7d6d62;font-size:.85em}"
          "@media (prefers-color-scheme:dark){body{background:#1d1714;color:#f3ebe4}footer{color:#b3a497}}")


class PolicyError(ValueError):
    """The owner's policy file cannot be used; the message says why (start-up names the setting)."""


@dataclass(frozen=True, slots=True)
class PolicyDetails:
    """What the owner fills in (``VITRINA_PRIVACY__*``); empty values fall back to something true."""

    shop: str  # the shop's name, as the customers know it
    operator: str = ""  # the legal operator: "ИП Иванова Анна Сергеевна" or a company; empty: the shop's name
    operator_details: str = ""  # INN, OGRN(IP), address
    contact_email: str = ""  # where requests about personal data go; empty: the shop's chat
    site: str = ""  # the public address of the Mini App
    inactive_days: int | None = None  # customers inactive that long are anonymized; None or 0: never


@dataclass(frozen=True, slots=True)
class Policy:
    pages: Mapping[str, str] = field(repr=False)  # language -> the policy's HTML (the body's content)
    version: str

    def text(self, language: str) -> str:
        """The policy in ``language``, else in the language it was written in (an owner's file has one)."""
        return self.pages.get(language) or next(iter(self.pages.values()))

    def language(self, wanted: str) -> str:
        return wanted if wanted in self.pages else next(iter(self.pages))

    def html(self, wanted: str) -> str:
        """The whole page: no script (the CSP would refuse one anyway), its style inline."""
        language = self.language(wanted)
        return (f'<!doctype html><html lang="{language}"><head><meta charset="utf-8">'
                f'<meta name="viewport" content="width=device-width,initial-scale=1">'
                f"<title>{_TITLE.get(language, _TITLE['ru'])}</title><style>{_STYLE}</style></head>"
                f"<body><main>{self.text(language)}<footer>{_VERSION.get(language, _VERSION['ru'])}: "
                f"{escape(self.version)}</footer></main></body></html>")


def render(details: PolicyDetails, own: str | None = None) -> Policy:
    """The shipped policy in Russian and English, or ``own`` (the owner's template, one language) alone."""
    if own is not None:
        pages = {"ru": _fill(own, details, "ru")}
    else:
        pages = {lang: _fill((TEMPLATES / f"privacy.{lang}.html").read_text("utf-8"), details, lang)
                 for lang in LANGUAGES}
    digest = hashlib.sha256()
    for lang, text in pages.items():
        digest.update(f"{lang}\n{text}\n".encode())
    return Policy(pages, digest.hexdigest()[:12])


def read_template(path: Path) -> str:
    """The owner's policy file, checked: UTF-8 text whose placeholders are all known."""
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise PolicyError(f"cannot read the policy file {path}: {getattr(e, 'strerror', None) or e}") from None
    if not text.strip():
        raise PolicyError(f"the policy file {path} is empty")
    _fill(text, PolicyDetails(shop=""), "ru")
    return text


def _fill(template: str, d: PolicyDetails, language: str) -> str:
    english = language == "en"
    values = {
        "shop": d.shop,
        "operator": d.operator or d.shop,
        "operator_details": d.operator_details,
        "contact": d.contact_email or ("through the shop's chat (write to the bot)" if english
                                       else "через чат магазина (напишите боту)"),
        "site": d.site or ("this server" if english else "этот сервер"),
        "retention": _retention(d.inactive_days, english),
    }
    safe = {key: escape(value).replace("\n", "<br>") for key, value in values.items()}
    try:
        return Template(template).substitute(safe)
    except KeyError as e:
        known = ", ".join("$" + p for p in PLACEHOLDERS)
        raise PolicyError(f"unknown placeholder ${e.args[0]} in the policy (known: {known}; $$ is a dollar sign)"
                          ) from None
    except ValueError as e:  # a lone "$" not followed by a name
        raise PolicyError(f"the policy has a $ that starts no placeholder ({e}); write $$ for a dollar sign"
                          ) from None


def _retention(days: int | None, english: bool) -> str:
    if english:
        kept = "We keep your data while you use the shop; on your request it is deleted at once."
        if days:
            kept += (f" A profile with no orders and no visits for {days} day{'s' if days != 1 else ''} is "
                     "anonymized automatically.")
        return kept
    kept = "Данные хранятся, пока вы пользуетесь магазином; по вашему запросу они удаляются сразу."
    if days:
        kept += f" Профиль без заказов и посещений в течение {days} {_days_ru(days)} обезличивается автоматически."
    return kept


def _days_ru(n: int) -> str:
    if n % 10 == 1 and n % 100 != 11:
        return "дня"  # "в течение 31 дня"
    return "дней"

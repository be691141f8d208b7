"""The menu as data: categories, items with stock per pickup point, and the checks an import must pass.

The file formats live in ``bot/menu_file.py``; this module holds what the engine shares with them: slugs,
the one-line options syntax (``Размер: S, M +40; Молоко [optional]: обычное, овсяное +60``) and a
validation that reports every problem at once, so an owner fixes a whole file in one pass.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from .catalog import POINT_ID, SLUG, Category, Item, Option, OptionGroup, PickupPoint
from .errors import DomainError, ErrorCode
from .money import RUB, format_rubles, parse_rubles


@dataclass(frozen=True, slots=True)
class MenuEntry:
    item: Item  # item.category_id is the category slug
    stock: dict[str, int | None]  # point id -> counted quantity, or None = not counted (unlimited)
    line: int  # line in the source file (for error messages), 0 if unknown


@dataclass(frozen=True, slots=True)
class Menu:
    categories: tuple[Category, ...]  # in file order, position = index
    entries: tuple[MenuEntry, ...]
    points: tuple[PickupPoint, ...] = ()  # only YAML can carry points


@dataclass(frozen=True, slots=True)
class MenuProblem:
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}, {self.field}: {self.message}"


class MenuError(DomainError):
    """A menu that cannot be used; ``problems`` lists all that is wrong with it, one line each in str()."""

    def __init__(self, problems: Iterable[MenuProblem]) -> None:
        self.problems = list(problems)
        super().__init__(ErrorCode.MENU_INVALID, "\n".join(map(str, self.problems)))

    def __str__(self) -> str:
        return self.detail


# ---------------------------------------------------------------------------------------------- slugs

_TRANSLIT = str.maketrans({
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z", "и": "i",
    "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t",
    "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y",
    "ь": "", "э": "e", "ю": "yu", "я": "ya",
})


def slugify(text: str) -> str:
    """``"Раф ванильный"`` -> ``"raf-vanilnyy"``: an id that matches ``catalog.SLUG``, ``"item"`` if nothing is left."""
    text = str(text).lower().translate(_TRANSLIT)
    # decompose what transliteration left (café -> cafe) and drop anything still not ASCII
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:64].rstrip("-")
    return slug or "item"


# ------------------------------------------------------------------------------------ options syntax

_GROUP_HEAD = re.compile(r"^(?P<name>[^\[\]]*?)\s*(?:\[(?P<flags>[^\[\]]*)\])?$")
_OPTION = re.compile(r"^(?P<label>.*?)(?:\s+(?P<sign>[+-])\s*(?P<amount>\d[\d.]*))?$", re.S)
_FLAGS = ("optional", "multi")


def parse_options(text: str) -> tuple[OptionGroup, ...]:
    """Read ``Name [flags]: option +N, option; ...``. Raises ValueError naming what is malformed."""
    groups = tuple(_parse_group(part.strip()) for part in str(text).split(";") if part.strip())
    _unique(((g.id, g.name) for g in groups), "option groups")
    return groups


def _parse_group(text: str) -> OptionGroup:
    head, colon, body = text.partition(":")
    if not colon:
        raise ValueError(f"option group {text!r} has no colon (expected 'Name: option, option +40')")
    match = _GROUP_HEAD.match(head.strip())
    if not match:
        raise ValueError(f"option group name {head.strip()!r} is malformed (flags go in brackets: 'Молоко [optional]')")
    name = match["name"]
    if not name:
        raise ValueError(f"option group {text!r} has no name before the colon")
    flags = (match["flags"] or "").replace(",", " ").split()
    unknown = [f for f in flags if f not in _FLAGS]
    if unknown:
        raise ValueError(f"option group {name!r}: unknown flag {unknown[0]!r} (flags are 'optional' and 'multi')")
    options: list[Option] = []
    for raw in body.split(","):
        if re.fullmatch(r"\d{1,2}\s*", raw) and options and options[-1].price_delta:
            # "+39,90" was split at its comma (no space after it, unlike a list): say so, not add option "90"
            raise ValueError(f"option group {name!r}: write kopecks with a dot, e.g. '+39.90', not a comma")
        if raw.strip():
            options.append(_parse_option(raw.strip(), name))
    if not options:
        raise ValueError(f"option group {name!r} has no options")
    _unique(((o.id, o.name) for o in options), f"options of group {name!r}")
    return OptionGroup(slugify(name), name, tuple(options), required="optional" not in flags,
                       multiple="multi" in flags)


def _parse_option(text: str, group: str) -> Option:
    match = _OPTION.match(text)  # matches any text: the price part is optional
    label = match["label"].strip() if match else ""
    if match is None or not label or re.match(r"^[+-]\s*\d", label):
        raise ValueError(f"option group {group!r}: option {text!r} has no name")
    delta = 0
    if match["amount"]:
        try:
            delta = parse_rubles(match["amount"]) * (-1 if match["sign"] == "-" else 1)
        except ValueError as exc:
            raise ValueError(f"option group {group!r}, option {label!r}: {exc}") from None
    return Option(slugify(label), label, delta)


def _unique(pairs: Iterable[tuple[str, str]], what: str) -> None:
    seen: dict[str, str] = {}
    for id_, name in pairs:
        if id_ in seen:
            raise ValueError(f"{what}: {seen[id_]!r} and {name!r} have the same id {id_!r}; rename one")
        seen[id_] = name


def format_options(groups: Iterable[OptionGroup]) -> str:
    """The text ``parse_options`` reads back to the same groups; ValueError for groups it cannot express
    (ids that are not the slug of the name, names with ``; , [ ]``), rather than silently changing them."""
    groups = tuple(groups)
    parts = []
    for group in groups:
        flags = [flag for flag, on in (("optional", not group.required), ("multi", group.multiple)) if on]
        head = group.name + (f" [{' '.join(flags)}]" if flags else "")
        text = f"{head}: " + ", ".join(o.name + _delta(o.price_delta) for o in group.options)
        try:
            same = parse_options(text) == (group,)
        except ValueError:
            same = False
        if not same:
            raise ValueError(f"option group {group.name!r} cannot be written in the options syntax: ids must be "
                             "the slugs of the names, names may not contain ; , [ ] or end in +N")
        parts.append(text)
    _unique(((g.id, g.name) for g in groups), "option groups")
    return "; ".join(parts)


def _delta(kopecks: int) -> str:
    if kopecks == 0:
        return ""
    return f" {'+' if kopecks > 0 else '-'}{format_rubles(abs(kopecks))}"


# ------------------------------------------------------------------------------------------ checks

def check_point(point: PickupPoint) -> list[tuple[str, str]]:
    """(field, message) for everything wrong with one pickup point on its own."""
    problems = []
    if not POINT_ID.match(point.id):
        problems.append(("id", f"pickup point id {point.id!r} must be lowercase latin letters and digits"))
    if not point.name.strip():
        problems.append(("name", "a pickup point needs a name"))
    if point.lat is not None and not -90 <= point.lat <= 90:
        problems.append(("lat", f"latitude {point.lat} is not between -90 and 90"))
    if point.lon is not None and not -180 <= point.lon <= 180:
        problems.append(("lon", f"longitude {point.lon} is not between -180 and 180"))
    if point.prep_minutes < 0:
        problems.append(("prep_minutes", "preparation time cannot be negative"))
    return problems


def check_item(item: Item) -> list[tuple[str, str]]:
    """(field, message) for everything wrong with one item on its own."""
    problems = []
    if not SLUG.match(item.id):
        problems.append(("id", f"item id {item.id!r} must be latin letters, digits and '-', at most 64"))
    if not item.name.strip():
        problems.append(("name", "an item needs a name"))
    if item.price.currency != RUB or item.price.amount < 0:
        problems.append(("price", f"price must be rubles, zero or more, not {item.price}"))
    if item.photo and not item.photo.startswith(("/", "http://", "https://")):
        problems.append(("photo", f"photo {item.photo!r} must be a URL (https://...) or a site path (/photos/...)"))
    for tag in item.tags:
        if not tag.strip() or "," in tag:
            problems.append(("tags", f"tag {tag!r} must be non-empty and without commas"))
    try:
        _unique(((g.id, g.name) for g in item.option_groups), "option groups")
        for group in item.option_groups:
            if not group.name.strip() or not group.options:
                raise ValueError(f"option group {group.name!r} needs a name and at least one option")
            if any(not o.name.strip() for o in group.options):
                raise ValueError(f"option group {group.name!r} has an option without a name")
            _unique(((o.id, o.name) for o in group.options), f"options of group {group.name!r}")
    except ValueError as exc:
        problems.append(("options", str(exc)))
    return problems


def validate(menu: Menu, known_points: set[str]) -> None:
    """Raise MenuError listing every problem of ``menu``; stock may name ``known_points`` or the menu's own."""
    problems: list[MenuProblem] = []

    def add(line: int, field: str, message: str) -> None:
        problems.append(MenuProblem(line, field, message))

    point_ids: set[str] = set()
    for point in menu.points:
        for field, message in check_point(point):
            add(0, f"point {point.id}: {field}", message)
        if point.id in point_ids:
            add(0, f"point {point.id}: id", f"pickup point id {point.id!r} is used twice")
        point_ids.add(point.id)

    category_ids: set[str] = set()
    for category in menu.categories:
        if not category.name.strip():
            add(0, "category", f"category {category.id!r} needs a name")
        if category.id in category_ids or not SLUG.match(category.id):
            add(0, "category", f"category id {category.id!r} is malformed or used twice")
        category_ids.add(category.id)

    allowed = set(known_points) | point_ids
    unknown_reported: set[str] = set()
    first: dict[str, MenuEntry] = {}
    for entry in menu.entries:
        item = entry.item
        for field, message in check_item(item):
            add(entry.line, field, message)
        if item.category_id not in category_ids:
            add(entry.line, "category", f"unknown category {item.category_id!r}")
        if item.id in first:
            where = f" on line {first[item.id].line}" if first[item.id].line else ""
            add(entry.line, "id", f"item id {item.id!r} is already used by {first[item.id].item.name!r}{where}; "
                                  "give one of them its own id")
        first.setdefault(item.id, entry)
        for point_id, quantity in entry.stock.items():
            field = f"stock:{point_id}"
            if point_id not in allowed and point_id not in unknown_reported:
                # once per point: a missing point would otherwise repeat on every row
                unknown_reported.add(point_id)
                known = ", ".join(sorted(allowed)) or "none"
                add(entry.line, field, f"unknown pickup point {point_id!r} (known: {known})")
            if quantity is not None and (type(quantity) is not int or quantity < 0):
                add(entry.line, field, f"stock must be a whole number, zero or more, or empty; got {quantity!r}")
    if not menu.entries:
        add(0, "items", "the menu has no items")
    if problems:
        raise MenuError(problems)

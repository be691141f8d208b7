"""The menu file: CSV (one row per item) and YAML (the same fields, plus pickup points).

Both readers turn the file into rows of raw values with the line each came from, and one builder turns
rows into a Menu while collecting every problem; only then is a single MenuError raised, so an owner
sees the whole list at once and a menu is never half read. Format reference: docs/menu-file.md.
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from journey.catalog import Category, Item, OpeningHours, PickupPoint
from journey.menu import (
    Menu,
    MenuEntry,
    MenuError,
    MenuProblem,
    check_point,
    format_options,
    parse_options,
    slugify,
    validate,
)
from journey.money import Money, format_rubles, parse_rubles

COLUMNS = ("id", "category", "name", "price", "description", "options", "photo", "available", "tags")
REQUIRED = ("category", "name", "price")
POINT_KEYS = ("id", "name", "address", "lat", "lon", "hours", "prep_minutes")
STOCK = "stock:"
_YES = {"yes", "true", "1", "да"}
_NO = {"no", "false", "0", "нет"}
_NULL = "tag:yaml.org,2002:null"

Fields = dict[str, tuple[Any, int]]  # key -> (raw value: None, str, list or dict; its line)


def read_menu(path: Path, *, known_points: set[str] | None = None) -> Menu:
    """Read and validate a menu file. Stock may name ``known_points`` and the file's own points; when
    ``known_points`` is None and the file declares no points, any stock column is accepted."""
    path = Path(path)
    kind = _kind(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise MenuError([MenuProblem(0, "file", f"cannot read {path}: {exc.strerror}")]) from None
    try:
        text = data.decode("utf-8-sig")  # Excel puts a BOM in front of UTF-8
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise MenuError([MenuProblem(line, "file", "not UTF-8 text; save the file as CSV UTF-8")]) from None
    return _read_csv(text, known_points) if kind == "csv" else _read_yaml(text, known_points)


def _kind(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".yaml", ".yml"):
        raise MenuError([MenuProblem(0, "file", f"{path.name}: a menu file ends in .csv, .yaml or .yml")])
    return "csv" if suffix == ".csv" else "yaml"


class _Builder:
    """Rows of raw values -> a Menu, or one MenuError with every problem found."""

    def __init__(self) -> None:
        self.problems: list[MenuProblem] = []
        self.categories: dict[str, Category] = {}  # by name
        self.entries: list[MenuEntry] = []
        self.field_lines: dict[int, dict[str, int]] = {}  # entry line -> field -> the field's own line

    def problem(self, line: int, field: str, message: str) -> None:
        self.problems.append(MenuProblem(line, field, message))

    def take(self, fields: Fields, key: str, convert: Callable[[Any], Any], default: Any, line: int,
             required: bool = False) -> Any:
        raw, at = fields.get(key, (None, line))
        if raw is None or raw == "":
            if required:
                self.problem(at, key, "required, may not be empty")
            return default
        try:
            return convert(raw)
        except (ValueError, TypeError) as exc:
            self.problem(at, key, str(exc))
            return default

    def add_item(self, fields: Fields, stock: Fields, line: int) -> None:
        lines = self.field_lines.setdefault(line, {})
        lines.update({key: at for key, (_, at) in fields.items()})
        lines.update({STOCK + point: at for point, (_, at) in stock.items()})
        category_name = self.take(fields, "category", _text, "", line, required=True)
        name = self.take(fields, "name", _text, "", line, required=True)
        category = self._category(category_name, fields.get("category", (None, line))[1])
        item = Item(
            id=self.take(fields, "id", _text, "", line) or slugify(name),
            category_id=category.id if category else "",
            name=name,
            price=Money(self.take(fields, "price", parse_rubles, 0, line, required=True)),
            description=self.take(fields, "description", _text, "", line),
            photo=self.take(fields, "photo", _text, "", line),
            option_groups=self.take(fields, "options", _options, (), line),
            tags=self.take(fields, "tags", _tags, (), line),
            available=self.take(fields, "available", _yes_no, True, line),
            position=len(self.entries),
        )
        counts = {p: self.take({STOCK + p: value}, STOCK + p, _whole, None, line) for p, value in stock.items()}
        # built even when a field was bad, so duplicates and stock points are still checked in validate()
        self.entries.append(MenuEntry(item, counts, line))

    def _category(self, name: str, line: int) -> Category | None:
        if not name:
            return None
        if name not in self.categories:
            slug = slugify(name)
            clash = next((c for c in self.categories.values() if c.id == slug), None)
            if clash:  # "Кофе" and "КОФЕ": one category, two spellings
                self.problem(line, "category", f"{name!r} and {clash.name!r} are the same category; use one spelling")
                return clash
            self.categories[name] = Category(slug, name, len(self.categories))
        return self.categories[name]

    def finish(self, points: list[PickupPoint], known_points: set[str] | None) -> Menu:
        menu = Menu(tuple(self.categories.values()), tuple(self.entries), tuple(points))
        if known_points is None and not points:
            known_points = {p for e in self.entries for p in e.stock}
        try:
            validate(menu, known_points or set())
        except MenuError as exc:
            # keep the reader's report where both saw the same field; point validate at the field's own line
            taken = {(p.line, p.field) for p in self.problems}
            for p in exc.problems:
                line = self.field_lines.get(p.line, {}).get(p.field, p.line)
                if (line, p.field) not in taken:
                    self.problem(line, p.field, p.message)
        if self.problems:
            raise MenuError(sorted(self.problems, key=lambda p: p.line))
        return menu


# --------------------------------------------------------------------------------- raw value readers

def _text(raw: Any) -> str:
    if not isinstance(raw, str):
        raise ValueError("expected text, not a list or a mapping")
    return raw.strip()


def _options(raw: Any) -> tuple:
    if isinstance(raw, list):  # YAML may list groups one per line
        raw = "; ".join(_text(part) for part in raw)
    return parse_options(_text(raw))


def _tags(raw: Any) -> tuple[str, ...]:
    parts = [_text(p) for p in raw] if isinstance(raw, list) else _text(raw).split(",")
    return tuple(tag for tag in (p.strip() for p in parts) if tag)


def _yes_no(raw: Any) -> bool:
    value = _text(raw).lower()
    if value in _YES or value in _NO:
        return value in _YES
    raise ValueError(f"expected yes or no, not {raw!r}")


def _whole(raw: Any) -> int:
    value = _text(raw)
    if not re.fullmatch(r"[+-]?\d+", value):
        raise ValueError(f"expected a whole number, or empty when not counted; got {raw!r}")
    return int(value)


def _coordinate(raw: Any) -> float:
    try:
        return float(_text(raw))
    except ValueError:
        raise ValueError(f"expected a coordinate in degrees like 55.7558, not {raw!r}") from None


# ------------------------------------------------------------------------------------------------ CSV

def _read_csv(text: str, known_points: set[str] | None) -> Menu:
    first_line = text.split("\n", 1)[0]
    # Excel in a Russian locale separates cells with ';' (the comma is its decimal mark)
    delimiter = ";" if ";" in first_line and "," not in first_line else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    b = _Builder()
    try:
        header = next(reader, None)
        if header is None:
            raise MenuError([MenuProblem(1, "file", "the file is empty; the first line must name the columns")])
        columns = [c.strip().lower() for c in header]
        seen: set[str] = set()
        for column in filter(None, columns):
            if column in seen:
                b.problem(1, column, "the column appears twice")
            elif column.startswith(STOCK):
                pass  # the point id is checked against the shop's points in validate()
            elif column not in COLUMNS:
                b.problem(1, column, f"unknown column; the columns are {', '.join(COLUMNS)} and stock:<point>")
            seen.add(column)
        missing = [c for c in REQUIRED if c not in seen]
        for column in missing:
            b.problem(1, column, "required column is missing")
        if missing:
            raise MenuError(b.problems)
        for cells in reader:
            line = reader.line_num  # the row's last physical line; quoted cells may span several
            if not any(c.strip() for c in cells):
                continue
            if any(c.strip() for c in cells[len(columns):]):
                b.problem(line, "file", f"the row has {len(cells)} cells but the header names {len(columns)}")
            cells = cells + [""] * (len(columns) - len(cells))
            fields: Fields = {}
            stock: Fields = {}
            for column, cell in zip(columns, cells, strict=False):  # empty cells past the header: ignored
                if column.startswith(STOCK):
                    stock[column[len(STOCK):]] = (cell, line)
                elif column in COLUMNS:
                    fields[column] = (cell, line)
                elif not column and cell.strip():
                    b.problem(line, "file", "a value in a column whose header is empty")
            b.add_item(fields, stock, line)
    except csv.Error as exc:
        raise MenuError([*b.problems, MenuProblem(reader.line_num, "file", f"broken CSV: {exc}")]) from None
    return b.finish([], known_points)


def _write_csv(menu: Menu) -> str:
    names = {c.id: c.name for c in menu.categories}
    points = sorted({p for e in menu.entries for p in e.stock})
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([*COLUMNS, *(STOCK + p for p in points)])
    for entry in menu.entries:
        item = entry.item
        writer.writerow([
            item.id, names.get(item.category_id, item.category_id), item.name, format_rubles(item.price.amount),
            item.description, format_options(item.option_groups), item.photo, "yes" if item.available else "no",
            ", ".join(item.tags), *("" if entry.stock.get(p) is None else entry.stock[p] for p in points),
        ])
    return out.getvalue()


# ----------------------------------------------------------------------------------------------- YAML

def _line(node: Node) -> int:
    return node.start_mark.line + 1


def _raw(node: Node) -> Any:
    """The value as written: YAML's own typing is bypassed so 249.90 stays the text '249.90', never a float."""
    if isinstance(node, ScalarNode):
        return None if node.tag == _NULL else node.value
    if isinstance(node, SequenceNode):
        return [_raw(n) for n in node.value]
    return {_raw(k): _raw(v) for k, v in node.value}


def _mapping(node: Node, b: _Builder, keys: tuple[str, ...] | None, what: str) -> dict[str, Node]:
    """The key -> value nodes of a mapping; ``keys`` None accepts any key (stock: validate() knows the points)."""
    if not isinstance(node, MappingNode):
        b.problem(_line(node), what, f"expected a mapping of {', '.join(keys or ('point: quantity',))}")
        return {}
    found: dict[str, Node] = {}
    for key_node, value in node.value:
        key = str(_raw(key_node))
        if key in found:
            b.problem(_line(key_node), key, "the key appears twice")
        elif keys is not None and key not in keys:
            b.problem(_line(key_node), key, f"unknown key; the keys are {', '.join(keys)}")
        else:
            found[key] = value
    return found


def _sequence(node: Node | None, b: _Builder, what: str) -> list[Node]:
    if node is None or (isinstance(node, ScalarNode) and node.tag == _NULL):
        return []
    if not isinstance(node, SequenceNode):
        b.problem(_line(node), what, "expected a list, each entry starting with '- '")
        return []
    return node.value


def _read_yaml(text: str, known_points: set[str] | None) -> Menu:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else 0
        raise MenuError([MenuProblem(line, "file", f"not valid YAML: {exc.problem}")]) from None
    except yaml.YAMLError as exc:
        raise MenuError([MenuProblem(0, "file", f"not valid YAML: {exc}")]) from None
    if not isinstance(root, MappingNode):
        line = _line(root) if root else 1
        raise MenuError([MenuProblem(line, "file", "expected 'items:' (and optionally 'points:') at the top")])
    b = _Builder()
    top = _mapping(root, b, ("points", "items"), "file")
    points = _read_points(_sequence(top.get("points"), b, "points"), b)
    for node in _sequence(top.get("items"), b, "items"):
        found = _mapping(node, b, (*COLUMNS, "stock"), "items")
        stock_node = found.pop("stock", None)
        stock: Fields = {}
        if stock_node is not None and _raw(stock_node) is not None:
            stock = {k: (_raw(v), _line(v)) for k, v in _mapping(stock_node, b, None, "stock").items()}
        b.add_item({k: (_raw(v), _line(v)) for k, v in found.items()}, stock, _line(node))
    return b.finish(points, known_points)


def _read_points(nodes: list[Node], b: _Builder) -> list[PickupPoint]:
    points: list[PickupPoint] = []
    for node in nodes:
        found = _mapping(node, b, POINT_KEYS, "points")
        fields: Fields = {k: (_raw(v), _line(v)) for k, v in found.items()}
        line, before = _line(node), len(b.problems)
        point = PickupPoint(
            id=b.take(fields, "id", _text, "", line, required=True),
            name=b.take(fields, "name", _text, "", line, required=True),
            address=b.take(fields, "address", _text, "", line),
            lat=b.take(fields, "lat", _coordinate, None, line),
            lon=b.take(fields, "lon", _coordinate, None, line),
            hours=b.take(fields, "hours", lambda raw: OpeningHours.parse(_text(raw)), OpeningHours(), line),
            prep_minutes=b.take(fields, "prep_minutes", _whole, 10, line),
        )
        reported = {p.field for p in b.problems[before:]}
        for field, message in check_point(point):
            if field not in reported:  # an empty id is "required", not also "malformed"
                b.problem(fields.get(field, (None, line))[1], field, message)
        if any(p.id == point.id for p in points):
            b.problem(fields.get("id", (None, line))[1], "id", f"pickup point id {point.id!r} is used twice")
        elif len(b.problems) == before:
            points.append(point)  # a broken point is left out so validate() does not report it again
    return points


class _Dumper(yaml.SafeDumper):
    pass


class _Rubles(str):
    """A price with kopecks, written as a plain number (249.90) instead of a quoted string."""


_Dumper.add_representer(_Rubles, lambda dumper, value: dumper.represent_scalar("tag:yaml.org,2002:float", value))


def _write_yaml(menu: Menu) -> str:
    names = {c.id: c.name for c in menu.categories}
    doc: dict[str, Any] = {}
    if menu.points:
        doc["points"] = [{"id": p.id, "name": p.name, "address": p.address, "lat": p.lat, "lon": p.lon,
                          "hours": p.hours.format(), "prep_minutes": p.prep_minutes} for p in menu.points]
    items = []
    for entry in menu.entries:
        item = entry.item
        price = format_rubles(item.price.amount)
        row: dict[str, Any] = {"id": item.id, "category": names.get(item.category_id, item.category_id),
                               "name": item.name, "price": _Rubles(price) if "." in price else int(price)}
        optional = {"description": item.description, "options": format_options(item.option_groups),
                    "photo": item.photo, "available": None if item.available else False,
                    "tags": list(item.tags), "stock": dict(entry.stock)}
        row.update((key, value) for key, value in optional.items() if value not in ("", None, [], {}))
        items.append(row)
    doc["items"] = items
    return yaml.dump(doc, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=1000)  # options stay on one line


def unlisted_photo_hosts(menu: Menu, photo_hosts: str) -> list[str]:
    """One warning per https host of the menu's photos that ``photo_hosts`` (VITRINA_WEBAPP__PHOTO_HOSTS,
    comma-separated, ``*.`` for subdomains) does not list: the Mini App's CSP will not show those photos."""
    listed = [h.strip().lower() for h in photo_hosts.split(",") if h.strip()]
    unlisted: dict[str, list[str]] = {}
    for entry in menu.entries:
        parts = urlsplit(entry.item.photo)
        host = parts.netloc.rpartition("@")[2].lower()
        if parts.scheme.lower() != "https" or not host:
            continue
        if not any(host == h or (h.startswith("*.") and host.endswith(h[1:])) for h in listed):
            unlisted.setdefault(host, []).append(entry.item.id)
    return [f"warning: photos from {host} ({', '.join(ids[:3])}{', ...' if len(ids) > 3 else ''}) will not show "
            "in the Mini App until the host is listed in VITRINA_WEBAPP__PHOTO_HOSTS"
            for host, ids in unlisted.items()]


def write_menu(path: Path, menu: Menu) -> None:
    """Write ``menu`` as CSV or YAML by the extension; reading the file back gives the same menu."""
    path = Path(path)
    if _kind(path) == "csv":
        # with a BOM, so Excel opens Cyrillic text as UTF-8 rather than as cp1251
        path.write_text(_write_csv(menu), encoding="utf-8-sig", newline="")
    else:
        path.write_text(_write_yaml(menu), encoding="utf-8")

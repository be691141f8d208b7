"""docs/DEPLOY.md is followed as written: every ``vitrina`` line of its fenced blocks runs, in order, as a
process on a fresh database, and the shop that comes out is the one those lines describe. The lines are
read from the guide itself and their meaning from the CLI's own parser, so neither can drift.
"""
from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import aiohttp
import pytest
from cli import VITRINA, vitrina
from process import Running, free_port

from bot.main import build_parser
from bot.menu_file import read_menu
from journey.catalog import OpeningHours

ROOT = Path(__file__).parents[2]
GUIDE = ROOT / "docs" / "DEPLOY.md"


def guide_commands() -> list[list[str]]:
    """The arguments of each ``vitrina ...`` line in the guide's fenced blocks, in the order written."""
    blocks = re.findall(r"^```[^\n]*\n(.*?)^```", GUIDE.read_text(encoding="utf-8"), re.S | re.M)
    found = []
    for block in blocks:
        for line in block.splitlines():
            words = shlex.split(line, comments=True)
            if words[:1] == ["vitrina"]:
                found.append(words[1:])
    return found


def test_the_guide_sets_the_shop_up_before_it_runs_it():
    steps = [" ".join(args[:2]) for args in guide_commands()]
    for step in ("shop set", "point add", "menu import", "staff add", "promo add"):
        assert step in steps, f"the guide does not {step}"
    assert steps[-1] == "run"
    assert steps.index("point add") < steps.index("menu import") < steps.index("staff add")


def expected_shop(commands: list[list[str]]) -> dict:
    """What the guide's lines, read by the CLI's parser, say the shop will hold."""
    shop: dict = {"settings": {}, "points": {}, "staff": [], "promos": [], "menus": []}
    parser = build_parser()
    for args in commands:
        ns = parser.parse_args(args)
        match args[:2]:
            case ["shop", "set"]:
                shop["settings"][ns.key] = " ".join(ns.value)
            case ["point", "add"]:
                hours = OpeningHours.parse(ns.hours).format() if ns.hours else OpeningHours().format()
                shop["points"][ns.id] = f"{ns.id}\t{' '.join(ns.name)}\t{ns.address or '-'}\t{hours}\t" \
                                        f"prep {ns.prep or 10} min"
            case ["staff", "add"]:
                shop["staff"].append(f"{ns.account}\t{ns.point}")
            case ["promo", "add"]:
                shop["promos"].append(ns.code.upper())
            case ["menu", "import"]:
                shop["menus"].append(ns.file)
    return shop


def menu_rows(path: Path) -> dict[str, tuple]:
    """Each item's name, price, visibility and counted stock, as a menu file says it."""
    return {e.item.id: (e.item.name, e.item.price, e.item.available,
                        {p: q for p, q in e.stock.items() if q is not None}) for e in read_menu(path).entries}


@pytest.mark.slow
async def test_the_guide_takes_a_fresh_database_to_a_working_shop(tmp_path):
    commands = guide_commands()
    shop = expected_shop(commands)
    for name in shop["menus"]:  # the guide runs from the checkout: its example files are where it says
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
    assert not (tmp_path / "vitrina.db").exists()
    *setup, run = commands
    for args in setup:
        done = vitrina(tmp_path, *args)
        assert len(done.stdout.strip().splitlines()) == 1, (args, done.stdout)  # one line saying what it did

    shown = dict(line.split("\t", 1) for line in vitrina(tmp_path, "shop", "show").stdout.splitlines())
    assert {key: shown[key] for key in shop["settings"]} == shop["settings"]
    assert vitrina(tmp_path, "point", "list").stdout.splitlines() == list(shop["points"].values())
    staff = vitrina(tmp_path, "staff", "list").stdout.splitlines()
    assert all(line in staff for line in shop["staff"]) and shop["staff"]
    promos = vitrina(tmp_path, "promo", "list").stdout.splitlines()
    assert [line.split("\t")[0] for line in promos if "\tactive" in line] == shop["promos"]
    vitrina(tmp_path, "menu", "export", "exported.csv")
    (menu_file,) = shop["menus"]
    assert menu_rows(tmp_path / "exported.csv") == menu_rows(tmp_path / menu_file)

    port = free_port()
    async with Running(VITRINA, *run, cwd=tmp_path, env={"VITRINA_WEBAPP__PORT": str(port)}) as running:
        assert not any("demo shop seeded" in line for line in running.output)  # a shop of its own, not the demo's
        async with aiohttp.ClientSession(f"http://127.0.0.1:{port}") as http:
            async with http.get("/api/config") as config:
                assert (await config.json())["shop"] == shop["settings"]["name"]
            for point in shop["points"]:
                async with http.get(f"/api/menu?point={point}", headers={"Authorization": "demo guest"}) as menu:
                    served = {i["id"] for i in (await menu.json())["items"]}
                visible = {i for i, row in menu_rows(tmp_path / menu_file).items() if row[2]}
                assert served == visible
        assert await running.stop() == 0


# --- the guide's sections on containers and operations ----------------------------------------------

def test_the_guide_names_only_real_settings_services_and_metrics():
    import yaml

    from bot.observability import PrometheusMetrics
    from bot.settings import Settings

    text = GUIDE.read_text(encoding="utf-8")
    settings = set()

    def names(model, prefix="VITRINA_"):
        for name, field in model.model_fields.items():
            kind = field.annotation
            if isinstance(kind, type) and hasattr(kind, "model_fields"):
                names(kind, f"{prefix}{name.upper()}__")
            else:
                settings.add(prefix + name.upper())
    names(Settings)
    for named in set(re.findall(r"\bVITRINA_[A-Z_]*[A-Z]\b", text)):
        # "VITRINA_WEBAPP__HOST`/`PORT" and "_WEBHOOK_SECRET" are written short; a whole name must be a setting
        assert named in settings or any(s.startswith(named) for s in settings), named
    for setting in ("VITRINA_LOG_FORMAT", "VITRINA_SHUTDOWN_SECONDS", "VITRINA_METRICS_TOKEN"):
        assert f"`{setting}" in text, f"the guide does not explain {setting}"

    services = set(yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))["services"])
    used = set()
    for block in re.findall(r"^```[^\n]*\n(.*?)^```", text, re.S | re.M):
        for line in block.splitlines():
            words = shlex.split(line.split("<")[0], comments=True)
            if words[:2] != ["docker", "compose"]:
                continue
            rest = [w for w in words[3:] if not w.startswith("-")]
            if words[2] == "exec":
                used.add(rest[0])
            elif words[2] in ("stop", "start", "restart"):
                used.update(rest)
    assert used and used <= services, used - services

    declared = {m.name for m in PrometheusMetrics().registry.collect()}
    for name in declared:  # each metric the code serves is explained (counters as name_total)
        assert re.search(rf"`{name}(_total)?[{{`]", text), f"the guide does not explain {name}"
    for path in ("/healthz", "/readyz", "/metrics"):
        assert f"`GET {path}`" in text

"""The container files as docs/DEPLOY.md uses them: compose.yaml runs PostgreSQL with a volume, two
Vitrina instances in webhook mode on it and Caddy in front of both; the Dockerfile installs the package and
runs ``vitrina run`` as a user of its own with a health check on /healthz. Every ``VITRINA_`` variable they
set is a real setting, and the settings they make together pass Vitrina's own check. (No image is built
here: the registry may be out of reach; ``docker compose config`` checks the same file where Docker is.)"""
from __future__ import annotations

import asyncio
import json
import os
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import aiohttp
import pytest
import yaml
from cli import clean_env
from process import Running, free_port
from pydantic import BaseModel

from bot.settings import Settings, load_settings

ROOT = Path(__file__).parents[2]
COMPOSE = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")
CADDYFILE = (ROOT / "deploy" / "Caddyfile").read_text(encoding="utf-8")
# what .env beside compose.yaml says (the compose file takes its ${...} from there)
DOT_ENV = {"SHOP_DOMAIN": "coffee.example", "POSTGRES_PASSWORD": "pg-pass"}
SHOP_ENV = {"VITRINA_TELEGRAM__TOKEN": "123456:" + "A" * 35, "VITRINA_TELEGRAM__WEBHOOK_SECRET": "wh-secret"}


def setting_names(model: type[BaseModel] = Settings, prefix: str = "VITRINA_") -> set[str]:
    names = set()
    for name, field in model.model_fields.items():
        kind = field.annotation
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            names |= setting_names(kind, f"{prefix}{name.upper()}__")
        else:
            names.add(prefix + name.upper())
    return names


def interpolate(value: str) -> str:
    """Compose's ``${NAME}``, ``${NAME:?message}`` and ``${NAME:-default}`` from the .env above."""
    def one(match: re.Match[str]) -> str:
        name, _, rest = match[1].partition(":")
        if name in DOT_ENV:
            return DOT_ENV[name]
        assert rest.startswith("-"), f"${{{name}}} has no value and no default"
        return rest[1:]
    return re.sub(r"\$\{([^}]+)\}", one, value)


def instances() -> dict[str, dict]:
    return {name: s for name, s in COMPOSE["services"].items() if s.get("build") == "."}


def environment(service: dict) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: interpolate(str(v)) for k, v in env.items()}


def dockerfile_env() -> dict[str, str]:
    found = {}
    for block in re.findall(r"^ENV ((?:.*\\\n)*.*)$", DOCKERFILE, re.M):
        for word in shlex.split(block.replace("\\\n", " ")):
            name, _, value = word.partition("=")
            found[name] = value
    return found


def test_compose_runs_postgresql_two_instances_and_a_proxy():
    services = COMPOSE["services"]
    assert {"postgres", "proxy"} <= set(services)
    postgres = services["postgres"]
    assert postgres["image"].startswith("postgres:")
    volume = next(v for v in postgres["volumes"] if v.endswith(":/var/lib/postgresql/data"))
    assert volume.split(":")[0] in COMPOSE["volumes"]  # a named volume: the data outlives the container
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])

    assert len(instances()) == 2
    for name, service in instances().items():
        env = environment(service)
        assert env["VITRINA_DATABASE_URL"] == "postgresql://vitrina:pg-pass@postgres:5432/vitrina", name
        assert env["VITRINA_TELEGRAM__WEBHOOK_URL"] == "https://coffee.example/telegram/webhook"  # webhook mode
        assert env["VITRINA_WEBAPP__PUBLIC_URL"] == "https://coffee.example"
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert "ports" not in service  # reached through the proxy only
        grace = int(service["stop_grace_period"].removesuffix("s"))
        assert grace > float(env["VITRINA_SHUTDOWN_SECONDS"])  # docker waits for the graceful stop

    proxy = services["proxy"]
    assert proxy["image"].startswith("caddy:")
    assert "./deploy/Caddyfile:/etc/caddy/Caddyfile:ro" in proxy["volumes"]
    assert {"80:80", "443:443"} <= set(proxy["ports"])
    assert set(proxy["depends_on"]) == set(instances())


def test_every_vitrina_variable_the_files_set_is_a_setting_and_they_pass_the_settings_check(monkeypatch):
    real = setting_names()
    for name, service in instances().items():
        env = environment(service)
        unknown = {k for k in env if k.startswith("VITRINA_")} - real
        assert not unknown, f"{name} sets {unknown}, which are no settings"
        monkeypatch.chdir(ROOT / "deploy")  # no .env of a developer's checkout is read
        for key in [k for k in os.environ if k.startswith("VITRINA_")]:
            monkeypatch.delenv(key)
        for key, value in {**dockerfile_env(), **env, **SHOP_ENV}.items():
            monkeypatch.setenv(key, value)
        settings = load_settings()  # raises on a value the settings refuse
        assert settings.sqlite_path() is None and settings.log_format == "json"
        assert settings.webapp.host == "0.0.0.0"
    unknown = {k for k in dockerfile_env() if k.startswith("VITRINA_")} - real
    assert not unknown, f"the Dockerfile sets {unknown}, which are no settings"


def test_the_caddyfile_balances_both_instances_on_readiness_and_keeps_operations_inside():
    upstreams = re.search(r"reverse_proxy ([^{\n]+)\{", CADDYFILE)[1].split()
    ports = {name: environment(s)["VITRINA_WEBAPP__PORT"] for name, s in instances().items()}
    assert sorted(upstreams) == sorted(f"{name}:{port}" for name, port in ports.items())
    assert re.search(r"^\s*health_uri /readyz$", CADDYFILE, re.M)
    refused = re.search(r"@operations path ([^\n]+)", CADDYFILE)[1].split()
    assert "/metrics" in refused
    assert re.search(r"respond @operations 404", CADDYFILE)
    assert "{$SHOP_DOMAIN}" in CADDYFILE and "SHOP_DOMAIN" in COMPOSE["services"]["proxy"]["environment"]


def test_the_dockerfile_installs_the_package_and_runs_it_without_root():
    assert re.search(r"^FROM python:3\.11-slim$", DOCKERFILE, re.M)
    users = re.findall(r"^USER (\S+)$", DOCKERFILE, re.M)
    assert users and users[-1] not in ("root", "0")
    assert re.search(r"^RUN pip install \. ", DOCKERFILE, re.M)
    # every package pyproject.toml names is copied into the image
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    copied = set(re.findall(r"^COPY (\S+) \1$", DOCKERFILE, re.M))
    assert {p.split(".")[0] for p in packages} == copied
    assert json.loads(re.search(r"^CMD (.+)$", DOCKERFILE, re.M)[1]) == ["vitrina", "run"]
    assert "/healthz" in re.search(r"^HEALTHCHECK .*?CMD (.+)$", DOCKERFILE, re.M | re.S)[1]
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".env", ".git", "*.db"} <= set(ignored)  # no secret or shop data goes into the image


def healthcheck_command() -> list[str]:
    command = json.loads(re.search(r"^\s*CMD (\[.+\])$", DOCKERFILE.split("HEALTHCHECK", 1)[1], re.M)[1])
    assert command[0] == "python"
    return [sys.executable, *command[1:]]


@pytest.mark.slow
async def test_the_image_health_check_passes_on_a_running_shop_and_fails_once_it_stopped(tmp_path):
    port = free_port()
    env = {"VITRINA_WEBAPP__PORT": str(port), "VITRINA_DATABASE_URL": f"sqlite:///{tmp_path / 'shop.db'}"}

    def health() -> int:
        return subprocess.run(healthcheck_command(), env=clean_env(**env), capture_output=True,
                              timeout=30).returncode

    async with Running(cwd=tmp_path, env=env) as running:
        assert await asyncio.to_thread(health) == 0
        async with aiohttp.ClientSession(f"http://127.0.0.1:{port}") as http, http.get("/readyz") as ready:
            assert ready.status == 200
        assert await running.stop() == 0
    assert await asyncio.to_thread(health) != 0

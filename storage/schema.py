"""Reading a backend's migrations: each backend keeps its own SQL files (``<package>/migrations/NNNN_*.sql``),
read the same way."""
from __future__ import annotations

from importlib import resources


def read_migrations(package: str) -> list[tuple[int, str]]:
    """The package's migrations as (version, SQL), in order of version."""
    folder = resources.files(package).joinpath("migrations")
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            found.append((int(entry.name.split("_", 1)[0]), entry.read_text(encoding="utf-8")))
    return sorted(found)

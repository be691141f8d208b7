"""Two ``vitrina run`` instances on one PostgreSQL database: a fresh database per test (tests/pg_support.py;
without ``VITRINA_TEST_POSTGRES_URL`` the tests are skipped with the reason, in CI they fail).

``VITRINA_TEST_INSTANCES_DATABASE=sqlite`` runs the same processes on one SQLite file instead, for working on
the harness without PostgreSQL (a killed instance's job leases then lapse after a minute rather than at once).
"""
from __future__ import annotations

import os

import pytest
from harness import Cluster, two_instances
from pg_support import fresh_database


@pytest.fixture
async def database_url(tmp_path):
    if os.environ.get("VITRINA_TEST_INSTANCES_DATABASE") == "sqlite":
        yield f"sqlite:///{tmp_path / 'shop.db'}"
        return
    async with fresh_database() as url:
        yield url


@pytest.fixture
async def cluster(tmp_path, database_url) -> Cluster:
    async with two_instances(tmp_path, database_url) as running:
        yield running


@pytest.fixture
async def cluster_sharing_redis(tmp_path, database_url) -> Cluster:
    """The same, the instances sharing their send-rate budget in the Redis ``VITRINA_TEST_REDIS_URL`` names
    (in CI); without one, in the database as the other tests do."""
    redis = os.environ.get("VITRINA_TEST_REDIS_URL")
    async with two_instances(tmp_path, database_url, **({"VITRINA_REDIS_URL": redis} if redis else {})) as running:
        yield running

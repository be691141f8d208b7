"""Crash tests: ``vitrina run`` killed with SIGKILL and restarted on the same database. They drive the shop the
way tests/instances/harness.py does (the fakes, the balancer, the seeded shop, customers and baristas), so
that folder is importable from here."""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "instances"))

"""Run the ``vitrina`` command as a process, the way an owner does."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

VITRINA = str(Path(sys.executable).with_name("vitrina"))


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VITRINA_")}
    # no consent step unless a test asks for one (VITRINA_PRIVACY__ASK_CONSENT="true"): the journeys that
    # place orders were written before it
    env["VITRINA_PRIVACY__ASK_CONSENT"] = "false"
    env.update(extra)
    return env


def vitrina(cwd: Path, *args: str, check: bool = True, **env: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([VITRINA, *args], cwd=cwd, env=clean_env(**env), capture_output=True, text=True,
                            timeout=60)
    if check and result.returncode != 0:
        raise AssertionError(f"vitrina {' '.join(args)} failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    return result

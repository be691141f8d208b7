"""CI's dependency audit (.ci/audit.py) decides on pip-audit's report: a vulnerability fails the build;
no reachable service (every package skipped, or pip-audit failing to connect) is said in one line and
does not. pip-audit is replaced by a fake that answers per vulnerability service as told."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

AUDIT = Path(__file__).resolve().parent.parent / ".ci" / "audit.py"
SKIPPED = {"dependencies": [{"name": "aiohttp", "skip_reason": "Dependency not found on PyPI and could not be "
                                                               "audited: aiohttp (3.14.5)"}], "fixes": []}
CLEAN = {"dependencies": [{"name": "aiohttp", "version": "3.14.5", "vulns": []}], "fixes": []}
VULNERABLE = {"dependencies": [
    {"name": "aiohttp", "version": "3.14.5", "vulns": []},
    {"name": "requests", "version": "2.19.0", "vulns": [{"id": "PYSEC-2018-28", "fix_versions": ["2.20.0"],
                                                         "aliases": ["CVE-2018-18074"]}]}], "fixes": []}
FAILS = "Traceback (most recent call last):\nrequests.exceptions.ConnectionError: api.osv.dev: Name or service " \
        "not known"


def fake_pip_audit(tmp_path: Path, answers: dict[str, object]) -> str:
    """A pip-audit that prints the JSON report (or the traceback) given for the service it is asked to use."""
    script = tmp_path / "fake_pip_audit.py"
    script.write_text(f"""import json, sys
answers = {json.dumps(answers)}
args = sys.argv[1:]
assert "--local" in args and "--skip-editable" in args and args[args.index("--format") + 1] == "json"
answer = answers[args[args.index("--vulnerability-service") + 1]]
if isinstance(answer, str):
    print(answer, file=sys.stderr)
    sys.exit(1)
print(json.dumps(answer))
sys.exit(1 if any(d.get("vulns") for d in answer["dependencies"]) else 0)
""")
    return f"{sys.executable} {script}"


def audit(tmp_path: Path, **answers: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(AUDIT)], capture_output=True, text=True, timeout=60,
                          env={"VITRINA_PIP_AUDIT": fake_pip_audit(tmp_path, answers), "PATH": "/usr/bin:/bin"})


@pytest.mark.parametrize("answers", [{"pypi": VULNERABLE, "osv": CLEAN}, {"pypi": SKIPPED, "osv": VULNERABLE}])
def test_a_known_vulnerability_fails_the_build(tmp_path, answers):
    result = audit(tmp_path, **answers)
    assert result.returncode == 1
    assert "requests 2.19.0: PYSEC-2018-28 (fixed in 2.20.0)" in result.stdout


@pytest.mark.parametrize("osv", [FAILS, SKIPPED])
def test_no_reachable_service_is_one_line_and_passes(tmp_path, osv):
    result = audit(tmp_path, pypi=SKIPPED, osv=osv)
    assert result.returncode == 0
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pip-audit could not reach a vulnerability service")
    assert "nothing was audited" in lines[0] and "pip-audit -l --skip-editable" in lines[0]


def test_a_clean_audit_passes_and_says_so(tmp_path):
    result = audit(tmp_path, pypi=CLEAN, osv=FAILS)
    assert result.returncode == 0
    assert result.stdout.strip() == "pip-audit (pypi): no known vulnerabilities in 1 packages"

"""CI's dependency audit: pip-audit over the installed environment (not the editable project itself).

Fails (exit 1) when the audit runs and reports a known vulnerability. When no vulnerability service can be
reached (a machine behind a package mirror: PyPI's per-version JSON API answers 404 there, so pip-audit
skips every package and would say "No known vulnerabilities found"; OSV unreachable), it says so in one
line and does not fail the build: nothing was audited, which is not the same as nothing found.
"""
from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys

SERVICES = ("pypi", "osv")
ELSEWHERE = "pip-audit -l --skip-editable (in this project's environment, on a machine with internet access)"


def run(service: str) -> tuple[dict | None, str]:
    """pip-audit's JSON report with this service, or None and why it did not run."""
    command = shlex.split(os.environ.get("VITRINA_PIP_AUDIT", f"{shlex.quote(sys.executable)} -m pip_audit"))
    found = subprocess.run([*command, "--local", "--skip-editable", "--vulnerability-service", service,
                            "--format", "json", "--progress-spinner", "off", "--timeout", "30"],
                           capture_output=True, text=True)
    try:
        report = json.loads(found.stdout)
    except ValueError:
        lines = found.stderr.strip().splitlines()
        return None, lines[-1] if lines else f"pip-audit exited with {found.returncode}"
    return (report if isinstance(report, dict) else None), ""


def main() -> int:
    reasons = []
    for service in SERVICES:
        report, why = run(service)
        if report is None:
            reasons.append(f"{service}: {why.split(': ')[0][:80]}")  # e.g. requests.exceptions.ConnectionError
            continue
        packages = report.get("dependencies", [])
        audited = [p for p in packages if "skip_reason" not in p]
        vulnerable = [p for p in audited if p.get("vulns")]
        if vulnerable:
            for package in vulnerable:
                for vuln in package["vulns"]:
                    fixed = ", ".join(vuln.get("fix_versions", [])) or "none yet"
                    print(f"{package['name']} {package['version']}: {vuln['id']} (fixed in {fixed})")
            print(f"pip-audit ({service}): {len(vulnerable)} installed package(s) with known vulnerabilities")
            return 1
        if audited:
            skipped = len(packages) - len(audited)
            print(f"pip-audit ({service}): no known vulnerabilities in {len(audited)} packages"
                  + (f" ({skipped} could not be audited)" if skipped else ""))
            return 0
        reasons.append(f"{service}: none of {len(packages)} packages found there")
    print(f"pip-audit could not reach a vulnerability service ({'; '.join(reasons)}): nothing was audited; "
          f"run {ELSEWHERE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

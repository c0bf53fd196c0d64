"""The anonymisation report of a release candidate (privacy.md promise 6; issue 7).

`$HARMONY_HOME/published/anonymisation_report.json`: per mart the quasi-identifiers, k reached,
maximum and average prosecutor risk, records at risk, suppressed share and generalisation levels
(record-level marts) or the small-cell suppressions (aggregates); the thresholds; the gate results
and a top-level `passed` that publish refuses to publish without; the code version. The report
holds no patient row, no key and no pseudonym. Publish copies it next to the release it gated.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from harmony_pipeline import __version__
from harmony_pipeline.settings import PROJECT_ROOT, Settings

REPORT_NAME = "anonymisation_report.json"


def git_commit() -> str | None:
    """The checkout's commit (with -dirty), or None outside a git checkout."""
    try:
        out = subprocess.run(
            ["git", "-C", str(PROJECT_ROOT), "describe", "--always", "--dirty", "--abbrev=40"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def code_version() -> dict:
    return {"package": __version__, "git_commit": git_commit()}


def report_path(settings: Settings) -> Path:
    return settings.published_dir / REPORT_NAME


def build_report(marts: dict[str, dict], gates: dict[str, dict], thresholds: dict) -> dict:
    """The report document; `candidate_id` is a digest of everything but the time, so the same
    inputs give the same id."""
    body = {
        "passed": all(g["passed"] for g in gates.values()),
        "thresholds": thresholds,
        "gates": gates,
        "marts": {name: marts[name] for name in sorted(marts)},
        "code_version": code_version(),
    }
    candidate_id = hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()[:16]
    return {
        "report": "HARMONY anonymisation report",
        "candidate_id": candidate_id,
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        **body,
    }


def write_report(report: dict, path: Path) -> Path:
    """Write atomically (aside, then rename), so publish never reads half a report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(report, indent=2, sort_keys=False, default=str) + "\n")
    os.replace(tmp, path)
    return path

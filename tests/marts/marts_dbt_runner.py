"""Runs the real dbt project of the repository against a given warehouse, in a private target path."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DBT_DIR = ROOT / "dbt_project"


def run_dbt(warehouse: Path, work: Path, *args: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "HARMONY_WAREHOUSE": str(warehouse),
        "HARMONY_HOME": os.environ.get("HARMONY_HOME", str(work / "home")),
    }
    # the dbt Python models import harmony_pipeline: make the checkout importable even when not installed
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    dbt = Path(sys.executable).with_name("dbt")
    command = [str(dbt), *args, "--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR),
               "--target-path", str(work / "target"), "--log-path", str(work / "logs")]  # fmt: skip
    return subprocess.run(command, cwd=DBT_DIR, env=env, capture_output=True, text=True, timeout=900)


# staging (with the seed it classifies treatments by), outcomes and marts, without the dbt unit tests:
# test_dbt_unit_tests.py runs them (as in the pipeline, builds exclude them)
BUILD_MARTS = ("build", "--select", "treatment_classes", "staging", "outcomes", "marts",
               "--exclude", "resource_type:unit_test")  # fmt: skip

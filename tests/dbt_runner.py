"""Runs the real dbt CLI of the repository's project against one warehouse file, in a private target path.

A subprocess, so dbt-duckdb's cached connection never outlives the run in the test process. A module of
its own (not conftest): the omop, marts and incremental tests import it by name.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT = ROOT / "dbt_project"


def run_dbt(warehouse: Path, work: Path, *args: str) -> subprocess.CompletedProcess:
    """dbt <args> on `warehouse`; its output is printed when it fails (pytest shows it with the failure)."""
    env = {
        **os.environ,
        "HARMONY_WAREHOUSE": str(warehouse),
        "HARMONY_HOME": os.environ.get("HARMONY_HOME", str(work / "home")),
    }
    # the dbt Python models import harmony_pipeline: make the checkout importable even when not installed
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    dbt = Path(sys.executable).with_name("dbt")
    command = [str(dbt), *args, "--project-dir", str(DBT_PROJECT), "--profiles-dir", str(DBT_PROJECT),
               "--target-path", str(work / "target"), "--log-path", str(work / "logs")]  # fmt: skip
    result = subprocess.run(command, cwd=DBT_PROJECT, env=env, capture_output=True, text=True, timeout=900)
    if result.returncode != 0:
        print(result.stdout[-5000:], result.stderr[-2000:])
    return result


# staging (with the seed it classifies treatments by), outcomes and marts, without the dbt unit tests:
# test_dbt_unit_tests.py runs them (as in the pipeline, builds exclude them)
BUILD_MARTS = ("build", "--select", "treatment_classes", "staging", "outcomes", "marts",
               "--exclude", "resource_type:unit_test")  # fmt: skip

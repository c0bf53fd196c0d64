"""The dbt project and its manifest, without loading the Dagster assets (they need the manifest)."""

from __future__ import annotations

import sys
from pathlib import Path

from dagster_dbt import DbtCliResource

from harmony_pipeline.settings import DBT_PROJECT_DIR

MANIFEST = DBT_PROJECT_DIR / "target" / "manifest.json"


def dbt_resource() -> DbtCliResource:
    return DbtCliResource(
        project_dir=str(DBT_PROJECT_DIR),
        profiles_dir=str(DBT_PROJECT_DIR),
        # the virtualenv's dbt, whether or not the virtualenv is activated
        dbt_executable=str(Path(sys.executable).parent / "dbt"),
    )


def prepare_dbt_manifest() -> Path:
    """`dbt parse` so the definitions can be loaded (run by `harmony prepare` / `make setup`)."""
    dbt = dbt_resource()
    invocation = dbt.cli(["parse", "--quiet"], target_path=MANIFEST.parent).wait()
    return invocation.target_path / "manifest.json"

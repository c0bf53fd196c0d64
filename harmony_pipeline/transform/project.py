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


def manifest_is_stale() -> bool:
    """True when a dbt model, macro, seed or test changed after the manifest was parsed."""
    if not MANIFEST.exists():
        return True
    parsed = MANIFEST.stat().st_mtime
    sources = [DBT_PROJECT_DIR / "dbt_project.yml"]
    for folder in ("models", "macros", "seeds", "tests"):
        sources += [p for p in (DBT_PROJECT_DIR / folder).rglob("*") if p.is_file()]
    return any(p.stat().st_mtime > parsed for p in sources)


def ensure_dbt_manifest() -> None:
    """Parse the dbt project again when it changed, so the assets always match the models."""
    if manifest_is_stale():
        prepare_dbt_manifest()

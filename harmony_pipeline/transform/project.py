"""The dbt project and its manifest, without loading the Dagster assets (they need the manifest)."""

from __future__ import annotations

import importlib.metadata
import sys
from functools import cached_property
from pathlib import Path

from dagster_dbt import DbtCliResource
from packaging import version

from harmony_pipeline.settings import DBT_PROJECT_DIR

MANIFEST = DBT_PROJECT_DIR / "target" / "manifest.json"


class HarmonyDbtCliResource(DbtCliResource):
    """dagster-dbt's resource without two things it does before every dbt command that the pipeline never
    uses, 3.6 s of each dbt step at any cohort size (2 cores): it runs `dbt --version` in a subprocess to
    learn the version (2.1 s), and opens a dbt adapter in Dagster's own process (1.5 s) that serves only
    `fetch_row_counts` and `fetch_column_metadata`, which the pipeline does not call. Without that adapter
    dagster-dbt also streams each model's materialization to the UI as it finishes, not after the build.
    Both overrides name dagster-dbt internals of the pinned version; a test checks that they take effect."""

    @cached_property
    def _cli_version(self) -> version.Version:
        # dbt_executable is this virtualenv's dbt, so its version is that of the installed dbt-core
        return version.parse(importlib.metadata.version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args):
        return None


def dbt_resource() -> DbtCliResource:
    return HarmonyDbtCliResource(
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

"""How the pipeline runs dbt: incremental by default, a full refresh for the rebuild job and after the
dbt project changed, never the unit tests (they run in make test: tests/marts/test_dbt_unit_tests.py)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from harmony_pipeline.orchestration import full_refresh_job, rebuild_job
from harmony_pipeline.settings import DBT_PROJECT_DIR, PROJECT_ROOT, get_settings
from harmony_pipeline.transform.assets import (
    PROJECT_INPUTS,
    build_args,
    built_digest,
    project_digest,
    record_digest,
    static_nodes,
)
from harmony_pipeline.transform.project import MANIFEST

STATIC = ["fqn:harmony.omop.concept", "fqn:harmony.vocab_domain"]


def test_incremental_unless_rebuild_or_the_project_changed():
    digest = project_digest()
    incremental = build_args(full_refresh_job.name, digest, digest, STATIC)
    assert incremental[0] == "build" and "--full-refresh" not in incremental
    # nothing but the unit tests and the static nodes is left out of an incremental build
    assert incremental[incremental.index("--exclude") + 1].split() == ["resource_type:unit_test", *STATIC]
    # two dbt threads overlap an incremental build's many small nodes; a full refresh runs one at a time
    assert incremental[incremental.index("--threads") + 1] == "2"
    for full in (
        build_args(rebuild_job.name, digest, digest, STATIC),
        build_args(full_refresh_job.name, "an older project", digest, STATIC),
        build_args(full_refresh_job.name, None, digest, STATIC),  # never built
    ):
        assert "--full-refresh" in full and "--threads" not in full
        assert full[full.index("--exclude") + 1] == "resource_type:unit_test"  # static nodes built too


def dbt_ls(*args: str) -> set[str]:
    result = subprocess.run(
        [str(Path(sys.executable).with_name("dbt")), "ls", "--resource-type", "model", "seed", *args,
         "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR), "--quiet"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return set(result.stdout.split())


def test_static_nodes_are_exactly_those_no_raw_source_feeds():
    """dbt's own graph selection is the oracle: the static nodes and the descendants of the raw sources
    split the project's models and seeds between them."""
    static = static_nodes(MANIFEST)
    assert "fqn:harmony.omop.concept" in static and "fqn:harmony.omop.person" not in static
    fed = dbt_ls("--select", "source:raw+")
    every = dbt_ls()
    assert {s.removeprefix("fqn:") for s in static} == every - fed


def test_the_digest_of_the_last_build_is_kept_in_the_warehouse(harmony_home):
    settings = get_settings()
    assert built_digest(settings) is None  # no warehouse yet
    record_digest(settings, "abc")
    record_digest(settings, project_digest())
    assert built_digest(settings) == project_digest() == project_digest()


def test_the_digest_covers_the_python_the_dbt_models_import():
    """A change to a module a dbt Python model imports (the survival estimators, the karyotype parser)
    changes what the models compute, so it must change the digest and force a full refresh."""
    imported = set()
    for model in DBT_PROJECT_DIR.joinpath("models").rglob("*.py"):
        imported |= set(re.findall(r"from harmony_pipeline\.(\w+) import", model.read_text()))
    assert imported, "no dbt Python model imports harmony_pipeline"
    modules = {path.stem for path in PROJECT_INPUTS if path.parent == PROJECT_ROOT / "harmony_pipeline"}
    assert imported <= modules

"""How the pipeline runs dbt: incremental by default, a full refresh for the rebuild job and after the
dbt project changed, never the unit tests (they run in make test: tests/marts/test_dbt_unit_tests.py)."""

from __future__ import annotations

from harmony_pipeline.orchestration import full_refresh_job, rebuild_job
from harmony_pipeline.settings import get_settings
from harmony_pipeline.transform.assets import build_args, built_digest, project_digest, record_digest


def test_incremental_unless_rebuild_or_the_project_changed():
    digest = project_digest()
    incremental = build_args(full_refresh_job.name, digest, digest)
    assert incremental[0] == "build" and "--full-refresh" not in incremental
    assert incremental[incremental.index("--exclude") + 1] == "resource_type:unit_test"
    # two dbt threads overlap an incremental build's many small nodes; a full refresh runs one at a time
    assert incremental[incremental.index("--threads") + 1] == "2"
    assert "--threads" not in build_args(rebuild_job.name, digest, digest)
    assert "--full-refresh" in build_args(rebuild_job.name, digest, digest)
    assert "--full-refresh" in build_args(full_refresh_job.name, "an older project", digest)
    assert "--full-refresh" in build_args(full_refresh_job.name, None, digest)  # never built


def test_the_digest_of_the_last_build_is_kept_in_the_warehouse(harmony_home):
    settings = get_settings()
    assert built_digest(settings) is None  # no warehouse yet
    record_digest(settings, "abc")
    record_digest(settings, project_digest())
    assert built_digest(settings) == project_digest() == project_digest()

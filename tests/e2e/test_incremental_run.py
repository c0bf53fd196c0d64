"""A new delivery through Dagster, as a site receives one: the run after it builds dbt incrementally with
the arguments the asset gives dagster-dbt (transform.assets.build_args), leaves out the nodes no raw row
feeds, and gives the same tables, ids included, as the rebuild job's full refresh afterwards.
(tests/omop/test_incremental.py checks the dbt project itself in more detail, without Dagster.)"""

from __future__ import annotations

import json
import shutil

import duckdb
import pytest
from pipeline_homes import pipeline_home
from warehouse_compare import differences

pytestmark = pytest.mark.slow
SOURCE = "lymphoma_sa"


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    from harmony_pipeline.definitions import defs
    from harmony_pipeline.orchestration import rebuild_job
    from harmony_pipeline.runner import open_instance, run_pipeline
    from harmony_pipeline.settings import get_settings
    from harmony_pipeline.synth import synthesise

    root = tmp_path_factory.mktemp("incremental_run")
    with pipeline_home(root) as (home, _):
        synthesise(home, patients=150, seed=5, deliveries=2)
        settings = get_settings()
        last = sorted((settings.landing / SOURCE).iterdir())[-1]
        held = root / last.name
        last.rename(held)
        first = run_pipeline(settings)
        held.rename(last)
        second = run_pipeline(settings)
        built = json.loads((settings.home / "dbt_target" / "run_results.json").read_text())["results"]
        incremental = root / "incremental.duckdb"
        shutil.copy(settings.warehouse, incremental)
        rebuilt = defs.resolve_job_def(rebuild_job.name).execute_in_process(
            instance=open_instance(), raise_on_error=False
        )
        yield {
            "first": first, "second": second, "built": {r["unique_id"]: r["status"] for r in built},
            "incremental": incremental, "rebuilt": rebuilt.success, "warehouse": settings.warehouse,
        }  # fmt: skip


def test_the_run_after_a_new_delivery_builds_incrementally_without_the_static_nodes(runs):
    assert runs["first"] and runs["second"]
    built = runs["built"]
    assert set(built.values()) <= {"success", "pass"}
    # rebuilt: the persons' models, their tests; left out: vocabulary, empty CDM tables, seeds
    assert {"model.harmony.int_measurement", "model.harmony.mart_nhl"} <= set(built)
    assert any(node.startswith("test.harmony.") for node in built)
    assert not {"model.harmony.concept", "model.harmony.cost", "seed.harmony.vocab_domain"} & set(built)
    assert not any("concept_concept_id" in node for node in built)  # the static tables' tests go too


def test_the_incremental_run_equals_the_rebuild(runs):
    assert runs["rebuilt"]
    assert differences(runs["incremental"], runs["warehouse"]) == {}


def test_the_incremental_run_counts_the_persons_it_rebuilt_toward_a_compaction(runs):
    from harmony_pipeline.warehouse import COMPACT_AFTER, COMPACTION_STATE

    with duckdb.connect(str(runs["incremental"]), read_only=True) as con:
        counted = con.execute(f"SELECT rebuilt_persons FROM {COMPACTION_STATE}").fetchone()[0]
        changed = con.execute(
            "SELECT count(DISTINCT person_key) FROM intermediate.int_changed_links"
        ).fetchone()[0]
        persons = con.execute("SELECT count(*) FROM intermediate.int_person").fetchone()[0]
    assert 0 < changed < persons
    # the first run was a full refresh (nothing deleted): only the second run's persons count
    assert counted == (0 if changed >= COMPACT_AFTER * persons else changed)

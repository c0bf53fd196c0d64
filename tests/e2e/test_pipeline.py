"""End to end: a synthetic multi-source cohort through every asset via Dagster, checked against the
generator's ground truth (truth/ is written by the generator and never read by the pipeline)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from pipeline_homes import environment, pipeline_home

from harmony_pipeline import canonical
from harmony_pipeline.settings import PROJECT_ROOT

pytestmark = pytest.mark.slow
MARTS_BY_DISEASE = {"AML": "mart_aml", "APL": "mart_apl", "ALL": "mart_all", "CLL": "mart_cll"}
MARTS_BY_DISEASE |= {"MDS": "mart_mds", "MM": "mart_mm", "NHL": "mart_nhl"}


def warehouse(run) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(run["settings"].warehouse), read_only=True)


def truth(run, name: str) -> pd.DataFrame:
    return pd.read_csv(Path(run["home"]) / "truth" / name)


def test_every_asset_materialised(pipeline_run):
    assert pipeline_run["success"]
    assert pipeline_run["settings"].published.exists()


def test_omop_tables_are_populated(pipeline_run):
    with warehouse(pipeline_run) as con:
        counts = {
            t: con.execute(f"SELECT count(*) FROM omop.{t}").fetchone()[0]
            for t in ("person", "observation_period", "condition_occurrence", "measurement", "death")
        }
        cdm_source = con.execute("SELECT count(*) FROM omop.cdm_source").fetchone()[0]
    assert cdm_source == 1
    assert all(n > 0 for n in counts.values()), counts
    assert counts["observation_period"] == counts["person"]  # one period covering each person's records


def test_each_person_counted_once_across_sources(pipeline_run):
    persons = truth(pipeline_run, "repeat_persons.csv")
    summary = json.loads((Path(pipeline_run["home"]) / "truth" / "summary.json").read_text())
    defects = len(truth(pipeline_run, "defects.csv"))
    with warehouse(pipeline_run) as con:
        omop_persons = con.execute("SELECT count(*) FROM omop.person").fetchone()[0]
    assert len(persons) > 0 and summary["source_patients"] > summary["persons"]
    # repeat patients collapse to one person; at most the patients hit by a defect may be missing
    assert summary["persons"] - defects <= omop_persons <= summary["persons"]


def test_nothing_is_lost(pipeline_run):
    with warehouse(pipeline_run) as con:
        ledger = con.execute(
            "SELECT source_id, delivery_id, entity, rows_read, rows_loaded, rows_quarantined, status "
            "FROM ops.delivery_ledger WHERE entity IS NOT NULL"
        ).df()
        raw = pd.concat(
            con.execute(
                f"SELECT source_id, delivery_id, '{e}' AS entity, count(*) AS n FROM raw.{e} GROUP BY ALL"
            ).df()
            for e in canonical.ENTITIES
        )
    assert (ledger["rows_read"] == ledger["rows_loaded"] + ledger["rows_quarantined"]).all()
    assert set(ledger["source_id"]) == set(truth(pipeline_run, "deliveries.csv")["source_id"])
    assert (ledger["status"] == "loaded").all()
    merged = ledger.merge(raw, on=["source_id", "delivery_id", "entity"], how="left").fillna({"n": 0})
    assert (merged["n"] == merged["rows_loaded"]).all()
    assert ledger["rows_quarantined"].sum() > 0  # the injected defects were caught, not loaded


def test_marts_hold_the_expected_patients(pipeline_run):
    risk = truth(pipeline_run, "risk_groups.csv")
    defects = len(truth(pipeline_run, "defects.csv"))
    with warehouse(pipeline_run) as con:
        for disease, mart in MARTS_BY_DISEASE.items():
            expected = risk.loc[risk["disease"] == disease, "person_id"].nunique()
            # one row per source patient; is_index_record picks one per person across sources
            rows, persons = con.execute(
                f"SELECT count(*) FILTER (WHERE is_index_record), count(DISTINCT person_hash) FROM marts.{mart}"
            ).fetchone()
            assert rows == persons, f"{mart}: one index record per person"
            assert expected - defects <= persons <= expected, (mart, persons, expected)


def test_harmony_query_answers_from_the_published_release(pipeline_run):
    env = dict(pipeline_run["env"])
    command = [sys.executable, "-m", "harmony_pipeline.cli", "query", "--user", "demo-analyst"]
    command += ["--project", "demo", "--format", "json", "SELECT count(*) AS n FROM mart_mm"]
    answer = subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert answer.returncode == 0, answer.stderr
    with duckdb.connect(str(pipeline_run["settings"].published), read_only=True) as con:
        published = con.execute("SELECT count(*) FROM mart_mm").fetchone()[0]
    assert json.loads(answer.stdout)[0]["n"] == published > 0


DETERMINISM_TABLES = ("omop.person", "omop.measurement", "omop.condition_occurrence", "omop.episode")
DETERMINISM_TABLES += ("marts.mart_aml", "marts.mart_mds")


def snapshot(warehouse_path) -> dict:
    with duckdb.connect(str(warehouse_path), read_only=True) as con:
        tables = {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").df() for t in DETERMINISM_TABLES}
        tables["raw rows"] = con.execute("SELECT count(*) FROM raw.patient").fetchone()[0]
        tables["ledger"] = con.execute("SELECT count(*) FROM ops.delivery_ledger").fetchone()[0]
    return tables


def run_in(env: dict, settings) -> bool:
    from harmony_pipeline.runner import run_pipeline

    with environment(env):
        return run_pipeline(settings)


def test_rerun_with_nothing_new_reprocesses_nothing(pipeline_run):
    before = snapshot(pipeline_run["settings"].warehouse)
    assert run_in(pipeline_run["env"], pipeline_run["settings"])
    after = snapshot(pipeline_run["settings"].warehouse)
    assert after["raw rows"] == before["raw rows"]
    # every delivery is recorded once more as skipped (same content hash), none loaded again
    with duckdb.connect(str(pipeline_run["settings"].warehouse), read_only=True) as con:
        loaded_twice = con.execute(
            "SELECT count(*) FROM (SELECT content_hash FROM ops.delivery_ledger WHERE status = 'loaded' "
            "GROUP BY content_hash, entity HAVING count(*) > 1)"
        ).fetchone()[0]
    assert loaded_twice == 0
    for table in DETERMINISM_TABLES:
        pd.testing.assert_frame_equal(before[table], after[table], obj=table)


def test_same_inputs_give_identical_tables_ids_included(pipeline_run, tmp_path):
    """A second site with a copy of the same landing zone and the same key builds the same tables."""
    from harmony_pipeline.runner import run_pipeline
    from harmony_pipeline.settings import get_settings

    with pipeline_home(tmp_path) as (home, _):
        shutil.copytree(Path(pipeline_run["home"]) / "landing", home / "landing")
        settings = get_settings()
        assert run_pipeline(settings)
    first, second = snapshot(pipeline_run["settings"].warehouse), snapshot(settings.warehouse)
    for table in DETERMINISM_TABLES:
        pd.testing.assert_frame_equal(first[table], second[table], obj=table)

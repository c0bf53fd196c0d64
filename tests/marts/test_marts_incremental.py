"""Incremental outcomes, marts and aggregates (macros/marts_incremental.sql) on a synthetic cohort, through
the real ingest and the real dbt project, with the helpers of tests/incremental_builds.py.

The last delivery of an MDS registry is held back; the warehouse is built, the delivery lands and the
build runs again incrementally. Before that build every aggregate table gets a marker row: a table that
is recomputed loses it, a table that is kept keeps it. Only the aggregates of the diseases of the changed
patients may be recomputed, and after the kept markers are removed the warehouse must equal a full
refresh, ids and floats included.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from incremental_builds import build, built_without_last_delivery, keep
from warehouse_compare import differences

pytestmark = pytest.mark.slow
MARK = "TAMPERED"
KM = ("aml", "apl", "all", "cll", "mds", "mm", "nhl")
# aggregate table -> (the disease it is computed from, the column the marker row is written in)
ONE_DISEASE = {f"km_{d}": (d.upper(), "endpoint") for d in KM} | {
    "mm_pfs_by_treatment": ("MM", "riss_stage"),
    "all_paediatric_vs_adult": ("ALL", "age_group"),
}


def mark(con) -> None:
    for table, (_, column) in ONE_DISEASE.items():
        con.execute(f"INSERT INTO marts.{table} ({column}) VALUES (?)", [MARK])
    con.execute(
        "INSERT INTO marts.comutation (disease, gene_a, gene_b) "
        "SELECT DISTINCT disease, ?, ? FROM outcomes.patient_disease",
        [MARK, MARK],
    )


def marked(path: Path) -> dict[str, set[str]]:
    """The diseases whose marker rows are still there, per aggregate table."""
    with duckdb.connect(str(path), read_only=True) as con:
        found = {}
        for table, (disease, column) in ONE_DISEASE.items():
            n = con.execute(f"SELECT count(*) FROM marts.{table} WHERE {column} = ?", [MARK]).fetchone()[0]
            found[table] = {disease} if n else set()
        found["comutation"] = {
            r[0]
            for r in con.execute("SELECT disease FROM marts.comutation WHERE gene_a = ?", [MARK]).fetchall()
        }
        return found


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    root = tmp_path_factory.mktemp("marts_incremental")
    with built_without_last_delivery(root, seed=29) as (warehouse, _, land):
        with duckdb.connect(str(warehouse), read_only=True) as con:
            diseases = {
                r[0] for r in con.execute("SELECT DISTINCT disease FROM outcomes.patient_disease").fetchall()
            }

        land()
        with duckdb.connect(str(warehouse)) as con:
            mark(con)
        build(warehouse, root)
        incremental = keep(warehouse, "incremental")
        with duckdb.connect(str(warehouse)) as con:
            changed = {
                r[0] for r in con.execute("SELECT disease FROM intermediate.int_changed_diseases").fetchall()
            }
            # the kept markers go, so that the comparison below sees only the builds
            for table, (_, column) in ONE_DISEASE.items():
                con.execute(f"DELETE FROM marts.{table} WHERE {column} = ?", [MARK])
            con.execute("DELETE FROM marts.comutation WHERE gene_a = ?", [MARK])
        repaired = keep(warehouse, "repaired")
        build(warehouse, root, full_refresh=True)
        yield {
            "incremental": incremental, "repaired": repaired, "refreshed": warehouse, "diseases": diseases,
            "changed": changed,
        }  # fmt: skip
    shutil.rmtree(root, ignore_errors=True)


def test_the_delivery_changes_some_diseases_not_all(history):
    # an MDS registry: its patients' diseases change, lymphoma and myeloma patients are not among them
    assert "MDS" in history["changed"]
    assert history["changed"] < history["diseases"]
    assert {"CLL", "MM", "NHL"} & (history["diseases"] - history["changed"])


def test_only_the_aggregates_of_changed_diseases_are_recomputed(history):
    still_marked = marked(history["incremental"])
    for table, (disease, _) in ONE_DISEASE.items():
        # recomputed (marker gone) exactly when its disease changed, else kept as it was
        assert still_marked[table] == ({disease} - history["changed"]), table
    # comutation: the changed diseases' rows are replaced, the others' rows kept
    assert still_marked["comutation"] == history["diseases"] - history["changed"]


def test_incremental_build_equals_a_full_refresh(history):
    assert differences(history["repaired"], history["refreshed"]) == {}
    with duckdb.connect(str(history["refreshed"]), read_only=True) as con:
        # the comparison is not vacuous: the recomputed aggregates have rows
        assert con.execute("SELECT count(*) FROM marts.km_mds").fetchone()[0] > 0
        assert con.execute("SELECT count(*) FROM marts.comutation WHERE disease = 'MDS'").fetchone()[0] > 0

"""Incremental builds (dbt_project/macros/incremental.sql) on a synthetic cohort with two deliveries per
source, through the real ingest and the real dbt project.

The last delivery of one source is held back; the warehouse is built, the delivery lands and the build
runs again incrementally. It must give the same tables, ids included, as a full refresh of the same
warehouse (same id registries), touch only the persons of that source's delivery, and a build with
nothing new must change nothing.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from incremental_builds import SOURCE, build, built_without_last_delivery, keep
from warehouse_compare import differences

pytestmark = pytest.mark.slow
TAMPERED = "tampered"


def one(path: Path, sql: str, *params):
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql, list(params)).fetchone()


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    """Build without SOURCE's last delivery; land it and build incrementally; build again with nothing new;
    then a full refresh. Before the incremental build one OMOP person of SOURCE's delivery and one
    untouched person get a tampered value: a rebuilt row loses it, a row left alone keeps it. The value is
    person_source_value, which no data-quality check reads: ops.dq_results must see only the builds."""
    root = tmp_path_factory.mktemp("incremental")
    with built_without_last_delivery(root, seed=23) as (warehouse, last, land):
        first = keep(warehouse, "first")

        land()
        with duckdb.connect(str(warehouse)) as con:
            delivered = {r[0] for r in con.execute(
                "SELECT DISTINCT person_key FROM raw.patient WHERE source_id = ? AND delivery_id = ?",
                [SOURCE, last.name],
            ).fetchall()}  # fmt: skip
            # an OMOP person of the new delivery, and one the source never delivered
            omop_person = "SELECT min(person_id) FROM intermediate.int_person WHERE year_of_birth IS NOT NULL"
            of_source = "SELECT person_key FROM raw.patient WHERE source_id = ?"
            touched = con.execute(
                f"{omop_person} AND person_key IN ({of_source} AND delivery_id = ?)", [SOURCE, last.name]
            ).fetchone()[0]
            untouched = con.execute(
                f"{omop_person} AND person_key NOT IN ({of_source})", [SOURCE]
            ).fetchone()[0]
            original = dict(con.execute(
                "SELECT person_id, person_source_value FROM omop.person WHERE person_id IN (?, ?)", [touched, untouched]
            ).fetchall())  # fmt: skip
            con.execute(
                "UPDATE omop.person SET person_source_value = ? WHERE person_id IN (?, ?)",
                [TAMPERED, touched, untouched],
            )
        build(warehouse, root)
        incremental = keep(warehouse, "incremental")

        # put the untouched person's value back, so that the comparisons below see only the builds
        with duckdb.connect(str(warehouse)) as con:
            con.execute(
                "UPDATE omop.person SET person_source_value = ? WHERE person_id = ?",
                [original[untouched], untouched],
            )
        repaired = keep(warehouse, "repaired")
        build(warehouse, root)
        again = keep(warehouse, "again")
        build(warehouse, root, full_refresh=True)
        yield {
            "first": first, "incremental": incremental, "repaired": repaired, "again": again,
            "refreshed": warehouse, "delivered": delivered, "touched": touched, "untouched": untouched,
            "original": original,
        }  # fmt: skip


def test_incremental_build_equals_a_full_refresh_ids_included(history):
    assert differences(history["repaired"], history["refreshed"]) == {}
    # the delivery did change the warehouse: new persons, new facts, new ids
    assert differences(history["first"], history["incremental"])
    assert (
        one(history["incremental"], "SELECT count(*) FROM omop.person")[0]
        > one(history["first"], "SELECT count(*) FROM omop.person")[0]
    )


def test_only_the_persons_of_the_new_delivery_are_rebuilt(history):
    with duckdb.connect(str(history["incremental"]), read_only=True) as con:
        rebuilt = {
            r[0] for r in con.execute("SELECT person_key FROM intermediate.int_changed_links").fetchall()
        }
        rebuilt_ids = {
            r[0] for r in con.execute("SELECT person_id FROM intermediate.int_changed_links").fetchall()
        }
        all_persons = con.execute("SELECT count(*) FROM intermediate.int_person").fetchone()[0]
    assert history["delivered"] <= rebuilt
    assert len(rebuilt) < all_persons / 2
    assert history["touched"] in rebuilt_ids and history["untouched"] not in rebuilt_ids
    # the delivered person's row was rebuilt (the tampered value is gone), the other one was left alone
    sql = "SELECT person_source_value FROM omop.person WHERE person_id = ?"
    touched, untouched = history["touched"], history["untouched"]
    assert one(history["incremental"], sql, touched) == (history["original"][touched],)
    assert one(history["incremental"], sql, untouched) == (TAMPERED,)


def test_a_build_with_nothing_new_changes_nothing(history):
    assert one(history["again"], "SELECT count(*) FROM intermediate.int_changed_links") == (0,)
    assert differences(history["repaired"], history["again"]) == {}


def test_ids_of_earlier_rows_survive_the_delivery(history):
    with duckdb.connect() as con:
        con.execute(f"ATTACH '{history['first']}' AS a (READ_ONLY)")
        con.execute(f"ATTACH '{history['incremental']}' AS b (READ_ONLY)")
        moved = con.execute(
            "SELECT count(*) FROM a.omop.person AS x JOIN b.omop.person AS y USING (person_source_value) "
            "WHERE x.person_id <> y.person_id"
        ).fetchone()[0]
        kept = con.execute(
            "SELECT count(*) FROM a.ops.id_measurement AS x JOIN b.ops.id_measurement AS y USING (key_hash) "
            "WHERE x.id = y.id"
        ).fetchone()[0]
        before = con.execute("SELECT count(*) FROM a.ops.id_measurement").fetchone()[0]
    assert moved == 0
    assert kept == before

"""Stable OMOP ids: the registries ops.id_<table> (dbt_project/models/ids/), built for real with dbt.

A fresh warehouse built in one go gets the rank of each natural key's md5 (the ids before registries);
afterwards a key keeps its id through new deliveries and full refreshes, and new keys get ids above the
largest one.
"""

from __future__ import annotations

import datetime as dt
import shutil

import duckdb
import pandas as pd
import pytest
from dbt_runner import run_dbt
from omop_warehouse import PK_B, build

from harmony_pipeline import canonical

REGISTRIES = ("person", "visit_occurrence", "condition_occurrence", "drug_exposure", "procedure_occurrence",
              "observation", "measurement", "episode", "condition_era", "drug_era")  # fmt: skip
# omop table -> its id column, for every table whose ids come from a registry
ID_COLUMNS = {f"omop.{t}": f"{t}_id" for t in REGISTRIES} | {"intermediate.int_person": "person_id"}
PK_E = "pk-" + "e" * 61


def rows(path, sql: str, *params) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


def ids_by_key(path) -> dict[str, dict]:
    """Every registry as {key_hash: id}."""
    return {name: dict(rows(path, f"select key_hash, id from ops.id_{name}")) for name in REGISTRIES}


def land_second_delivery(path) -> None:
    """Delivery d2 of trial_aml: a new person E and a new lab value of person B."""

    def row(patient, person, n, **fields):
        return {"source_id": "trial_aml", "delivery_id": "trial_aml-d2", "file_name": "trial_aml.csv",
                "row_number": n, "patient_key": patient, "person_key": person} | fields  # fmt: skip

    new = {
        "patient": [row("e1", PK_E, 1, sex="F", birth_date=dt.date(1950, 1, 1), birth_year=1950,
                        age_at_diagnosis=70.0, country="BE", provider_kind="trial", index_date=dt.date(2020, 3, 1))],
        "diagnosis": [row("e1", PK_E, 1, disease="AML", subtype=None, diagnosis_date=dt.date(2020, 2, 20),
                          code_system="ICD10", code="C92.0", source_value="AML")],
        "lab_result": [row("b1", PK_B, 2, lab="plt", value=80.0, unit="10^9/L", measured_date=dt.date(2019, 1, 5),
                           source_value="80", source_unit="10^9/L")],
    }  # fmt: skip
    with duckdb.connect(str(path)) as con:
        for entity, records in new.items():
            columns = [f.name for f in canonical.table_columns(entity)]
            frame = pd.DataFrame(records, columns=columns)  # noqa: F841 (read by DuckDB)
            con.execute(f'INSERT INTO raw."{entity}" SELECT {", ".join(columns)} FROM frame')


@pytest.fixture(scope="module")
def two_deliveries(tmp_path_factory):
    """The hand-written warehouse built in one go, then delivery d2 built incrementally, then a full refresh."""
    work = tmp_path_factory.mktemp("ids")
    first = build(work)
    snapshots = {"first": work / "first.duckdb"}
    shutil.copy(first, snapshots["first"])
    land_second_delivery(first)
    assert run_dbt(first, work, "build", "--exclude", "resource_type:unit_test").returncode == 0, (
        "incremental build failed"
    )
    snapshots["incremental"] = work / "incremental.duckdb"
    shutil.copy(first, snapshots["incremental"])
    assert (
        run_dbt(first, work, "build", "--exclude", "resource_type:unit_test", "--full-refresh").returncode
        == 0
    ), "refresh failed"
    snapshots["refreshed"] = first
    return snapshots


def test_a_fresh_build_ranks_the_md5_of_each_natural_key(warehouse):
    for name in REGISTRIES:
        ranked = rows(
            warehouse,
            f"select count(*), count(*) filter (where id = rank_) from "
            f"(select id, row_number() over (order by key_hash) as rank_ from ops.id_{name})",
        )
        assert ranked[0][0] > 0 and ranked[0][0] == ranked[0][1], name
    # person_id is the rank of md5(person_key), as the ids were before the registries
    persons = rows(
        warehouse,
        "select count(*) filter (where person_id <> rank_) from (select person_id, "
        "row_number() over (order by md5_number(person_key)) as rank_ from intermediate.int_person)",
    )
    assert persons == [(0,)]


def test_every_omop_id_comes_from_its_registry(warehouse):
    for name in REGISTRIES:
        table = f"omop.{name}"
        missing = rows(
            warehouse,
            f"select count(*) from {table} where {name}_id is null "
            f"or {name}_id not in (select id from ops.id_{name})",
        )
        assert missing == [(0,)], table
        n_ids, n_rows = rows(warehouse, f"select count(distinct {name}_id), count(*) from {table}")[0]
        assert n_ids == n_rows, table


def test_ids_never_change_and_new_keys_get_ids_above_the_largest(two_deliveries):
    before, after = ids_by_key(two_deliveries["first"]), ids_by_key(two_deliveries["incremental"])
    for name in REGISTRIES:
        assert before[name].items() <= after[name].items(), name  # every key kept its id
        new_ids = sorted(set(after[name].values()) - set(before[name].values()))
        assert new_ids == list(
            range(max(before[name].values()) + 1, max(before[name].values()) + 1 + len(new_ids))
        )
    # person E and its condition are new; B got one more lab value (and so one more measurement)
    for name in ("person", "condition_occurrence", "measurement"):
        assert len(after[name]) > len(before[name]), name
    old_person_ids = rows(two_deliveries["first"], "select person_source_value, person_id from omop.person")
    new_person_ids = dict(
        rows(two_deliveries["incremental"], "select person_source_value, person_id from omop.person")
    )
    assert all(new_person_ids[key] == pid for key, pid in old_person_ids)
    assert new_person_ids[PK_E[:50]] == max(pid for _, pid in old_person_ids) + 1


def test_a_full_refresh_keeps_the_registries_and_so_every_id(two_deliveries):
    assert ids_by_key(two_deliveries["refreshed"]) == ids_by_key(two_deliveries["incremental"])
    for table, column in ID_COLUMNS.items():
        sql = f"select * from {table} order by {column}"
        assert rows(two_deliveries["refreshed"], sql) == rows(two_deliveries["incremental"], sql), table

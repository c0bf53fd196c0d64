"""The OMOP layer built for real (dbt build of staging, intermediate, omop and dq into DuckDB)."""

from __future__ import annotations

import csv
import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pytest
from dbt_runner import DBT_PROJECT, run_dbt
from omop_warehouse import PK_A, PK_C, PK_D, canonical_rows

SPEC = DBT_PROJECT / "seeds" / "cdm_field_spec.csv"
DUCKDB_TYPES = {"integer": "INTEGER", "varchar": "VARCHAR", "date": "DATE", "timestamp": "TIMESTAMP",
                "double": "DOUBLE"}  # fmt: skip
POPULATED = {
    "person": "person_id", "observation_period": "observation_period_id",
    "visit_occurrence": "visit_occurrence_id", "condition_occurrence": "condition_occurrence_id",
    "measurement": "measurement_id", "observation": "observation_id", "drug_exposure": "drug_exposure_id",
    "procedure_occurrence": "procedure_occurrence_id", "death": "person_id", "episode": "episode_id",
    "episode_event": "episode_id, episode_event_field_concept_id, event_id",
    "condition_era": "condition_era_id", "drug_era": "drug_era_id",
}  # fmt: skip


def query(warehouse: Path, sql: str, *params):
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def person_id(warehouse: Path, person_key: str) -> int:
    return query(
        warehouse, "select person_id from omop.person where person_source_value = ?", person_key[:50]
    )[0][0]


def spec_columns() -> dict[str, list[tuple[str, str]]]:
    columns: dict[str, list[tuple[int, str, str]]] = {}
    for row in csv.DictReader(SPEC.open()):
        columns.setdefault(row["table_name"], []).append(
            (int(row["ordinal"]), row["field_name"], row["duckdb_type"])
        )
    return {t: [(name, DUCKDB_TYPES[kind]) for _, name, kind in sorted(cols)] for t, cols in columns.items()}


def test_every_cdm_table_has_exactly_the_spec_columns_and_types(warehouse):
    spec = spec_columns()
    assert len(spec) == 39  # every CDM v5.4 table of the specification
    rows = query(
        warehouse,
        "select table_name, column_name, data_type from information_schema.columns "
        "where table_schema = 'omop' order by table_name, ordinal_position",
    )
    actual: dict[str, list[tuple[str, str]]] = {}
    for table, column, kind in rows:
        actual.setdefault(table, []).append((column, kind))
    assert actual == spec


def test_ids_are_deterministic_whatever_the_row_order(warehouse, warehouse_reversed):
    for table, order in POPULATED.items():
        first = query(warehouse, f"select * from omop.{table} order by {order}")
        second = query(warehouse_reversed, f"select * from omop.{table} order by {order}")
        assert first == second, table
        assert first, f"{table} should be populated by the fixture"


def test_person_from_two_sources_is_one_person_with_one_period(warehouse):
    persons = {r.get("person_key") for rows in canonical_rows().values() for r in rows} - {PK_D}
    assert query(warehouse, "select count(*) from omop.person")[0][0] == len(persons) == 3
    pid = person_id(warehouse, PK_A)
    # The known sex of the trial wins over the registry's 'U'.
    assert query(warehouse, "select gender_concept_id from omop.person where person_id = ?", pid) == [(8532,)]
    periods = query(
        warehouse,
        "select observation_period_start_date, observation_period_end_date from omop.observation_period "
        "where person_id = ?",
        pid,
    )
    assert periods == [(dt.date(2018, 4, 30), dt.date(2019, 6, 1))]
    # Its AML diagnosis, delivered by both sources, is one condition; the FLT3 test, delivered twice, once.
    assert query(warehouse, "select count(*) from omop.condition_occurrence where person_id = ?", pid) == [
        (1,)
    ]
    flt3 = query(
        warehouse,
        "select count(*) from omop.measurement where person_id = ? and measurement_source_value = 'FLT3'",
        pid,
    )
    assert flt3 == [(1,)]
    # Every clinical record lies within the person's observation period.
    outside = query(
        warehouse,
        "select count(*) from omop.measurement m join omop.observation_period o using (person_id) "
        "where m.measurement_date not between o.observation_period_start_date and o.observation_period_end_date",
    )
    assert outside == [(0,)]


def test_unmapped_values_are_kept_with_concept_zero(warehouse):
    drugs = query(warehouse, "select drug_source_value, drug_concept_id from omop.drug_exposure order by 1")
    assert ("wonderzumab", 0) in drugs
    # every treatment row is kept; the regimen-only row becomes its two ingredients
    assert len(drugs) == len(canonical_rows()["treatment"]) + 1
    assert ("Rd:dexamethasone", 1518254) in drugs and ("Rd:lenalidomide", 19026972) in drugs
    regimen = query(
        warehouse,
        "select episode_object_concept_id from omop.episode where episode_source_value = 'experimental'",
    )
    assert regimen == [(0,)]
    # An unmapped local code keeps its source value (the disease still maps the condition).
    assert query(
        warehouse,
        "select condition_concept_id from omop.condition_occurrence where condition_source_value = 'ZZ-UNKNOWN'",
    ) == [(140352,)]
    # Labs without a verified concept keep concept 0 and carry the local concept as source concept.
    blasts = query(
        warehouse,
        "select measurement_concept_id, measurement_source_concept_id from omop.measurement "
        "where measurement_source_value = 'bm_blasts'",
    )
    assert blasts == [(0, 2000000001)]


def test_measurements_are_harmonised_and_modifiers_point_to_the_diagnosis(warehouse):
    pid = person_id(warehouse, PK_A)
    condition = query(
        warehouse, "select condition_occurrence_id from omop.condition_occurrence where person_id = ?", pid
    )
    hb = query(
        warehouse,
        "select value_as_number, unit_concept_id, unit_source_value, measurement_event_id from omop.measurement "
        "where person_id = ? and measurement_concept_id = 3000963",
        pid,
    )
    assert hb == [(pytest.approx(9.5), 8713, "g/L", None)]  # 95 g/L -> 9.5 g/dL, a lab is no modifier
    flt3 = query(
        warehouse,
        "select value_as_number, value_as_concept_id, measurement_event_id, meas_event_field_concept_id "
        "from omop.measurement where person_id = ? and measurement_source_value = 'FLT3'",
        pid,
    )
    assert flt3 == [(pytest.approx(0.31), 4126681, condition[0][0], 1147127)]
    ecog = query(
        warehouse,
        "select measurement_concept_id, value_as_number, measurement_date, measurement_event_id "
        "from omop.measurement where person_id = ? and measurement_source_value like 'ecog:%'",
        pid,
    )
    # undated ECOG takes the diagnosis date and modifies the diagnosis
    assert ecog == [(4309681, 2.0, dt.date(2018, 4, 30), condition[0][0])]


def test_episodes_model_disease_course_and_lines(warehouse):
    pid = person_id(warehouse, PK_A)
    rows = query(
        warehouse,
        "select episode_id, episode_concept_id, episode_start_date, episode_end_date, episode_parent_id, "
        "episode_number from omop.episode where person_id = ? order by episode_concept_id, episode_start_date",
        pid,
    )
    by_concept: dict[int, list] = {}
    for row in rows:
        by_concept.setdefault(row[1], []).append(row)
    (disease,) = by_concept[32528]
    # Two CR assessments before the relapse are one remission, ending at the relapse.
    assert [(r[2], r[3], r[4]) for r in by_concept[32530]] == [
        (dt.date(2018, 6, 15), dt.date(2019, 1, 20), disease[0])
    ]
    assert [(r[2], r[4]) for r in by_concept[32529]] == [(dt.date(2019, 1, 20), disease[0])]
    assert [(r[5], r[4]) for r in by_concept[32531]] == [(1, disease[0]), (2, disease[0])]
    line_one = by_concept[32531][0][0]
    drugs = query(
        warehouse,
        "select count(*) from omop.episode_event where episode_id = ? and episode_event_field_concept_id = 1147094",
        line_one,
    )
    assert drugs == [(2,)]  # cytarabine and daunorubicin


def test_dq_results_cover_the_required_checks_and_pass_fatal_ones(warehouse):
    names = {r[0] for r in query(warehouse, "select distinct check_name from ops.dq_results")}
    required = {
        "cdmTable", "cdmField", "cdmDatatype", "isRequired", "isPrimaryKey", "isForeignKey", "fkDomain",
        "isStandardValidConcept", "measurePersonCompleteness", "sourceValueCompleteness", "plausibleValueLow",
        "plausibleValueHigh", "plausibleUnitConceptIds", "plausibleAfterBirth", "plausibleBeforeDeath",
        "plausibleStartBeforeEnd",
    }  # fmt: skip
    assert required <= names
    # one row per check instance
    duplicates = query(
        warehouse,
        'select check_name, "table", field, concept_id, count(*) from ops.dq_results group by all having count(*) > 1',
    )
    assert duplicates == []
    assert query(
        warehouse, "select count(*) from ops.dq_results where severity = 'fatal' and not passed"
    ) == [(0,)]
    # the unknown drug is seen by sourceValueCompleteness
    svc = query(
        warehouse,
        "select violated_rows, denominator_rows from ops.dq_results "
        "where check_name = 'sourceValueCompleteness' and field = 'drug_source_value'",
    )
    assert svc == [(1, 7)]  # 5 named drugs + the 2 ingredients of Rd; wonderzumab unmapped


def test_checks_catch_broken_rows_and_a_fatal_failure_fails_the_dq_gate(warehouse, tmp_path):
    broken = tmp_path / "broken.duckdb"
    shutil.copy(warehouse, broken)
    con = duckdb.connect(str(broken))
    con.execute("insert into omop.person select * from omop.person limit 1")  # duplicate primary key
    # a drug concept as a condition (wrong domain) and a measurement dated before birth
    con.execute(
        "update omop.condition_occurrence set condition_concept_id = 19026972 where condition_source_value = 'C90.0'"
    )
    con.execute(
        "update omop.measurement set measurement_date = date '1900-01-01' where measurement_source_value = 'b2m'"
    )
    # an episode event whose episode does not exist
    con.execute(
        "insert into omop.episode_event select (select max(episode_id) + 1 from omop.episode), event_id, "
        "episode_event_field_concept_id from omop.episode_event limit 1"
    )
    con.close()
    # rows changed in place are recounted by a full refresh (the rebuild job): the per-person partials
    # of an incremental build recount only the persons whose raw rows changed
    dq_models = ("--select", "dq_person_partials", "dq_results", "--full-refresh")
    assert run_dbt(broken, tmp_path, "build", *dq_models).returncode != 0  # the fatal-check test fails
    failed = query(
        broken,
        'select check_name, "table", field, severity, violated_rows from ops.dq_results where not passed',
    )
    assert ("isPrimaryKey", "person", "person_id", "fatal", 2) in failed
    assert ("fkDomain", "condition_occurrence", "condition_concept_id", "convention", 1) in failed
    assert ("plausibleAfterBirth", "measurement", "measurement_date", "characterization", 1) in failed
    assert ("isForeignKey", "episode_event", "episode_id", "fatal", 1) in failed


def test_an_incremental_build_counts_a_duplicated_key_of_a_changed_person(warehouse, tmp_path):
    """isPrimaryKey of a person-grain table, incrementally: when the last build found no duplicate,
    only the changed persons' keys are counted, and a key they share with an unchanged person's row
    is a duplicate. A failed check counts the whole table next time, until the duplicate is gone."""
    broken = tmp_path / "broken.duckdb"
    shutil.copy(warehouse, broken)
    con = duckdb.connect(str(broken))
    (changed, changed_key), (unchanged,) = (
        con.execute(
            "select m.person_id, p.person_key from omop.measurement as m "
            "join intermediate.int_person as p using (person_id) order by m.person_id limit 1"
        ).fetchone(),
        con.execute("select max(person_id) from omop.measurement").fetchone(),
    )
    assert changed != unchanged
    # the last complete build saw every link but the changed person's: the next build rebuilds only it
    con.execute(
        "create or replace table ops.processed_fingerprints as "
        "select * from intermediate.int_person_fingerprint where person_key <> ?",
        [changed_key],
    )
    # an unchanged person's row takes the id of a changed person's row
    con.execute(
        "update omop.measurement set measurement_id = (select min(measurement_id) from omop.measurement "
        "where person_id = ?) where measurement_id = (select min(measurement_id) from omop.measurement "
        "where person_id = ?)",
        [changed, unchanged],
    )
    con.close()
    duplicates = (
        "select violated_rows from ops.dq_results "
        "where check_name = 'isPrimaryKey' and \"table\" = 'measurement'"
    )
    assert run_dbt(broken, tmp_path, "build", "--select", "int_changed_links", "dq_results").returncode != 0
    assert query(broken, "select distinct person_id from intermediate.int_changed_links") == [(changed,)]
    assert query(broken, duplicates) == [(2,)]
    # nothing changed now, and the duplicate is still counted (over the whole table) until it is gone
    con = duckdb.connect(str(broken))
    con.execute(
        "create or replace table ops.processed_fingerprints as from intermediate.int_person_fingerprint"
    )
    con.close()
    assert run_dbt(broken, tmp_path, "build", "--select", "int_changed_links", "dq_results").returncode != 0
    assert query(broken, "select count(*) from intermediate.int_changed_links") == [(0,)]
    assert query(broken, duplicates) == [(2,)]
    con = duckdb.connect(str(broken))
    con.execute("delete from omop.measurement where person_id = ? and measurement_id in "
                "(select measurement_id from omop.measurement where person_id = ?)", [unchanged, changed])  # fmt: skip
    con.close()
    assert run_dbt(broken, tmp_path, "build", "--select", "dq_results").returncode == 0
    assert query(broken, duplicates) == [(0,)]


def test_mapping_coverage_reports_unmapped_values_per_source(warehouse):
    rows = query(
        warehouse,
        "select n_values, n_values_mapped, unmapped_values from ops.mapping_coverage "
        "where source_id = 'trial_aml' and entity = 'treatment' and field = 'drug'",
    )
    assert rows == [(4, 3, "wonderzumab")]
    labs = query(
        warehouse,
        "select n_rows, n_rows_standard, n_rows_local_concept from ops.mapping_coverage "
        "where source_id = 'registry_mm' and entity = 'lab_result' and field = 'lab'",
    )
    assert labs == [(2, 1, 1)]  # albumin is LOINC standard, b2m is a local concept


def test_person_without_year_of_birth_is_listed_not_silently_dropped(warehouse):
    # CDM convention: no year of birth -> not in the CDM; the person and its records are reported instead
    assert query(warehouse, "select count(*) from omop.person where person_source_value = ?", PK_D[:50]) == [
        (0,)
    ]
    listed = query(
        warehouse,
        "select source_id, entity, records from ops.omop_excluded_records where person_key = ?",
        PK_D,
    )
    assert listed == [("trial_aml", "mutation", 1)]
    # year of birth from age at diagnosis when the source gives neither date nor year
    assert query(
        warehouse, "select year_of_birth from omop.person where person_source_value = ?", PK_C[:50]
    ) == [(1951,)]


def test_vocabulary_uses_only_verified_or_local_ids(warehouse):
    local = query(
        warehouse, "select count(*), count(standard_concept) from omop.concept where concept_id > 2000000000"
    )
    assert local[0][0] > 0 and local[0][1] == 0  # local concepts are non-standard
    missing = query(
        warehouse,
        "select count(*) from omop.source_to_concept_map m left join omop.concept c on c.concept_id = m.target_concept_id "
        "where c.concept_id is null",
    )
    assert missing == [(0,)]

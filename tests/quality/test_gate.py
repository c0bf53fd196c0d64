"""The quality gate, rule by rule, on canonical frames built here (real DuckDB, real GX)."""

from __future__ import annotations

import json
from datetime import date
from types import SimpleNamespace

import duckdb
import pandas as pd
import pytest

from harmony_pipeline import canonical
from harmony_pipeline.quality.frames import QUARANTINE_COLUMNS
from harmony_pipeline.quality.gate import BatchRejected, apply_gate
from harmony_pipeline.settings import get_settings

TODAY = date(2025, 6, 1)
CONTRACT = SimpleNamespace(source_id="src_a")


def rows(entity: str, *facts: dict, file_name: str = "f.csv") -> pd.DataFrame:
    """Canonical rows with lineage; patient p<i> unless a fact names its patient."""
    out = []
    for i, fact in enumerate(facts):
        patient = fact.pop("patient", f"p{i}")
        row = dict(source_id="src_a", delivery_id="d1", file_name=file_name, row_number=i + 1,
                   patient_key=patient, person_key="person-" + patient)  # fmt: skip
        row.update({f.name: None for f in canonical.ENTITIES[entity].fields})
        row.update(fact)
        out.append(row)
    return pd.DataFrame(out, columns=[f.name for f in canonical.table_columns(entity)])


def patient(**kw) -> dict:
    return {"sex": "F", "birth_year": 1960, "provider_kind": "registry", **kw}


def dx(**kw) -> dict:
    return {"disease": "AML", "diagnosis_date": date(2020, 1, 10), **kw}


def gate(rejects=None, **entities):
    read = SimpleNamespace(entities=entities, rejects=rejects)
    return apply_gate(read, CONTRACT, settings=get_settings(), today=TODAY)


def failures(result) -> set[tuple]:
    return set(result.quarantined[["entity", "row_number", "rule"]].itertuples(index=False, name=None))


def test_clean_rows_pass_with_canonical_columns():
    result = gate(
        patient=rows("patient", patient(), patient(sex="M")), diagnosis=rows("diagnosis", dx(), dx())
    )
    assert result.quarantined.empty
    assert list(result.passed["patient"].columns) == [f.name for f in canonical.table_columns("patient")]
    assert result.rows_read == {"patient": 2, "diagnosis": 2}
    assert result.pass_rate == 1.0


@pytest.mark.parametrize(
    ("entity", "fact", "rule", "field"),
    [
        ("patient", patient(sex=None), "required", "sex"),
        ("patient", patient(sex="female"), "allowed_codes", "sex"),
        ("patient", patient(birth_year=1850), "range", "birth_year"),
        ("patient", patient(age_at_diagnosis=130.0), "range", "age_at_diagnosis"),
        ("diagnosis", dx(disease="CML"), "allowed_codes", "disease"),
        ("diagnosis", dx(diagnosis_date=None), "required", "diagnosis_date"),
        ("diagnosis", dx(diagnosis_date="2020-02-30"), "type", "diagnosis_date"),
        ("diagnosis", dx(diagnosis_date=date(2031, 1, 1)), "future_date", "diagnosis_date"),
        ("diagnosis", dx(diagnosis_date=date(1890, 1, 1)), "implausible_date", "diagnosis_date"),
        ("lab_result", {"lab": "hb", "value": 40.0, "unit": "g/dL"}, "range", "value"),
        ("lab_result", {"lab": "hb", "value": 9.0, "unit": "mmol/L"}, "unit", "unit"),
        ("lab_result", {"lab": "ferritin", "value": 9.0, "unit": "ng/mL"}, "allowed_codes", "lab"),
        ("lab_result", {"lab": "plt", "value": "many", "unit": "10^9/L"}, "type", "value"),
        ("mutation", {"gene": "TP53", "status": "mutated", "vaf": 1.4}, "range", "vaf"),
        ("treatment", {"line": 0, "start_date": date(2020, 2, 1)}, "range", "line"),
        ("treatment", {"line": 1, "start_date": date(2020, 3, 1), "end_date": date(2020, 2, 1)},
         "end_before_start", "end_date"),
        ("follow_up", {"last_contact_date": date(2021, 1, 1), "vital_status": "alive",
                       "death_date": date(2021, 1, 1)}, "death_date_alive", "death_date"),
    ],
)  # fmt: skip
def test_row_rules(entity, fact, rule, field):
    good = {
        "patient": patient(),
        "diagnosis": dx(),
        "lab_result": {"lab": "hb", "value": 9.0, "unit": "g/dL"},
        "mutation": {"gene": "NPM1", "status": "mutated", "vaf": 0.4},
        "treatment": {"line": 1, "start_date": date(2020, 2, 1)},
        "follow_up": {"last_contact_date": date(2021, 1, 1), "vital_status": "alive"},
    }[entity]
    frame = rows(entity, dict(good), dict(fact))
    if entity in ("patient", "diagnosis"):
        frame = frame.astype(object)  # a date delivered as unparseable text must stay text
    result = gate(**{entity: frame})
    q = result.quarantined
    assert set(q["row_number"]) == {2}, q.to_string()
    hit = q[q["rule"] == rule]
    assert len(hit) == 1 and hit["field"].iloc[0] == field, q.to_string()
    assert hit["reason"].iloc[0] and hit["file_name"].iloc[0] == "f.csv"
    assert len(result.passed[entity]) == 1 and result.rows_quarantined[entity] == 1


def test_cross_row_date_order_within_patient():
    result = gate(
        diagnosis=rows("diagnosis", dx(patient="p1"), dx(patient="p2")),
        follow_up=rows(
            "follow_up",
            {"patient": "p1", "last_contact_date": date(2021, 1, 1), "vital_status": "dead",
             "death_date": date(2019, 12, 1)},
            {"patient": "p2", "last_contact_date": date(2019, 1, 1), "vital_status": "alive"},
        ),
        treatment=rows(
            "treatment",
            {"patient": "p1", "line": 1, "start_date": date(2019, 11, 1)},
            {"patient": "p2", "line": 1, "start_date": date(2020, 1, 10)},  # same day: fine
        ),
    )  # fmt: skip
    assert failures(result) == {
        ("follow_up", 1, "death_before_diagnosis"),
        ("follow_up", 2, "last_contact_before_diagnosis"),
        ("treatment", 1, "treatment_before_diagnosis"),
    }
    reason = result.quarantined.set_index("rule").loc["death_before_diagnosis", "reason"]
    assert "2019-12-01" in reason and "2020-01-10" in reason


def test_future_date_allows_the_date_shift_window():
    window = get_settings().date_shift_days
    inside = pd.Timestamp(TODAY) + pd.Timedelta(days=window)
    result = gate(diagnosis=rows("diagnosis", dx(diagnosis_date=inside.date()),
                                 dx(diagnosis_date=(inside + pd.Timedelta(days=1)).date())))  # fmt: skip
    assert failures(result) == {("diagnosis", 2, "future_date")}


def test_duplicates_keep_the_first_copy_and_conflicts_quarantine_all():
    frame = rows("lab_result",
                 {"patient": "p1", "lab": "hb", "value": 9.0, "unit": "g/dL", "measured_date": date(2020, 1, 1)},
                 {"patient": "p1", "lab": "hb", "value": 9.0, "unit": "g/dL", "measured_date": date(2020, 1, 1)},
                 {"patient": "p2", "lab": "hb", "value": 9.0, "unit": "g/dL", "measured_date": date(2020, 1, 1)},
                 {"patient": "p2", "lab": "hb", "value": 11.0, "unit": "g/dL", "measured_date": date(2020, 1, 1)})  # fmt: skip
    result = gate(lab_result=frame)
    assert failures(result) == {("lab_result", 2, "duplicate_row"), ("lab_result", 3, "unique_key"),
                                ("lab_result", 4, "unique_key")}  # fmt: skip
    assert list(result.passed["lab_result"]["row_number"]) == [1]


def test_quarantine_record_layout_excludes_lineage():
    result = gate(patient=rows("patient", patient(sex="X")))
    q = result.quarantined
    assert list(q.columns) == QUARANTINE_COLUMNS
    record = json.loads(q["record"].iloc[0])
    assert record["sex"] == "X" and "patient_key" not in record and "person_key" not in record
    assert q["value"].iloc[0] == "X" and "canonical codes" in q["reason"].iloc[0]


def test_reader_rejects_count_as_read_and_quarantined():
    rejects = pd.DataFrame([{"source_id": "src_a", "delivery_id": "d1", "file_name": "f.csv", "row_number": 7,
                             "entity": "*", "field": "*", "rule": "malformed_line", "value": None,
                             "reason": "ragged row", "record": None},
                            {"source_id": "src_a", "delivery_id": "d1", "file_name": "f.csv", "row_number": 8,
                             "entity": "diagnosis", "field": "diagnosis_date", "rule": "bad_date",
                             "value": "31/31/2020", "reason": "not a date", "record": "{}"}])  # fmt: skip
    result = gate(rejects=rejects, diagnosis=rows("diagnosis", dx()))
    assert result.rows_read == {"diagnosis": 2, "unassigned": 1}
    assert result.rows_quarantined == {"diagnosis": 1, "unassigned": 1}
    assert set(result.quarantined["entity"]) == {"diagnosis", "unassigned"}


def test_batch_threshold_rejects_the_delivery_naming_file_and_cause():
    bad = rows("patient", *[patient(sex="?") for _ in range(8)], *[patient() for _ in range(4)],
               file_name="patients_2024.csv")  # fmt: skip
    with pytest.raises(BatchRejected) as info:
        gate(patient=bad)
    message = str(info.value)
    assert "patients_2024.csv" in message and "8 of 12" in message and "allowed_codes" in message
    # a small share passes row by row
    result = gate(
        patient=rows("patient", *[patient(sex="?") for _ in range(2)], *[patient() for _ in range(10)])
    )
    assert result.rows_quarantined["patient"] == 2


def test_missing_column_is_a_batch_failure():
    frame = rows("diagnosis", dx()).drop(columns=["disease"])
    with pytest.raises(BatchRejected, match="missing column"):
        gate(diagnosis=frame)


def test_gx_engine_agrees_with_duckdb_engine():
    """The compiled SQL and Great Expectations itself quarantine exactly the same rows for the same rules."""
    labs = [
        {"lab": lab, "value": v, "unit": unit}
        for lab, (unit, low, high) in canonical.LABS.items()
        for v in (low, high, high + 1, low - 1)
    ]
    labs += [{"lab": "hb", "value": 8.0 + i / 10, "unit": "g/dL"} for i in range(40)]  # under the batch share
    read = SimpleNamespace(
        entities={
            "lab_result": rows("lab_result", *labs, {"lab": "hb", "value": 9.0, "unit": "mg"},
                               {"lab": "xx", "value": 1.0, "unit": None}),
            "patient": rows("patient", patient(), patient(sex="Z"), patient(sex=None, birth_year=2040)),
            "treatment": rows("treatment", {"line": 1, "start_date": date(2020, 3, 1), "end_date": date(2020, 2, 1)},
                              {"line": 21, "start_date": date(2020, 3, 1)}),
        },
        rejects=None,
    )  # fmt: skip
    by_engine = {
        engine: failures(apply_gate(read, CONTRACT, settings=get_settings(), today=TODAY, engine=engine))
        for engine in ("duckdb", "gx")
    }
    assert by_engine["duckdb"] == by_engine["gx"]
    assert len(by_engine["duckdb"]) >= 2 * len(canonical.LABS) + 5


def test_gate_in_a_given_connection_writes_passed_rows_and_cleans_up():
    """Ingest gates in the warehouse connection: passing rows go to a table by SQL, and the gate's
    temporary tables are gone after close() and after a batch rejection."""
    con = duckdb.connect()
    con.execute(canonical.create_table_sql("main", "patient"))

    def temporary():
        return con.execute("SELECT table_name FROM duckdb_tables() WHERE temporary").fetchall()

    read = SimpleNamespace(entities={"patient": rows("patient", patient(), patient(sex="X"), patient())},
                           rejects=None)  # fmt: skip
    result = apply_gate(read, CONTRACT, settings=get_settings(), today=TODAY, con=con, consume=True)
    assert result.rows_passed == {"patient": 2} and result.rows_read == {"patient": 3} and temporary()
    assert read.entities == {}  # consumed: DuckDB holds the rows, the frames are freed
    result.write_passed(con, "patient", "main.patient")
    written = con.execute("SELECT row_number, sex FROM main.patient ORDER BY row_number").fetchall()
    assert written == [(1, "F"), (3, "F")]
    assert list(result.passed["patient"]["row_number"]) == [1, 3]
    with pytest.raises(ValueError, match="connection the gate ran on"):
        result.write_passed(duckdb.connect(), "patient", "main.patient")
    result.close()
    assert temporary() == []
    bad = SimpleNamespace(entities={"patient": rows("patient", *[patient(sex="?") for _ in range(12)])},
                          rejects=None)  # fmt: skip
    with pytest.raises(BatchRejected):
        apply_gate(bad, CONTRACT, settings=get_settings(), today=TODAY, con=con)
    assert temporary() == []


def test_typed_input_keeps_no_raw_copy_and_text_input_is_typed_in_sql():
    """Columns read_delivery already typed go to DuckDB as they are; text in a typed column is cast
    in SQL and quarantined with the delivered text when it is no value of that type."""
    typed = rows("lab_result", {"lab": "hb", "value": 9.0, "unit": "g/dL", "measured_date": date(2020, 1, 1)})
    typed = typed.astype({"value": "float64", "measured_date": "datetime64[ns]", "lab": "string"})
    text = rows("lab_result", {"lab": "hb", "value": "9,5", "unit": "g/dL"}, {"lab": "hb", "value": "9.5",
                                                                             "unit": "g/dL"})  # fmt: skip
    untypable = {("lab_result", 1, "type"), ("lab_result", 1, "required")}  # no value: required fails too
    for frame, bad in ((typed, set()), (text, untypable)):
        result = gate(lab_result=frame)
        assert failures(result) == bad
    q = gate(lab_result=text).quarantined.set_index("rule")
    assert q.loc["type", "value"] == "9,5" and json.loads(q.loc["type", "record"])["value"] == "9,5"
    assert gate(lab_result=text).passed["lab_result"]["value"].tolist() == [9.5]


def test_missing_values_compare_equal_in_duplicates_and_natural_keys():
    """A key or row with NULLs repeats when its values and NULLs repeat (pandas duplicated(), GX and the
    compiled SQL agree); a key with a NULL in another place is another key."""
    lab = {"lab": "hb", "unit": "g/dL", "measured_date": None}
    frame = rows("lab_result",
                 {"patient": "p1", **lab, "value": 9.0}, {"patient": "p1", **lab, "value": 9.0},  # a copy
                 {"patient": "p2", **lab, "value": 9.0}, {"patient": "p2", **lab, "value": 10.0},  # one key
                 {"patient": "p3", **lab, "value": 9.0},
                 {"patient": "p3", **{**lab, "measured_date": date(2020, 1, 1)}, "value": 10.0})  # fmt: skip
    read = SimpleNamespace(entities={"lab_result": frame}, rejects=None)
    found = {
        engine: failures(apply_gate(read, CONTRACT, settings=get_settings(), today=TODAY, engine=engine))
        for engine in ("duckdb", "gx")
    }
    assert found["duckdb"] == found["gx"] == {
        ("lab_result", 2, "duplicate_row"), ("lab_result", 3, "unique_key"), ("lab_result", 4, "unique_key")
    }  # fmt: skip

"""read_delivery on hand-made deliveries: every format and option, pseudonyms, date shift, rejects."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pyreadstat
import pytest
from conftest import KEY, make_contract, write

from harmony_pipeline import canonical
from harmony_pipeline.contracts import REJECT_COLUMNS, read_delivery
from harmony_pipeline.contracts.values import PANDAS_DTYPES
from harmony_pipeline.privacy.pseudonym import date_shift_days, pseudonym

# An AML study-group export: semicolon CSV, decimal comma, latin-1, German labels, dd.mm.yyyy dates,
# a title line before the header, identifiers, and the missing tokens "NA", "." and "-99".
GERMAN_CSV = (
    "Export Studiengruppe AML 2024\n"
    "pat_nr;name;vorname;geb_datum;geschlecht;initialen;plz;ed_datum;who;hb_mmol;thrombo;flt3_itd;npm1;os_monate;tod;bemerkung\n"
    "A-001;Müller;Jürgen;03.02.1951;männlich;JM;80331;15.01.2020;AML mit NPM1;5,5;45;1;1;14,5;1;\n"
    "A-002;Schäfer;Anna;12.11.1963;weiblich;AS;10115;01.06.2021;AML-MRC;-99;.;0;0;NA;0;Kontrolle\n"
    "A-003;Groß;Eva;30.07.1970;divers;EG;20095;20.09.2022;Unbekannt;6,8;120;NA;1;3;0;\n"
)


def german_contract(**file_overrides):
    clinical = {
        "pattern": "klinik*.csv", "format": "csv", "delimiter": ";", "decimal": ",", "encoding": "latin-1",
        "skip_rows": 1, "patient_id": "pat_nr", "identifiers": ["name", "vorname", "plz"],
        "missing_values": ["", "NA", ".", "-99"], "date_format": "%d.%m.%Y",
        "linkage": {"birth_date": {"column": "geb_datum"}, "sex": {"column": "geschlecht",
                    "map": {"männlich": "M", "weiblich": "F"}}, "initials": {"column": "initialen"}},
        "ignore": ["bemerkung"], **file_overrides,
    }  # fmt: skip
    sex = {"column": "geschlecht", "map": {"männlich": "M", "weiblich": "F"}}
    entities = {
        "patient": [{"from": "clinical", "fields": {"sex": sex, "birth_date": "geb_datum"}}],
        "diagnosis": [{"from": "clinical", "fields": {
            "diagnosis_date": "ed_datum", "subtype": {"column": "who", "map": {"AML mit NPM1": "AML-NPM1"}},
            "source_value": "who"}}],
        "lab_result": [{"from": "clinical", "wide": {"key": "lab", "value": "value", "columns": {
            "hb_mmol": {"label": "hb", "unit": "mmol/L"}, "thrombo": "plt"}},
            "fields": {"measured_date": "ed_datum"}}],
        "mutation": [{"from": "clinical", "wide": {"key": "gene", "value": "status",
            "columns": {"flt3_itd": "FLT3", "npm1": "NPM1"}, "cell": {"map": {"1": "mutated", "0": "wildtype"}}}}],
        "follow_up": [{"from": "clinical", "fields": {
            "last_contact_date": {"offset": "os_monate", "offset_unit": "months", "anchor": "diagnosis"},
            "vital_status": {"column": "tod", "map": {"0": "alive", "1": "dead"}},
            "death_date": {"offset": "os_monate", "offset_unit": "months", "anchor": "diagnosis",
                           "when": {"column": "tod", "in": ["1"]}}}}],
    }  # fmt: skip
    return make_contract({"clinical": clinical}, entities, country="DE", provider_kind="study_group")


@pytest.fixture
def german(tmp_path, home):
    delivery = tmp_path / "landing" / "src_a" / "2024-06-01"
    write(delivery / "klinik_2024.csv", GERMAN_CSV, "latin-1")
    return delivery


def unshift(frame: pd.DataFrame, column: str) -> pd.Series:
    """The delivered date: undo the per-person shift (computed independently from the pseudonym module)."""
    shift = date_shift_days(KEY, frame["person_key"], 180)
    return (frame[column] - pd.to_timedelta(shift, unit="D")).dt.strftime("%Y-%m-%d")


def test_german_csv_maps_every_field(german, settings):
    read = read_delivery(german_contract(), german, KEY, settings)
    assert read.files == ["klinik_2024.csv"] and read.rows_read == {"klinik_2024.csv": 3}
    assert read.rejects.empty, read.rejects
    p = read.entities["patient"]
    assert list(p["sex"]) == ["M", "F", "divers"]  # unmapped label passes verbatim for the gate
    assert list(p["country"]) == ["DE"] * 3 and list(p["provider_kind"]) == ["study_group"] * 3
    assert list(unshift(p, "birth_date")) == ["1951-02-03", "1963-11-12", "1970-07-30"]
    assert list(p["birth_year"]) == [1951, 1963, 1970]
    d = read.entities["diagnosis"]
    assert list(d["disease"]) == ["AML"] * 3  # the contract's only disease
    assert list(d["subtype"]) == ["AML-NPM1", "AML-MRC", "Unbekannt"]
    labs = read.entities["lab_result"].set_index(["row_number", "lab"])
    assert labs.loc[(1, "hb"), "value"] == pytest.approx(5.5 * 1.611)
    assert labs.loc[(1, "hb"), ["unit", "source_unit", "source_value"]].tolist() == ["g/dL", "mmol/L", "5,5"]
    assert labs.loc[(3, "plt"), "value"] == 120 and labs.loc[(3, "plt"), "unit"] == "10^9/L"
    assert (2, "hb") not in labs.index and (2, "plt") not in labs.index  # -99 and "." are missing, not rows
    m = read.entities["mutation"].set_index(["row_number", "gene"])["status"]
    assert m.to_dict() == {(1, "FLT3"): "mutated", (2, "FLT3"): "wildtype", (1, "NPM1"): "mutated",
                           (2, "NPM1"): "wildtype", (3, "NPM1"): "mutated"}  # fmt: skip
    f = read.entities["follow_up"]
    # 14.5 months = round(14.5 * 30.4375) = 441 days after 2020-01-15
    assert (
        list(unshift(f, "last_contact_date"))[0]
        == (dt.date(2020, 1, 15) + dt.timedelta(days=441)).isoformat()
    )
    assert list(f["vital_status"]) == ["dead", "alive", "alive"]
    assert f["death_date"].notna().tolist() == [True, False, False]
    assert f["last_contact_date"].isna().tolist() == [False, True, False]  # NA time: no date, no reject


def test_output_has_exactly_the_canonical_columns_and_dtypes(german, settings):
    read = read_delivery(german_contract(), german, KEY, settings)
    assert set(read.entities) == set(canonical.ENTITIES)
    for name, frame in read.entities.items():
        expected = canonical.table_columns(name)
        assert list(frame.columns) == [f.name for f in expected], name
        dtypes = {**{f.name: PANDAS_DTYPES[f.dtype] for f in expected}, "row_number": "int64"}
        assert {c: str(frame[c].dtype) for c in frame} == {
            c: str(pd.Series(dtype=t).dtype) for c, t in dtypes.items()
        }
    assert list(read.rejects.columns) == REJECT_COLUMNS


def test_lineage_and_pseudonyms(german, settings):
    read = read_delivery(german_contract(), german, KEY, settings)
    p = read.entities["patient"]
    assert set(p["source_id"]) == {"src_a"} and set(p["delivery_id"]) == {"2024-06-01"}
    assert list(p["file_name"]) == ["klinik_2024.csv"] * 3 and list(p["row_number"]) == [1, 2, 3]
    assert list(p["patient_key"]) == [pseudonym(KEY, "patient", "src_a", f"A-00{i}") for i in (1, 2, 3)]
    assert p["person_key"].iloc[0] == pseudonym(KEY, "person", "1951-02-03", "M", "JM")
    # sex "divers" is no canonical sex, so patient 3 cannot link: the source-local person key
    assert p["person_key"].iloc[2] == pseudonym(KEY, "person", "src_a", "A-003")
    keys = read.entities["mutation"][["patient_key", "person_key"]].drop_duplicates()
    assert len(keys) == 3 and set(keys["patient_key"]) == set(p["patient_key"])


def test_no_identifier_leaves_read_delivery(german, settings):
    read = read_delivery(german_contract(), german, KEY, settings)
    identifiers = ["Müller", "Jürgen", "Schäfer", "Anna", "Groß", "Eva", "80331", "10115", "20095", "JM", "AS",
                   "EG", "A-001", "A-002", "A-003", "03.02.1951", "1951-02-03", "1963-11-12", "Kontrolle"]  # fmt: skip
    frames = [*read.entities.values(), read.rejects]
    text = "\n".join(f.astype(str).to_csv(index=False) for f in frames)
    for value in identifiers:
        assert value not in text, value


def test_dates_are_shifted_consistently_per_person(german, settings):
    read = read_delivery(german_contract(), german, KEY, settings)
    d = read.entities["diagnosis"].set_index("patient_key")["diagnosis_date"]
    labs = (
        read.entities["lab_result"].drop_duplicates("patient_key").set_index("patient_key")["measured_date"]
    )
    delivered = pd.to_datetime(pd.Series(["2020-01-15", "2021-06-01", "2022-09-20"], index=d.index))
    shift = (d - delivered).dt.days
    assert (shift != 0).all() and (shift.abs() <= 180).all()
    assert (labs == d.reindex(labs.index)).all()  # same person, same offset in every entity
    f = read.entities["follow_up"].set_index("patient_key")
    assert (f["last_contact_date"] - d).dt.days.iloc[0] == 441  # intervals exact


def test_same_person_in_two_sources_gets_one_person_key(tmp_path, home, settings):
    write(tmp_path / "a" / "d1" / "klinik.csv", GERMAN_CSV, "latin-1")
    registry = (
        "id,dob,sex,init,tx_date,tx_type\n"
        "T9,1951-02-03,M,J.M.,2020-05-01,allo\n"  # the same man as A-001 in the study group
        "T8,1980-01-01,F,ZZ,2021-01-01,auto\n"
    )
    write(tmp_path / "b" / "d1" / "tx.csv", registry)
    reg = make_contract(
        {"tx": {"pattern": "tx*.csv", "format": "csv", "patient_id": "id", "linkage": {
            "birth_date": "dob", "sex": "sex", "initials": "init"}}},
        {"transplant": [{"from": "tx", "fields": {"transplant_date": "tx_date", "transplant_type": {
            "column": "tx_type", "map": {"allo": "allogeneic", "auto": "autologous"}}}}]},
        source_id="tx_registry", provider_kind="registry",
    )  # fmt: skip
    a = read_delivery(german_contract(), tmp_path / "a" / "d1", KEY, settings)
    b = read_delivery(reg, tmp_path / "b" / "d1", KEY, settings)
    a_person = a.entities["patient"]["person_key"].iloc[0]
    tx = b.entities["transplant"]
    assert tx["person_key"].iloc[0] == a_person
    assert tx["patient_key"].iloc[0] != a.entities["patient"]["patient_key"].iloc[0]
    assert tx["person_key"].iloc[1] not in set(a.entities["patient"]["person_key"])
    # one person, one shift: the registry's transplant date moves by the study group's offset
    study_shift = (a.entities["diagnosis"]["diagnosis_date"].iloc[0] - pd.Timestamp("2020-01-15")).days
    assert (tx["transplant_date"].iloc[0] - pd.Timestamp("2020-05-01")).days == study_shift


def test_reading_twice_is_identical(german, settings):
    one = read_delivery(german_contract(), german, KEY, settings)
    two = read_delivery(german_contract(), german, KEY, settings)
    for name in one.entities:
        pd.testing.assert_frame_equal(one.entities[name], two.entities[name])


BAD_ROWS_CSV = (
    "pid,sex,dx_date,hb,line\n"
    "P1,M,2020-01-01,12.5,1\n"
    "P2,F,2020-02-30,11.0,1\n"  # no 30 February
    "P3,M,2020-03-01,12;5,1\n"  # not a number
    "P4,F,2020-04-01,13.0\n"  # ragged: a field short
    "P5,M,2020-05-01,14.0,1,extra\n"  # ragged: a field too many
    ",F,2020-06-01,9.0,1\n"  # no patient id
    "P7,F,2020-07-01,9.5,1.5\n"  # not a whole line number
    "P8,M,2020-08-01,10.0,2\n"
)


def bad_rows_contract():
    return make_contract(
        {"f": {"pattern": "*.csv", "format": "csv", "patient_id": "pid"}},
        {"patient": [{"from": "f", "fields": {"sex": "sex"}}],
         "diagnosis": [{"from": "f", "fields": {"diagnosis_date": "dx_date"}}],
         "lab_result": [{"from": "f", "fields": {"lab": {"const": "hb"}, "value": "hb", "measured_date": "dx_date"}}],
         "treatment": [{"from": "f", "fields": {"line": "line", "start_date": "dx_date"}}]},
    )  # fmt: skip


def test_untypable_values_become_rejects_with_file_row_and_field(tmp_path, home, settings):
    delivery = tmp_path / "d7"
    write(delivery / "data.csv", BAD_ROWS_CSV)
    read = read_delivery(bad_rows_contract(), delivery, KEY, settings)
    r = read.rejects
    got = set(zip(r["row_number"], r["entity"], r["field"], r["rule"], r["value"].fillna(""), strict=True))
    assert got == {
        (2, "diagnosis", "diagnosis_date", "type_date", "2020-02-30"),
        (2, "lab_result", "measured_date", "type_date", "2020-02-30"),
        (2, "treatment", "start_date", "type_date", "2020-02-30"),
        (3, "lab_result", "value", "type_double", "12;5"),
        (4, "*", "*", "malformed_line", ""),
        (5, "*", "*", "malformed_line", ""),
        (6, "*", "pid", "missing_patient_id", ""),
        (7, "treatment", "line", "type_bigint", "1.5"),
    }
    assert set(r["file_name"]) == {"data.csv"} and set(r["delivery_id"]) == {"d7"}
    assert "expected 5" in r.loc[r["row_number"] == 4, "reason"].iloc[0]
    record = json.loads(r.loc[r["field"] == "value", "record"].iloc[0])
    assert record == {"sex": "M", "hb": "12;5", "line": "1"}  # no patient id, no dates
    # the rows around the malformed lines keep their own row numbers; a rejected row leaves its entity only
    assert list(read.entities["patient"]["row_number"]) == [1, 2, 3, 7, 8]
    assert list(read.entities["diagnosis"]["row_number"]) == [1, 3, 7, 8]
    assert list(read.entities["treatment"]["line"]) == [1, 1, 2]
    assert read.rows_read == {"data.csv": 8}


def test_wide_labs_long_labs_with_unit_column_and_unknown_units(tmp_path, home, settings):
    labs = (
        "pid\tlab\tval\tunit\tday\n"
        "P1\thb\t120\tg/L\t2021-01-01\n"
        "P1\tcreatinine\t88.42\tµmol/L\t2021-01-01\n"
        "P1\tplt\t150\t/nL\t2021-01-01\n"
        "P1\tcalcium\t2.5\tmmol/L\t2021-01-01\n"
        "P1\thb\t7\tmol/m3\t2021-01-01\n"
        "P1\tferritin\t300\tug/L\t2021-01-01\n"
    )
    write(tmp_path / "d" / "labs.tsv", labs)
    contract = make_contract(
        {"labs": {"pattern": "labs.tsv", "format": "tsv", "patient_id": "pid"}},
        {"lab_result": [{"from": "labs", "fields": {"lab": "lab", "value": {"column": "val", "unit_column": "unit"},
                                                    "measured_date": "day"}}]},
    )  # fmt: skip
    out = read_delivery(contract, tmp_path / "d", KEY, settings).entities["lab_result"]
    rows = list(zip(out["lab"], out["value"].round(4), out["unit"], out["source_unit"], strict=True))
    assert rows == [
        ("hb", 12.0, "g/dL", "g/L"),
        ("creatinine", 1.0, "mg/dL", "µmol/L"),
        ("plt", 150.0, "10^9/L", "/nL"),
        ("calcium", round(2.5 * 4.008, 4), "mg/dL", "mmol/L"),
        ("hb", 7.0, "mol/m3", "mol/m3"),  # unknown unit: unconverted, kept visible for the gate
        ("ferritin", 300.0, "ug/L", "ug/L"),  # unknown lab passes verbatim
    ]


def test_where_when_skip_if_missing_constants_and_column_anchor(tmp_path, home, settings):
    trial = (
        "subj,rand_dt,arm,tx_day,resp,resp_day,karyo,cat\n"
        "S1,2019-03-01,A,120,CR,30,46XY,fav\n"
        "S2,2019-04-01,B,,PD,28,,\n"
        "S3,2019-05-01,A,90,,,46XX,\n"
    )
    write(tmp_path / "d" / "trial.csv", trial)
    rand = {"offset": "tx_day", "offset_unit": "days", "anchor": {"column": "rand_dt", "format": "%Y-%m-%d"}}
    contract = make_contract(
        {"t": {"pattern": "trial.csv", "format": "csv", "patient_id": "subj"}},
        {"patient": [{"from": "t", "fields": {"sex": {"const": "U"}, "index_date": "rand_dt"}}],
         "transplant": [{"from": "t", "where": {"column": "tx_day", "present": True},
                         "fields": {"transplant_date": rand, "transplant_type": {"const": "allogeneic"}}}],
         "response": [{"from": "t", "skip_if_missing": ["response"], "fields": {
             "response": "resp", "line": {"const": 1}, "criteria": {"const": "ELN2022"},
             "assessment_date": {"offset": "resp_day", "anchor": "index_date"}}}],
         "cytogenetics": [{"from": "t", "skip_if_missing": ["karyotype", "category"], "fields": {
             "method": {"const": "karyotype"}, "karyotype": "karyo",
             "category": {"column": "cat", "map": {"fav": "favourable"}, "when": {"column": "arm", "in": ["a"]}}}}]},
        provider_kind="trial",
    )  # fmt: skip
    read = read_delivery(contract, tmp_path / "d", KEY, settings)
    assert read.rejects.empty
    p = read.entities["patient"].set_index("row_number")
    shift = (
        p["index_date"]
        - pd.to_datetime(pd.Series(["2019-03-01", "2019-04-01", "2019-05-01"], index=[1, 2, 3]))
    ).dt.days
    tx = read.entities["transplant"].set_index("row_number")
    assert list(tx.index) == [1, 3]
    assert (tx["transplant_date"] - p["index_date"].reindex(tx.index)).dt.days.tolist() == [120, 90]
    resp = read.entities["response"].set_index("row_number")
    assert list(resp.index) == [1, 2] and list(resp["line"]) == [1, 1]
    assert (resp["assessment_date"] - p["index_date"].reindex(resp.index)).dt.days.tolist() == [30, 28]
    cyto = read.entities["cytogenetics"].set_index("row_number")
    assert list(cyto.index) == [1, 3] and cyto["category"].tolist()[0] == "favourable"
    assert shift.abs().between(1, 180).all()


# ---------------------------------------------------------------------------------- other formats

CANON = pd.DataFrame({
    "pid": ["X1", "X2", "X3"],
    "sex": ["m", "f", "f"],
    "dx": [dt.datetime(2020, 1, 2), dt.datetime(2021, 3, 4), dt.datetime(2022, 5, 6)],
    "age": [70, 55, 61],
    "tp53": [1.0, 0.0, np.nan],
})  # fmt: skip


def typed_contract(file_spec: dict):
    return make_contract(
        {"f": {"patient_id": "pid", **file_spec}},
        {"patient": [{"from": "f", "fields": {"sex": {"column": "sex", "map": {"m": "M", "f": "F"}},
                                              "age_at_diagnosis": "age"}}],
         "diagnosis": [{"from": "f", "fields": {"diagnosis_date": "dx"}}],
         "mutation": [{"from": "f", "wide": {"key": "gene", "value": "status", "columns": {"tp53": "TP53"},
                                            "cell": {"map": {"1": "mutated", "0": "wildtype"}}}}]},
    )  # fmt: skip


def assert_canon(read):
    assert read.rejects.empty, read.rejects
    assert list(read.entities["patient"]["sex"]) == ["M", "F", "F"]
    assert list(read.entities["patient"]["age_at_diagnosis"]) == [70.0, 55.0, 61.0]
    d = read.entities["diagnosis"]
    assert list(unshift(d, "diagnosis_date")) == ["2020-01-02", "2021-03-04", "2022-05-06"]
    assert list(read.entities["mutation"]["status"]) == ["mutated", "wildtype"]


def test_excel_named_sheet_among_several(tmp_path, home, settings):
    path = tmp_path / "d" / "export.xlsx"
    path.parent.mkdir()
    with pd.ExcelWriter(path) as xl:
        pd.DataFrame({"note": ["read me first"]}).to_excel(xl, sheet_name="Info", index=False)
        CANON.to_excel(xl, sheet_name="Patients", index=False)
    assert_canon(read_delivery(typed_contract({"pattern": "*.xlsx", "format": "excel", "sheet": "Patients"}),
                               path.parent, KEY, settings))  # fmt: skip


def test_parquet(tmp_path, home, settings):
    path = tmp_path / "d" / "export.parquet"
    path.parent.mkdir()
    CANON.to_parquet(path)
    assert_canon(
        read_delivery(
            typed_contract({"pattern": "*.parquet", "format": "parquet"}), path.parent, KEY, settings
        )
    )


def test_sas_transport(tmp_path, home, settings):
    path = tmp_path / "d" / "adsl.xpt"
    path.parent.mkdir()
    frame = CANON.assign(dx=CANON["dx"].dt.date)
    pyreadstat.write_xport(frame, str(path), variable_format={"dx": "DATE9"})
    assert_canon(
        read_delivery(typed_contract({"pattern": "*.xpt", "format": "sas"}), path.parent, KEY, settings)
    )


def test_sas_numeric_dates_with_origin(tmp_path, home, settings):
    path = tmp_path / "d" / "adsl.xpt"
    path.parent.mkdir()
    days = (CANON["dx"] - pd.Timestamp("1960-01-01")).dt.days.astype(float)
    pyreadstat.write_xport(CANON.assign(dx=days), str(path))
    contract = typed_contract({"pattern": "*.xpt", "format": "sas"})
    spec = contract.entities["diagnosis"][0].fields["diagnosis_date"]
    assert spec.origin is None
    contract = make_contract(
        {"f": {"pattern": "*.xpt", "format": "sas", "patient_id": "pid"}},
        {
            "diagnosis": [
                {"from": "f", "fields": {"diagnosis_date": {"column": "dx", "origin": "1960-01-01"}}}
            ]
        },
    )
    d = read_delivery(contract, path.parent, KEY, settings).entities["diagnosis"]
    assert list(unshift(d, "diagnosis_date")) == ["2020-01-02", "2021-03-04", "2022-05-06"]


def test_nested_json_records_get_the_parent_patient_id(tmp_path, home, settings):
    data = {"study": "MM-7", "patients": [
        {"pid": "J1", "sex": "f", "labs": [{"name": "b2m", "value": 3.1, "date": "2020-01-01"},
                                           {"name": "albumin", "value": 35, "unit": "g/L", "date": "2020-01-01"}]},
        {"pid": "J2", "sex": "m", "labs": []},
        {"pid": "J3", "sex": "m", "labs": [{"name": "ldh", "value": "n/a", "date": "2020-02-02"}],
         "iss": {"stage": "II"}},
    ]}  # fmt: skip
    write(tmp_path / "d" / "mm.json", json.dumps(data))
    contract = make_contract(
        {"pat": {"pattern": "mm.json", "format": "json", "records": "patients[]", "patient_id": "pid"},
         "labs": {"pattern": "mm.json", "format": "json", "records": "patients[].labs[]", "patient_id": "pid"}},
        {"patient": [{"from": "pat", "fields": {"sex": {"column": "sex", "map": {"m": "M", "f": "F"}}}}],
         "staging": [{"from": "pat", "skip_if_missing": ["value"], "fields": {"system": {"const": "ann_arbor"},
                                                                               "value": "iss.stage"}}],
         "lab_result": [{"from": "labs", "fields": {"lab": "name", "value": {"column": "value", "unit_column": "unit"},
                                                    "measured_date": "date"}}]},
    )  # fmt: skip
    read = read_delivery(contract, tmp_path / "d", KEY, settings)
    labs = read.entities["lab_result"]
    pk = dict(
        zip(read.entities["patient"]["row_number"], read.entities["patient"]["patient_key"], strict=True)
    )
    assert list(labs["patient_key"]) == [pk[1], pk[1]]
    assert list(labs["value"]) == [3.1, 3.5] and list(labs["unit"]) == ["mg/L", "g/dL"]
    assert list(read.rejects["value"]) == ["n/a"] and list(read.rejects["row_number"]) == [3]
    assert list(read.entities["staging"]["value"]) == ["II"]


def test_join_second_file_on_patient_column(tmp_path, home, settings):
    write(tmp_path / "d" / "clin.csv", "pid,dx\nP1,2020-01-10\nP2,2020-02-10\n")
    write(
        tmp_path / "d" / "ngs.csv",
        "pid,gene,vaf,days\nP1,TP53,45,3\nP1,ASXL1,12,3\nP2,NPM1,38,10\nP9,KIT,20,1\n",
    )
    contract = make_contract(
        {"clin": {"pattern": "clin.csv", "format": "csv", "patient_id": "pid"},
         "ngs": {"pattern": "ngs.csv", "format": "csv", "patient_id": "pid"}},
        {"diagnosis": [{"from": "clin", "fields": {"diagnosis_date": "dx"}}],
         "mutation": [{"from": "ngs", "join": ["clin"], "fields": {
             "gene": "gene", "status": {"const": "mutated"}, "vaf": {"column": "vaf", "factor": 0.01},
             "test_date": {"offset": "days", "anchor": "dx"}}}]},
    )  # fmt: skip
    read = read_delivery(contract, tmp_path / "d", KEY, settings)
    m, d = read.entities["mutation"], read.entities["diagnosis"]
    assert list(m["vaf"]) == [0.45, 0.12, 0.38, 0.20]
    dx = d.set_index("patient_key")["diagnosis_date"]
    joined = m[m["patient_key"].isin(dx.index)]
    assert (joined["test_date"] - joined["patient_key"].map(dx)).dt.days.tolist() == [3, 3, 10]
    assert m["test_date"].isna().tolist() == [False, False, False, True]  # P9 has no clinical row

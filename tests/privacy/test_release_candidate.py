"""The release_candidate asset and its blocking checks, run with real Dagster on a temp warehouse."""

from __future__ import annotations

import dataclasses
import json

import duckdb
import numpy as np
import pandas as pd
import pytest
from dagster import AssetKey, DagsterInstance, MaterializeResult, asset, materialize

from harmony_pipeline.privacy.anonymise import DEFAULT_QUASI_IDENTIFIERS
from harmony_pipeline.privacy.assets import (
    RELEASE_CANDIDATE_KEY,
    build_privacy_assets,
    build_release_candidate,
)
from harmony_pipeline.privacy.gates import (
    forbidden_columns,
    identifier_gate,
    k_anonymity_gate,
    small_cell_gate,
)
from harmony_pipeline.settings import get_settings

MART_KEYS = [AssetKey(["marts", "mart_aml"]), AssetKey(["marts", "km_aml"]), AssetKey(["marts", "comut_aml"])]
QI_COLUMNS = [c for c, _ in DEFAULT_QUASI_IDENTIFIERS]


def hand_made_marts(n: int = 1500, seed: int = 0) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    mart = pd.DataFrame(
        {
            "person_hash": [f"ph{seed}-{i}" for i in range(n)],
            "source_id": rng.choice(["TRIAL_A", "REG_B"], n),
            "age_at_diagnosis": np.clip(rng.normal(64, 12, n), 18, 99).round(),
            "sex": rng.choice(["M", "F"], n),
            "country": rng.choice(["DE", "FR", "NL", "IT"], n),
            "diagnosis_year": rng.integers(2008, 2024, n),
            "disease_subtype": rng.choice(["NPM1", "CBF", "MR"], n),
            "diagnosis_date": pd.Timestamp("2010-01-01")
            + pd.to_timedelta(rng.integers(0, 4000, n), unit="D"),
            "eln2022_risk": rng.choice(["favorable", "intermediate", "adverse"], n),
            "os_months": rng.exponential(24, n).round(1),
        }
    )
    km = pd.DataFrame(
        {
            "endpoint": ["OS"] * 5,
            "time": [0.0, 6.0, 12.0, 18.0, 24.0],
            "at_risk": [n, 300, 40, 12, 4],
            "events": [0, 50, 30, 3, 1],
            "survival": [1.0, 0.8, 0.6, 0.5, 0.45],
        }
    )
    comut = pd.DataFrame(
        {"gene_a": ["NPM1", "NPM1", "FLT3"], "gene_b": ["FLT3", "DNMT3A", "DNMT3A"], "n_both": [90, 6, 40]}
    )
    return {"mart_aml": mart, "km_aml": km, "comut_aml": comut}


def write_marts(tables: dict[str, pd.DataFrame]) -> None:
    settings = get_settings()
    settings.home.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(settings.warehouse)) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS marts")
        for name, frame in tables.items():
            con.register("frame", frame)
            con.execute(f"CREATE OR REPLACE TABLE marts.{name} AS SELECT * FROM frame")
            con.unregister("frame")


@asset(key=AssetKey(["publish", "probe"]), deps=[RELEASE_CANDIDATE_KEY])
def publish_probe() -> MaterializeResult:
    """Stands in for publish: it must only run when every blocking privacy check passed."""
    marker = get_settings().published_dir / "probe.txt"
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text("published")
    return MaterializeResult()


def run(instance: DagsterInstance):
    assets, checks = build_privacy_assets(MART_KEYS)
    return materialize([*assets, *checks, publish_probe], instance=instance, raise_on_error=False)


def check_outcomes(result) -> dict[str, bool]:
    evaluations = [
        e.event_specific_data for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"
    ]
    return {e.check_name: e.passed for e in evaluations}


def test_release_candidate_materialises_release_and_report_and_checks_pass(harmony_home):
    write_marts(hand_made_marts())
    with DagsterInstance.ephemeral() as instance:
        result = run(instance)
    assert result.success
    assert check_outcomes(result) == {"k_anonymity": True, "small_cells": True, "no_identifiers": True}
    assert (harmony_home / "published" / "probe.txt").read_text() == "published"

    settings = get_settings()
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        tables = {
            r[0]
            for r in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE schema_name='release'"
            ).fetchall()
        }
        mart = con.execute("SELECT * FROM release.mart_aml").fetchdf()
        km = con.execute("SELECT * FROM release.km_aml").fetchdf()
        comut = con.execute("SELECT * FROM release.comut_aml ORDER BY gene_a, gene_b").fetchdf()
    assert tables == {"mart_aml", "km_aml", "comut_aml"}
    assert "person_hash" not in mart.columns and "diagnosis_date" not in mart.columns
    assert mart.groupby(QI_COLUMNS, dropna=False).size().min() >= 11
    assert km["at_risk"].min() >= 11 and len(km) == 4
    # the 6 is hidden, and so is a complement in each margin it shares (gene_a NPM1, gene_b DNMT3A)
    assert comut["n_both"].isna().tolist() == [True, True, True]

    report = json.loads((harmony_home / "published" / "anonymisation_report.json").read_text())
    assert report["passed"] is True
    aml = report["marts"]["mart_aml"]
    assert aml["k"] >= 11 and aml["max_prosecutor_risk"] <= 1 / 11
    assert aml["quasi_identifiers"] == QI_COLUMNS
    assert set(aml["generalisation"]) == set(QI_COLUMNS) and aml["suppressed_share"] <= 0.05
    assert aml["rows_out"] == len(mart) and aml["avg_prosecutor_risk"] <= aml["max_prosecutor_risk"]
    assert report["thresholds"]["k"] == 11 and report["code_version"]["package"]
    assert report["marts"]["km_aml"]["truncated_rows"] == 1
    assert report["marts"]["comut_aml"]["primary_suppressed_cells"] == 1
    text = json.dumps(report)
    assert "ph0-" not in text and "test-only-pseudonym-key" not in text  # no pseudonym, no key


def test_a_failed_privacy_check_blocks_publish(harmony_home):
    tables = hand_made_marts(seed=1)
    tables["mart_aml"]["patient_name"] = "Jane Doe"  # a direct identifier the mart should never carry
    tables["comut_aml"]["note"] = ["seen at SW1A 1AA", "ok", "born 12.04.1961"]
    write_marts(tables)
    with DagsterInstance.ephemeral() as instance:
        result = run(instance)
    assert not result.success
    outcomes = check_outcomes(result)
    assert outcomes["no_identifiers"] is False and outcomes["k_anonymity"] is True
    assert not (harmony_home / "published" / "probe.txt").exists()  # publish never ran
    report = json.loads((harmony_home / "published" / "anonymisation_report.json").read_text())
    assert report["passed"] is False  # publish refuses a report that says so, too
    failures = report["gates"]["no_identifiers"]["failures"]
    assert failures["mart_aml"]["forbidden_columns"] == ["patient_name"]
    assert failures["comut_aml"]["identifier_values"]["note"] == {"date": 1, "postcode": 1}


def _release_db(tmp_path, tables: dict[str, pd.DataFrame]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(tmp_path / "gates.duckdb"))
    con.execute("CREATE SCHEMA marts; CREATE SCHEMA release")
    for name, frame in tables.items():
        con.register("frame", frame)
        con.execute(f"CREATE TABLE release.{name} AS SELECT * FROM frame")
        con.unregister("frame")
    return con


def test_gates_catch_small_classes_and_small_cells(tmp_path):
    small_class = pd.DataFrame(
        {"row_id": range(1, 16), "age_at_diagnosis": ["60-69"] * 12 + ["70-79"] * 3, "sex": ["F"] * 15}
    )
    cells = pd.DataFrame({"disease": ["AML", "CLL"], "n_patients": [120, 4]})
    km = pd.DataFrame({"time": [0.0, 5.0], "at_risk": [30, 8], "events": [1, 1]})
    with _release_db(tmp_path, {"mart_aml": small_class, "summary": cells, "km_cll": km}) as con:
        k_gate = k_anonymity_gate(con, "release", 11)
        cell_gate = small_cell_gate(con, "release", 11)
    assert not k_gate.passed and k_gate.failures["mart_aml"]["k"] == 3
    assert k_gate.failures["mart_aml"]["quasi_identifiers"] == ["age_at_diagnosis", "sex"]
    assert not cell_gate.passed
    assert cell_gate.failures == {"summary": {"n_patients": 1}, "km_cll": {"at_risk": 1}}


@pytest.mark.parametrize(
    "value, kind",
    [("1961-04-12", "date"), ("12.04.1961", "date"), ("4/12/61", "date"), ("SW1A 1AA", "postcode"),
     ("1012 AB", "postcode"), ("75008", "postcode"), ("D-80331", "postcode"), ("3000", "postcode"), ("AB1 2BA", "postcode"), ("jane.doe@example.org", "email")],
)  # fmt: skip
def test_identifier_value_patterns(tmp_path, value, kind):
    with _release_db(tmp_path, {"t": pd.DataFrame({"free_text": [value, "AML with NPM1"]})}) as con:
        gate = identifier_gate(con, "release")
    assert gate.failures["t"]["identifier_values"]["free_text"] == {kind: 1}


def test_published_labels_are_not_mistaken_for_identifiers(tmp_path):
    labels = ["2015-2019", "60-69", "90+", "Western Europe", "*", "NPM1", "t(15;17)(q24;q21)", "del(5q)",
              "KMT2A", "FLT3-ITD", "2017", "IPSS-R very high", "ELN 2022 adverse", "MR-related"]  # fmt: skip
    with _release_db(tmp_path, {"t": pd.DataFrame({"label": labels})}) as con:
        assert identifier_gate(con, "release").passed
    assert forbidden_columns(["row_id", "disease_subtype", "gene_name", "os_months", "source_id"]) == []
    assert forbidden_columns(["first_name", "surname", "initials", "birth_date", "postcode", "mrn", "person_hash",
                              "hospital_number", "email", "patient_key"]) == [  # fmt: skip
        "first_name", "surname", "initials", "birth_date", "postcode", "mrn", "person_hash",
        "hospital_number", "email", "patient_key",
    ]  # fmt: skip


def _release_tables() -> dict[str, pd.DataFrame]:
    with duckdb.connect(str(get_settings().warehouse), read_only=True) as con:
        names = [
            r[0]
            for r in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'release' ORDER BY 1"
            ).fetchall()
        ]
        return {n: con.execute(f"SELECT * FROM release.{n} ORDER BY ALL").fetchdf() for n in names}


def _assert_same_release(got: dict[str, pd.DataFrame], expected: dict[str, pd.DataFrame]) -> None:
    assert sorted(got) == sorted(expected)
    for name, frame in expected.items():
        pd.testing.assert_frame_equal(got[name], frame, obj=name)


def test_an_incremental_release_re_anonymises_only_changed_marts_and_equals_a_full_one(harmony_home):
    settings = get_settings()
    tables = hand_made_marts()
    write_marts(tables)
    first = build_release_candidate(settings)
    assert first["build"] == {"anonymised": ["comut_aml", "km_aml", "mart_aml"], "reused": []}

    again = build_release_candidate(settings)  # nothing changed: nothing is read into pandas
    assert again["build"] == {"anonymised": [], "reused": ["comut_aml", "km_aml", "mart_aml"]}
    assert again["candidate_id"] == first["candidate_id"] and again["marts"] == first["marts"]

    # a new delivery changes the patient-level mart only
    tables["mart_aml"] = pd.concat([tables["mart_aml"], hand_made_marts(200, seed=5)["mart_aml"]])
    write_marts({"mart_aml": tables["mart_aml"]})
    incremental = build_release_candidate(settings)
    assert incremental["build"] == {"anonymised": ["mart_aml"], "reused": ["comut_aml", "km_aml"]}
    assert incremental["candidate_id"] != first["candidate_id"]
    # the gates still checked every released table, the unchanged ones included
    assert set(incremental["gates"]["k_anonymity"]["details"]) == {"mart_aml"}
    assert set(incremental["gates"]["small_cells"]["details"]) == {"km_aml", "comut_aml"}
    released = _release_tables()

    # the same marts released from scratch give the same tables and the same report
    with duckdb.connect(str(settings.warehouse)) as con:
        con.execute("DROP SCHEMA release CASCADE; DROP TABLE ops.release_state")
    scratch = build_release_candidate(settings)
    assert scratch["build"]["reused"] == []
    assert scratch["candidate_id"] == incremental["candidate_id"]
    assert scratch["marts"] == incremental["marts"] and scratch["gates"] == incremental["gates"]
    _assert_same_release(_release_tables(), released)


def test_a_released_table_changed_since_its_release_or_another_k_is_anonymised_again(harmony_home):
    settings = get_settings()
    write_marts(hand_made_marts())
    build_release_candidate(settings)
    released = _release_tables()
    with duckdb.connect(str(settings.warehouse)) as con:
        con.execute("UPDATE release.comut_aml SET n_both = 3")  # edited behind the pipeline's back
        con.execute("CREATE VIEW release.stray AS SELECT 1 AS n_patients")
        con.execute("DROP TABLE marts.km_aml")
    rebuilt = build_release_candidate(settings)
    assert rebuilt["build"] == {"anonymised": ["comut_aml"], "reused": ["mart_aml"]}
    released.pop("km_aml")  # its mart is gone, so is its released table, and the stray view
    _assert_same_release(_release_tables(), released)

    stricter = build_release_candidate(dataclasses.replace(settings, min_cell=12))
    assert stricter["build"] == {"anonymised": ["comut_aml", "mart_aml"], "reused": []}

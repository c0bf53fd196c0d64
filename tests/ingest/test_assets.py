"""The partitioned raw asset and its blocking checks, materialised through Dagster for real."""

from __future__ import annotations

from pathlib import Path

import duckdb
from dagster import DagsterInstance, materialize
from small_source import CONTRACT, clinical_csv, write_contract

from harmony_pipeline.ingest.assets import (
    asset_checks,
    raw_deliveries,
    source_partitions,
    sync_source_partitions,
)
from harmony_pipeline.settings import get_settings


def test_partitioned_asset_loads_one_source_and_checks_pass(harmony_home, land):
    write_contract(harmony_home, CONTRACT)
    land("2024-01", {"clinical.csv": clinical_csv(20, {3: "P0003,x,1950,2020-01-01,99,2022-01-01,alive"})})
    with DagsterInstance.ephemeral() as instance:
        assert "test_aml" in sync_source_partitions(instance)
        assert sync_source_partitions(instance) == []  # already known
        assert "test_aml" in instance.get_dynamic_partitions(source_partitions.name)
        result = materialize([raw_deliveries, *asset_checks], partition_key="test_aml", instance=instance)
    assert result.success
    meta = result.asset_materializations_for_node(raw_deliveries.op.name)[0].metadata
    assert meta["rows_quarantined"].value == {"diagnosis": 0, "follow_up": 0, "lab_result": 1, "patient": 1}
    assert 0.9 < meta["pass_rate"].value < 1.0
    assert "range" in meta["quarantine_reasons"].value
    checks = {e.asset_check_key.name: e for e in result.get_asset_check_evaluations()}
    assert set(checks) == {"gx_suites", "ledger_invariant"}
    assert all(c.passed for c in checks.values())
    docs = Path(checks["gx_suites"].metadata["data_docs_path"].value)
    assert docs.exists() and docs.is_relative_to(get_settings().reports / "gx_docs")
    assert checks["gx_suites"].metadata["expectations_evaluated"].value > 50


def test_gx_check_fails_on_raw_rows_the_gate_never_saw(harmony_home, land):
    """The re-check is independent of the gate: a raw row of the latest delivery that breaks a suite
    (planted before that load, as a corrupted or hand-edited table would hold it) fails the blocking
    check, naming the rule; the ledger check sees a row the ledger does not account for."""
    write_contract(harmony_home, CONTRACT)
    land("2024-01", {"clinical.csv": clinical_csv(20)})
    with DagsterInstance.ephemeral() as instance:
        sync_source_partitions(instance)
        assert materialize(
            [raw_deliveries, *asset_checks], partition_key="test_aml", instance=instance
        ).success
        land("2024-02", {"clinical.csv": clinical_csv(25)})  # five more patients
        # a valid loaded row, but for the new delivery and with a sex no suite allows
        with duckdb.connect(str(get_settings().warehouse)) as con:
            con.execute(
                "INSERT INTO raw.patient SELECT * REPLACE ('2024-02' AS delivery_id, 999 AS row_number, "
                "'P0999' AS patient_key, 'X' AS sex) FROM raw.patient ORDER BY row_number LIMIT 1"
            )
        result = materialize(
            [raw_deliveries, *asset_checks], partition_key="test_aml", instance=instance, raise_on_error=False
        )
    assert not result.success  # a failed blocking check fails the run: nothing downstream would build
    checks = {e.asset_check_key.name: e for e in result.get_asset_check_evaluations()}
    assert not checks["gx_suites"].passed
    assert checks["gx_suites"].metadata["expectations_failed"].value == 1
    assert "sex" in checks["gx_suites"].metadata["failures"].value
    assert not checks["ledger_invariant"].passed

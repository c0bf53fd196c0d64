"""Ingest into a real DuckDB warehouse: ledger, idempotence, rejection isolation, re-delivery, bad inputs."""

from __future__ import annotations

import dataclasses
import io

import duckdb
import openpyxl
import pytest
from small_source import HEADER, clean_line, clinical_csv

from harmony_pipeline.ingest import ingest_source, ingest_sources, ledger_violations, one_checkpoint
from harmony_pipeline.settings import get_settings

KEY = b"test-key"


def ingest(con, contract):
    return ingest_source(con, contract, get_settings(), KEY)


def ledger(con):
    return con.execute(
        "SELECT delivery_id, entity, rows_read, rows_loaded, rows_quarantined, status, error "
        "FROM ops.delivery_ledger ORDER BY delivery_id, entity"
    ).df()


def count(con, table, delivery=None):
    where = f"WHERE delivery_id = '{delivery}'" if delivery else ""
    return con.execute(f"SELECT count(*) FROM {table} {where}").fetchone()[0]


def test_load_quarantine_and_ledger_invariant(contract, land, warehouse):
    land("2024-01", {"clinical.csv": clinical_csv(20, {3: "P0003,x,1950,2020-01-01,99,2022-01-01,alive"})})
    summary = ingest(warehouse, contract)
    assert summary.with_status("loaded") == ["2024-01"]
    rows = ledger(warehouse)
    assert set(rows["entity"]) == {"patient", "diagnosis", "lab_result", "follow_up"}
    assert (rows["rows_read"] == rows["rows_loaded"] + rows["rows_quarantined"]).all()
    assert rows.set_index("entity").loc["patient", "rows_quarantined"] == 1
    assert rows.set_index("entity").loc["lab_result", "rows_quarantined"] == 1
    assert count(warehouse, "raw.patient") == 19 and count(warehouse, "quarantine.patient") == 1
    q = warehouse.execute("SELECT file_name, row_number, rule, value FROM quarantine.lab_result").fetchall()
    assert q == [("clinical.csv", 4, "range", "99.0")]
    assert ledger_violations(warehouse).empty


def test_reingest_is_idempotent_and_duplicate_delivery_skipped(contract, land, warehouse):
    land("2024-01", {"clinical.csv": clinical_csv(15)})
    ingest(warehouse, contract)
    before = [count(warehouse, f"raw.{e}") for e in ("patient", "lab_result")]
    snapshot = warehouse.execute("SELECT * FROM raw.lab_result ORDER BY ALL").fetchall()
    again = ingest(warehouse, contract)
    assert again.with_status("skipped") == ["2024-01"]
    land("2024-01-copy", {"clinical.csv": clinical_csv(15)})  # the same files delivered twice
    third = ingest(warehouse, contract)
    assert third.with_status("skipped") == ["2024-01", "2024-01-copy"]
    assert [count(warehouse, f"raw.{e}") for e in ("patient", "lab_result")] == before
    assert warehouse.execute("SELECT * FROM raw.lab_result ORDER BY ALL").fetchall() == snapshot
    assert list(ledger(warehouse)["delivery_id"].unique()) == ["2024-01"]


def test_corrected_redelivery_releases_quarantined_rows(contract, land, warehouse):
    land("2024-01", {"clinical.csv": clinical_csv(20, {3: "P0003,x,1950,2020-01-01,9,2022-01-01,alive"})})
    ingest(warehouse, contract)
    assert count(warehouse, "quarantine.patient") == 1
    corrected = HEADER + "\n" + "P0003,m,1950,2020-01-01,9,2022-01-01,alive\n"
    land("2024-01-fix", {"clinical.csv": corrected})
    ingest(warehouse, contract)
    rows = ledger(warehouse)
    patient = rows[rows["entity"] == "patient"].set_index("delivery_id")
    assert patient.loc["2024-01", "rows_quarantined"] == 1 and patient.loc["2024-01-fix", "rows_loaded"] == 1
    assert count(warehouse, "raw.patient", "2024-01-fix") == 1
    assert ledger_violations(warehouse).empty


def test_delivery_in_progress_is_left_for_the_next_run(contract, land, warehouse):
    folder = land("2024-02", {"clinical.csv": clinical_csv(5), ".partial": ""})
    assert ingest(warehouse, contract).with_status("pending") == ["2024-02"]
    assert count(warehouse, "raw.patient") == 0
    (folder / ".partial").unlink()
    assert ingest(warehouse, contract).with_status("loaded") == ["2024-02"]


def _excel_two_sheets() -> bytes:
    book = openpyxl.Workbook()
    book.active.append(HEADER.split(","))
    book.create_sheet("notes").append(["anything"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


BAD_INPUTS = {
    "empty_file": ({"clinical.csv": ""}, "rejected", "empty"),
    "header_only": ({"clinical.csv": HEADER + "\n"}, "rejected", "no data rows"),
    "missing_column": ({"clinical.csv": clinical_csv(5).replace(",status", "").replace(",alive", "")},
                       "rejected", "status"),
    "binary_file": ({"clinical.csv": bytes(range(256)) * 40}, "rejected", "clinical.csv"),
    "wrong_encoding": ({"clinical.csv": clinical_csv(12).replace("P0001,f", "P0001,f\u00e9").encode("utf-16")},
                       "rejected", "clinical.csv"),
    "excel_with_data_extension": ({"clinical.csv": _excel_two_sheets()}, "rejected", "clinical.csv"),
    "ragged_rows": ({"clinical.csv": clinical_csv(20, {4: "P0004,m,1950"})}, "loaded", "malformed"),
    "unbalanced_quote": ({"clinical.csv": clinical_csv(20, {19: 'P0019,"m,1950,2020-01-01,9,2022-01-01,alive'})},
                         None, "malformed"),
    "extra_column": ({"clinical.csv": clinical_csv(12).replace(HEADER, HEADER + ",comment")
                      .replace(",alive\n", ",alive,x\n")}, "loaded", None),
    "megabyte_field": ({"clinical.csv": clinical_csv(12, {2: "P0002,m,1950,2020-01-01,9,2022-01-01," + "a" * 1_000_000})},
                       "loaded", None),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_gets_a_clear_outcome_and_spares_other_deliveries(case, contract, land, warehouse):
    files, expected_status, text = BAD_INPUTS[case]
    land("2024-01-bad", files)
    land("2024-02-good", {"clinical.csv": clinical_csv(12)})
    summary = ingest(warehouse, contract)
    outcome = {d.delivery_id: d for d in summary.deliveries}
    assert outcome["2024-02-good"].status == "loaded"
    assert count(warehouse, "raw.patient", "2024-02-good") == 12
    bad = outcome["2024-01-bad"]
    if expected_status:
        assert bad.status == expected_status, bad.error
    if bad.status == "rejected":
        assert "clinical.csv" in bad.error or "test_aml" in bad.error
        if text:
            assert text in bad.error, bad.error
        assert count(warehouse, "raw.patient", "2024-01-bad") == 0
    else:
        q = warehouse.execute(
            "SELECT rule, reason FROM quarantine.unassigned WHERE delivery_id = '2024-01-bad' UNION ALL "
            "SELECT rule, reason FROM quarantine.patient WHERE delivery_id = '2024-01-bad'"
        ).fetchall()
        if text:
            assert any(text in f"{rule} {reason}" for rule, reason in q), q
    assert ledger_violations(warehouse).empty


def test_rejected_delivery_recorded_once_and_retried_on_request(contract, land, warehouse):
    land("2024-01", {"clinical.csv": ""})
    ingest(warehouse, contract)
    ingest(warehouse, contract)
    rows = ledger(warehouse)
    assert list(rows["status"]) == ["rejected"] and "empty" in rows["error"].iloc[0]
    retried = ingest_source(warehouse, contract, get_settings(), KEY, retry_rejected=True)
    assert retried.with_status("rejected") == ["2024-01"]


def test_batch_failure_rejects_only_that_delivery(contract, land, warehouse):
    bad = {i: f"P{i:04d},x,1950,2020-01-01,9,2022-01-01,alive" for i in range(15)}
    land("2024-01", {"clinical.csv": clinical_csv(20, bad)})
    land("2024-02", {"clinical.csv": clinical_csv(20)})
    summary = ingest(warehouse, contract)
    assert summary.with_status("rejected") == ["2024-01"] and summary.with_status("loaded") == ["2024-02"]
    error = ledger(warehouse).set_index("delivery_id").loc["2024-01", "error"]
    assert "clinical.csv" in error and "batch threshold" in error
    assert count(warehouse, "quarantine.patient") == 0


def test_clean_line_is_clean():
    assert clean_line(0).count(",") == HEADER.count(",")


def test_one_checkpoint_defers_and_restores_the_wal_limit(contract, land, warehouse):
    """Many deliveries, one checkpoint: the WAL limit is lifted while loading, restored after, and the
    loaded rows are in the database file (a new process sees them without the WAL)."""

    def limit():
        return warehouse.execute("SELECT current_setting('checkpoint_threshold')").fetchall()[0][0]

    before = limit()
    land("2024-01", {"clinical.csv": clinical_csv(15)})
    with one_checkpoint(warehouse) as timing:
        assert limit() != before
        ingest(warehouse, contract)
    assert limit() == before and timing["checkpoint"] > 0
    wal = get_settings().warehouse.with_name(get_settings().warehouse.name + ".wal")
    assert not wal.exists() or wal.stat().st_size == 0
    assert count(warehouse, "raw.patient") == 15


def test_ledger_violations_for_several_sources_at_once(contract, land, warehouse):
    land("2024-01", {"clinical.csv": clinical_csv(12)})
    ingest(warehouse, contract)
    warehouse.execute("UPDATE ops.delivery_ledger SET rows_loaded = rows_loaded - 1 WHERE entity = 'patient'")
    assert len(ledger_violations(warehouse, ["other_source", "test_aml"])) == 1
    assert ledger_violations(warehouse, ["other_source"]).empty and ledger_violations(warehouse, []).empty
    assert len(ledger_violations(warehouse, "test_aml")) == len(ledger_violations(warehouse)) == 1


def test_read_ahead_loads_what_one_delivery_at_a_time_loads(contract, land, warehouse, tmp_path):
    """Several sources' deliveries in one run, the next read in a worker process while the current one is
    gated and loaded: the same raw rows, quarantine and ledger, and the same outcomes in the same order,
    as loading each delivery in a run of its own (read in this process)."""
    other = dataclasses.replace(contract, source_id="test_aml_b")
    deliveries = [
        (
            contract,
            "2024-01",
            {"clinical.csv": clinical_csv(20, {3: "P0003,x,1950,2020-01-01,99,2022-01-01,alive"})},
        ),
        (contract, "2024-02", {"clinical.csv": ""}),  # unreadable: rejected, the others go on
        (contract, "2024-03", {"clinical.csv": clinical_csv(25)}),
        (other, "2024-01", {"clinical.csv": clinical_csv(12, {5: "P0005,m,1950"})}),
    ]
    one_at_a_time = duckdb.connect(str(tmp_path / "one_at_a_time.duckdb"))
    expected = []
    for source, delivery_id, files in deliveries:
        land(delivery_id, files, source_id=source.source_id)
        summary = ingest_source(one_at_a_time, source, get_settings(), KEY)
        expected.append(
            (
                source.source_id,
                delivery_id,
                {d.delivery_id: d.status for d in summary.deliveries}[delivery_id],
            )
        )

    summaries = ingest_sources(warehouse, [contract, other], get_settings(), KEY)

    got = [(s.source_id, d.delivery_id, d.status) for s in summaries for d in s.deliveries]
    assert got == expected and [status for *_, status in got] == ["loaded", "rejected", "loaded", "loaded"]
    tables = ["raw.patient", "raw.lab_result", "raw.diagnosis", "quarantine.patient", "quarantine.lab_result",
              "quarantine.unassigned", "ops.delivery_ledger"]  # fmt: skip
    for table in tables:
        query = f"SELECT * EXCLUDE (loaded_at) FROM {table} ORDER BY ALL" if "ledger" in table else (
            f"SELECT * FROM {table} ORDER BY ALL")  # fmt: skip
        assert warehouse.execute(query).fetchall() == one_at_a_time.execute(query).fetchall(), table
    assert warehouse.execute("SELECT count(*) FROM raw.patient").fetchone()[0] > 0
    assert ledger_violations(warehouse).empty
    one_at_a_time.close()

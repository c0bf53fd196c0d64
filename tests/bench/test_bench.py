"""`harmony bench` end to end on a small cohort, as `make bench` runs it: through Dagster, the full run,
the held-back deliveries as incremental runs, the compaction after them and the DuckDB floor. The report's
figures are checked against the warehouse and against each other, never against timings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from pipeline_homes import TEST_KEY

from harmony_pipeline.bench import BENCH_DIR_ENV, INCREMENTAL_SOURCES

pytestmark = pytest.mark.slow
PATIENTS = 300


@pytest.fixture(scope="module")
def bench(tmp_path_factory) -> tuple[dict, Path, str]:
    root = tmp_path_factory.mktemp("bench")
    (root / "dagster").mkdir()
    env = {**os.environ, BENCH_DIR_ENV: str(root / "bench"), "DAGSTER_HOME": str(root / "dagster")}
    env["HARMONY_PSEUDONYM_KEY"] = TEST_KEY
    result = subprocess.run(
        [str(Path(sys.executable).with_name("harmony")), "bench", "--patients", str(PATIENTS)],
        env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    report = json.loads((root / "bench" / "results.json").read_text())
    return report, root / "bench" / f"home-{PATIENTS}", result.stdout


def test_the_report_holds_the_run_its_stages_and_the_floor(bench):
    report, home, printed = bench
    (result,) = report["results"]
    assert result["patients"] == PATIENTS and result["success"]
    # the OMOP rows counted again from the warehouse the run left
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        tables = con.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'omop'").fetchall()
        rows = sum(con.execute(f'SELECT count(*) FROM omop."{t}"').fetchone()[0] for (t,) in tables)
    assert result["omop_rows"] == rows > 0
    # (the report rounds its seconds: ratios are compared within that rounding)
    assert result["omop_rows_per_second"] == pytest.approx(rows / result["pipeline_seconds"], rel=1e-3)
    stages = result["stage_seconds"]
    assert stages["synth"] > 0  # a new cohort was synthesised
    assert all(stages[s] > 0 for s in ("landing", "quality", "omop", "marts", "privacy", "publish"))
    floor = result["floor_seconds"]
    assert result["pipeline_over_floor"] == pytest.approx(
        result["pipeline_seconds"] / floor, rel=0.005 / floor
    )
    assert result["floor_rows_read"] > 0 and result["peak_memory_mb"] > 0
    # what a launched run pays before its first step is measured and printed
    assert result["launch_seconds"] > 0
    assert f"its own: {result['launch_seconds']:.1f} s more than each run above" in printed
    # the printed table and the targets say the same: sizes not run are not measured
    assert f"{PATIENTS:>10,}" in printed
    assert "1M end to end: not measured" in "\n".join(report["targets"])


def test_each_held_back_delivery_lands_as_an_incremental_run_and_shares_the_compaction(bench):
    report, home, _ = bench
    (result,) = report["results"]
    runs = result["incremental"]
    assert [run["source"] for run in runs] == list(INCREMENTAL_SOURCES)
    compaction = result["compaction"]["seconds"]
    for run in runs:
        assert 0 < run["share_of_raw_rows"] < 1 and run["rebuilt_persons"] > 0
        assert run["step_seconds"]["harmony_dbt"] > 0
        charged = compaction * run["rebuilt_persons"] / sum(r["rebuilt_persons"] for r in runs)
        assert run["compaction_seconds"] == pytest.approx(charged, abs=0.01)
        assert run["over_full"] == pytest.approx(
            (run["seconds"] + run["compaction_seconds"]) / result["pipeline_seconds"], abs=0.001
        )
    # the held-back deliveries are back in the landing zone, and the compaction started the count again
    for source in INCREMENTAL_SOURCES:
        assert len(list((home / "landing" / source).iterdir())) == 2
    assert not list((home / "held_back").glob("*/*"))
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        assert con.execute("SELECT rebuilt_persons FROM ops.compaction_state").fetchone()[0] == 0

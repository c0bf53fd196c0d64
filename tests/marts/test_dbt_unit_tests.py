"""The dbt unit tests (unit_tests: in dbt_project/models/**/*.yml) run here, not in the pipeline's builds.

Production builds exclude them (`--exclude resource_type:unit_test`, transform/assets.py): they test the
code, not the data, and need no warehouse of their own. Their models' parents are built empty (`--empty`)
so dbt knows the input columns; then every unit test must pass.
"""

from __future__ import annotations

import json

import duckdb
from dbt_runner import run_dbt

from harmony_pipeline import canonical


def test_every_dbt_unit_test_passes(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("CREATE SCHEMA raw")
        for entity in canonical.ENTITIES:
            con.execute(canonical.create_table_sql("raw", entity))
    result = run_dbt(warehouse, tmp_path, "build", "--empty", "--select", "+test_type:unit", "--threads", "2")
    assert result.returncode == 0, result.stdout[-4000:]
    manifest = json.loads((tmp_path / "target" / "manifest.json").read_text())
    results = json.loads((tmp_path / "target" / "run_results.json").read_text())["results"]
    ran = {r["unique_id"]: r["status"] for r in results if r["unique_id"].startswith("unit_test.")}
    assert set(ran) == set(manifest["unit_tests"]) and len(ran) >= 15
    assert set(ran.values()) == {"pass"}

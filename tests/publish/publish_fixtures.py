"""Small hand-made warehouses with a `release` schema, as the privacy stage would leave them."""

import json

import duckdb


def build_release_schema(settings, generation: int = 1, aml_rows: int = 40, mm_rows: int = 30) -> None:
    """(Re)write release.* in the warehouse; every row carries the generation, so a release is recognisable."""
    settings.home.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(settings.warehouse)) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS release")
        con.execute(
            "CREATE OR REPLACE TABLE release.mart_aml AS SELECT range AS person_id, "
            "CASE WHEN range % 2 = 0 THEN 'F' ELSE 'M' END AS sex, "
            "CASE WHEN range < 5 THEN 'adverse' ELSE 'favourable' END AS eln_2022_risk, "
            "? AS generation FROM range(?)",
            [generation, aml_rows],
        )
        con.execute(
            "CREATE OR REPLACE TABLE release.mart_mm AS SELECT range AS person_id, 1 + range % 3 AS iss_stage, "
            "? AS generation FROM range(?)",
            [generation, mm_rows],
        )
    settings.published_dir.mkdir(parents=True, exist_ok=True)
    report = {"k_reached": 11, "generation": generation}
    (settings.published_dir / "anonymisation_report.json").write_text(json.dumps(report))

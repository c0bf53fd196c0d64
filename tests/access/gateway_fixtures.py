"""A small hand-made warehouse with a `release` schema (as the privacy stage leaves it), published."""

import json

import duckdb

from harmony_pipeline.publish import publish_release

AML_ROWS = 40  # person_id 0..39; 5 'adverse' (person_id < 5), 35 'favourable'
MM_ROWS = 36  # 12 per ISS stage


def build_release_schema(
    settings, generation: int = 1, aml_rows: int = AML_ROWS, mm_rows: int = MM_ROWS
) -> None:
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
        # an aggregate table (no person key): a survival table with a small cell in it
        con.execute(
            "CREATE OR REPLACE TABLE release.km_aml AS SELECT * FROM (VALUES (0, 40, 0), (12, 25, 5), (24, 14, 11)) "
            "t(month, n_at_risk, n_events)"
        )
    settings.published_dir.mkdir(parents=True, exist_ok=True)
    (settings.published_dir / "anonymisation_report.json").write_text(json.dumps({"k_reached": 11}))


def publish(settings, generation: int = 1, **kwargs):
    build_release_schema(settings, generation, **kwargs)
    return publish_release(settings, [{"source_id": "demo", "delivery_id": f"d{generation}"}])

"""Kaplan-Meier table of mart_nhl per endpoint and risk classification (harmony_pipeline.survival).

Incremental: recomputed only when a NHL patient changed, else kept (macros/marts_incremental.sql)."""


def model(dbt, session):
    from harmony_pipeline.survival import km_columns, km_for_mart, per_disease

    dbt.config(materialized="incremental", incremental_strategy="replace_diseases", diseases=["NHL"])
    changed = dbt.ref("int_changed_diseases")
    mart = dbt.ref("mart_nhl")  # a relation: read only when NHL changed
    return per_disease(
        changed, dbt.is_incremental, "NHL", mart, km_columns("nhl"), lambda m: km_for_mart(m, "nhl")
    )

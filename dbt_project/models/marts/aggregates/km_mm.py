"""Kaplan-Meier table of mart_mm per endpoint and risk classification (harmony_pipeline.survival).

Incremental: recomputed only when a MM patient changed, else kept (macros/marts_incremental.sql)."""


def model(dbt, session):
    from harmony_pipeline.survival import km_columns, km_for_mart, per_disease

    dbt.config(materialized="incremental", incremental_strategy="replace_diseases", diseases=["MM"])
    changed = dbt.ref("int_changed_diseases")
    mart = dbt.ref("mart_mm")  # a relation: read only when MM changed
    return per_disease(
        changed, dbt.is_incremental, "MM", mart, km_columns("mm"), lambda m: km_for_mart(m, "mm")
    )

"""Paediatric vs adult ALL on the common data set (harmony_pipeline.survival).

Incremental: recomputed only when an ALL patient changed, else kept (macros/marts_incremental.sql)."""


def model(dbt, session):
    from harmony_pipeline.survival import ALL_AGE_COLUMNS, all_paediatric_vs_adult, per_disease

    dbt.config(materialized="incremental", incremental_strategy="replace_diseases", diseases=["ALL"])
    changed, mart = dbt.ref("int_changed_diseases"), dbt.ref("mart_all")
    return per_disease(changed, dbt.is_incremental, "ALL", mart, ALL_AGE_COLUMNS, all_paediatric_vs_adult)

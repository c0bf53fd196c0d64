"""Kaplan-Meier table of mart_apl per endpoint and risk classification (harmony_pipeline.survival).

Incremental: recomputed only when a APL patient changed, else kept (macros/marts_incremental.sql)."""


def model(dbt, session):
    from harmony_pipeline.survival import km_columns, km_for_mart, per_disease

    dbt.config(materialized="incremental", incremental_strategy="replace_diseases", diseases=["APL"])
    changed = dbt.ref("int_changed_diseases")
    mart = dbt.ref("mart_apl")  # a relation: read only when APL changed
    return per_disease(
        changed, dbt.is_incremental, "APL", mart, km_columns("apl"), lambda m: km_for_mart(m, "apl")
    )

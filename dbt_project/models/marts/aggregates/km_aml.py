"""Kaplan-Meier table of mart_aml per endpoint and risk classification (harmony_pipeline.survival).

Incremental: recomputed only when a AML patient changed, else kept (macros/marts_incremental.sql)."""


def model(dbt, session):
    from harmony_pipeline.survival import km_columns, km_for_mart, per_disease

    dbt.config(materialized="incremental", incremental_strategy="replace_diseases", diseases=["AML"])
    changed = dbt.ref("int_changed_diseases")
    mart = dbt.ref("mart_aml")  # a relation: read only when AML changed
    return per_disease(
        changed, dbt.is_incremental, "AML", mart, km_columns("aml"), lambda m: km_for_mart(m, "aml")
    )

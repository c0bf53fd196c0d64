"""Kaplan-Meier table of mart_all per endpoint and risk classification (harmony_pipeline.survival).

Incremental: recomputed only when a ALL patient changed, else kept (macros/marts_incremental.sql)."""


def model(dbt, session):
    from harmony_pipeline.survival import km_columns, km_for_mart, per_disease

    dbt.config(materialized="incremental", incremental_strategy="replace_diseases", diseases=["ALL"])
    changed = dbt.ref("int_changed_diseases")
    mart = dbt.ref("mart_all")  # a relation: read only when ALL changed
    return per_disease(
        changed, dbt.is_incremental, "ALL", mart, km_columns("all"), lambda m: km_for_mart(m, "all")
    )

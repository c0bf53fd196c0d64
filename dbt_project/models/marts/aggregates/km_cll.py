"""Kaplan-Meier table of mart_cll per endpoint and risk classification (harmony_pipeline.survival).

Incremental: recomputed only when a CLL patient changed, else kept (macros/marts_incremental.sql)."""


def model(dbt, session):
    from harmony_pipeline.survival import km_columns, km_for_mart, per_disease

    dbt.config(materialized="incremental", incremental_strategy="replace_diseases", diseases=["CLL"])
    changed = dbt.ref("int_changed_diseases")
    mart = dbt.ref("mart_cll")  # a relation: read only when CLL changed
    return per_disease(
        changed, dbt.is_incremental, "CLL", mart, km_columns("cll"), lambda m: km_for_mart(m, "cll")
    )

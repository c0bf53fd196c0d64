"""Kaplan-Meier table of mart_mds per endpoint and risk classification (harmony_pipeline.survival).

Incremental: recomputed only when a MDS patient changed, else kept (macros/marts_incremental.sql)."""


def model(dbt, session):
    from harmony_pipeline.survival import km_columns, km_for_mart, per_disease

    dbt.config(materialized="incremental", incremental_strategy="replace_diseases", diseases=["MDS"])
    changed = dbt.ref("int_changed_diseases")
    mart = dbt.ref("mart_mds")  # a relation: read only when MDS changed
    return per_disease(
        changed, dbt.is_incremental, "MDS", mart, km_columns("mds"), lambda m: km_for_mart(m, "mds")
    )

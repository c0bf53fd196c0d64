"""Myeloma PFS by first-line treatment class within R-ISS stage (harmony_pipeline.survival).

Incremental: recomputed only when an MM patient changed, else kept (macros/marts_incremental.sql)."""


def model(dbt, session):
    from harmony_pipeline.survival import MM_PFS_COLUMNS, mm_pfs_by_treatment, per_disease

    dbt.config(materialized="incremental", incremental_strategy="replace_diseases", diseases=["MM"])
    changed, mart = dbt.ref("int_changed_diseases"), dbt.ref("mart_mm")
    return per_disease(changed, dbt.is_incremental, "MM", mart, MM_PFS_COLUMNS, mm_pfs_by_treatment)

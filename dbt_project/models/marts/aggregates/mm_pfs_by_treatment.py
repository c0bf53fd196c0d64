"""Myeloma PFS by first-line treatment class within R-ISS stage (harmony_pipeline.survival)."""


def model(dbt, session):
    from harmony_pipeline.survival import MM_PFS_COLUMNS, index_records, mm_pfs_by_treatment

    dbt.config(materialized="table")
    mart = index_records(dbt.ref("mart_mm"), MM_PFS_COLUMNS)
    return mm_pfs_by_treatment(mart)

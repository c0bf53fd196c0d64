"""Myeloma PFS by first-line treatment class within R-ISS stage (harmony_pipeline.survival)."""


def model(dbt, session):
    from harmony_pipeline.survival import mm_pfs_by_treatment

    dbt.config(materialized="table")
    mart = dbt.ref("mart_mm").df()
    return mm_pfs_by_treatment(mart)

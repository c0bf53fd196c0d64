"""Paediatric vs adult ALL on the common data set (harmony_pipeline.survival)."""


def model(dbt, session):
    from harmony_pipeline.survival import ALL_AGE_COLUMNS, all_paediatric_vs_adult, index_records

    dbt.config(materialized="table")
    mart = index_records(dbt.ref("mart_all"), ALL_AGE_COLUMNS)
    return all_paediatric_vs_adult(mart)

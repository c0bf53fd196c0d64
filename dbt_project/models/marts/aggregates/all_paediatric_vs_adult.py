"""Paediatric vs adult ALL on the common data set (harmony_pipeline.survival)."""


def model(dbt, session):
    from harmony_pipeline.survival import all_paediatric_vs_adult

    dbt.config(materialized="table")
    mart = dbt.ref("mart_all").df()
    return all_paediatric_vs_adult(mart)

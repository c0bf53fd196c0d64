"""Kaplan-Meier table of mart_aml per endpoint and risk classification (harmony_pipeline.survival)."""


def model(dbt, session):
    from harmony_pipeline.survival import km_for_mart

    dbt.config(materialized="table")
    mart = dbt.ref("mart_aml").df()
    return km_for_mart(mart, "aml")

"""Kaplan-Meier table of mart_apl per endpoint and risk classification (harmony_pipeline.survival)."""


def model(dbt, session):
    from harmony_pipeline.survival import km_for_mart

    dbt.config(materialized="table")
    mart = dbt.ref("mart_apl").df()
    return km_for_mart(mart, "apl")

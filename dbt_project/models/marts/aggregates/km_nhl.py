"""Kaplan-Meier table of mart_nhl per endpoint and risk classification (harmony_pipeline.survival)."""


def model(dbt, session):
    from harmony_pipeline.survival import km_for_mart

    dbt.config(materialized="table")
    mart = dbt.ref("mart_nhl").df()
    return km_for_mart(mart, "nhl")

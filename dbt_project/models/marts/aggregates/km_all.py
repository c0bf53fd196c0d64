"""Kaplan-Meier table of mart_all per endpoint and risk classification (harmony_pipeline.survival)."""


def model(dbt, session):
    from harmony_pipeline.survival import index_records, km_columns, km_for_mart

    dbt.config(materialized="table")
    mart = index_records(dbt.ref("mart_all"), km_columns("all"))
    return km_for_mart(mart, "all")

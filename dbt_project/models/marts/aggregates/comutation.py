"""Gene-gene co-mutation per disease: pair counts, odds ratio, Fisher p, BH q (harmony_pipeline.survival)."""


def model(dbt, session):
    from harmony_pipeline.survival import comutation, comutation_status

    dbt.config(materialized="table")
    rows = comutation_status(dbt.ref("comutation_input"))
    return comutation(rows)

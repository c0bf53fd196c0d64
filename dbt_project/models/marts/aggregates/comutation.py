"""Gene-gene co-mutation per disease: pair counts, odds ratio, Fisher p, BH q (harmony_pipeline.survival)."""


def model(dbt, session):
    from harmony_pipeline.survival import comutation

    dbt.config(materialized="table")
    rows = dbt.ref("comutation_input").df()
    return comutation(rows)

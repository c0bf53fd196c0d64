"""Gene-gene co-mutation per disease: pair counts, odds ratio, Fisher p, BH q (harmony_pipeline.survival).

Incremental by disease: only the diseases with a changed patient are recomputed, the rows of the others
are kept (macros/marts_incremental.sql)."""


def model(dbt, session):
    from harmony_pipeline.survival import changed_diseases, comutation, comutation_status

    dbt.config(materialized="incremental", incremental_strategy="replace_diseases", unique_key="disease")
    mutations = dbt.ref("comutation_input")
    diseases = changed_diseases(dbt.ref("int_changed_diseases"), dbt.is_incremental)
    if diseases is not None:  # a disease's statistics read only its own patients
        mutations = mutations.filter(
            "disease in (" + (", ".join("'" + d.replace("'", "''") + "'" for d in diseases) or "null") + ")"
        )
    return comutation(comutation_status(mutations))

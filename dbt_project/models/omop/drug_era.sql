-- Drug eras: exposures of one person to one ingredient (drug_concept_id is already an RxNorm
-- ingredient) with at most 30 days between them (OMOP CDM drug_era convention; concept 0 excluded),
-- see int_drug_era.
{{ config(materialized='incremental', unique_key='person_id') }}
with rows_ as (
    select
        ids.id as drug_era_id,
        e.person_id,
        e.concept_id as drug_concept_id,
        e.era_start_date as drug_era_start_date,
        e.era_end_date as drug_era_end_date,
        e.record_count as drug_exposure_count,
        e.gap_days
    from {{ ref('int_drug_era') }} as e
    left join {{ ref('id_drug_era') }} as ids on ids.key_hash = e.key_hash
    where {{ changed('e.person_id') }}
)
{{ omop_select('rows_', order_by='drug_era_id') }}

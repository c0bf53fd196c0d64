-- Condition eras: conditions of one person and standard concept within 30 days of each other
-- (OMOP CDM condition_era convention; concept 0 is not built into eras), see int_condition_era.
{{ config(materialized='incremental', unique_key='person_id') }}
with rows_ as (
    select
        ids.id as condition_era_id,
        e.person_id,
        e.concept_id as condition_concept_id,
        e.era_start_date as condition_era_start_date,
        e.era_end_date as condition_era_end_date,
        e.record_count as condition_occurrence_count
    from {{ ref('int_condition_era') }} as e
    left join {{ ref('id_condition_era') }} as ids on ids.key_hash = e.key_hash
    where {{ changed('e.person_id') }}
)
{{ omop_select('rows_', order_by='condition_era_id') }}

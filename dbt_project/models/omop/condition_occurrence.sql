-- Diagnoses as standard conditions; the delivered ICD-10 / ICD-O-3 code stays in condition_source_value.
{{ config(materialized='incremental', unique_key='person_id') }}
with conditions as (
    select
        ids.id as condition_occurrence_id,
        p.person_id,
        c.condition_concept_id,
        c.condition_start_date,
        cast(c.condition_start_date as timestamp) as condition_start_datetime,
        coalesce(t.type_concept_id, 0) as condition_type_concept_id,
        v.visit_occurrence_id,
        c.condition_source_value,
        c.condition_source_concept_id
    from {{ ref('int_condition_occurrence') }} as c
    inner join {{ ref('int_omop_person') }} as p on c.person_key = p.person_key
    left join {{ ref('id_condition_occurrence') }} as ids on ids.key_hash = c.key_hash
    left join {{ ref('int_source_type') }} as t on c.source_id = t.source_id
    left join {{ ref('visit_occurrence') }} as v
        on v.person_id = p.person_id and v.visit_start_date = c.condition_start_date
    where {{ changed('c.person_key') }}
)
{{ omop_select('conditions', order_by='condition_occurrence_id') }}

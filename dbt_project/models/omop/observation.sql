-- Donor type of transplants and delivered cytogenetic categories (local concepts, see int_observation).
{{ config(materialized='incremental', unique_key='person_id') }}
with observations as (
    select
        ids.id as observation_id,
        p.person_id,
        o.observation_concept_id,
        o.observation_date,
        cast(o.observation_date as timestamp) as observation_datetime,
        coalesce(t.type_concept_id, 0) as observation_type_concept_id,
        o.value_as_string,
        v.visit_occurrence_id,
        o.observation_source_value,
        o.observation_source_concept_id
    from {{ ref('int_observation') }} as o
    inner join {{ ref('int_omop_person') }} as p on o.person_key = p.person_key
    left join {{ ref('id_observation') }} as ids on ids.key_hash = o.key_hash
    left join {{ ref('int_source_type') }} as t on o.source_id = t.source_id
    left join {{ ref('visit_occurrence') }} as v
        on v.person_id = p.person_id and v.visit_start_date = o.observation_date
    -- a date is required by the CDM; the rest is in ops.omop_excluded_records
    where o.observation_date is not null and {{ changed('o.person_key') }}
)
{{ omop_select('observations', order_by='observation_id') }}

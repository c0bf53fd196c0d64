-- Haematopoietic stem-cell transplants.
{{ config(materialized='incremental', unique_key='person_id') }}
with procedures as (
    select
        ids.id as procedure_occurrence_id,
        p.person_id,
        r.procedure_concept_id,
        r.procedure_date,
        cast(r.procedure_date as timestamp) as procedure_datetime,
        coalesce(t.type_concept_id, 0) as procedure_type_concept_id,
        v.visit_occurrence_id,
        r.procedure_source_value,
        r.procedure_source_concept_id
    from {{ ref('int_procedure_occurrence') }} as r
    inner join {{ ref('int_omop_person') }} as p on r.person_key = p.person_key
    left join {{ ref('id_procedure_occurrence') }} as ids on ids.key_hash = r.key_hash
    left join {{ ref('int_source_type') }} as t on r.source_id = t.source_id
    left join {{ ref('visit_occurrence') }} as v
        on v.person_id = p.person_id and v.visit_start_date = r.procedure_date
    where {{ changed('r.person_key') }}
)
{{ omop_select('procedures', order_by='procedure_occurrence_id') }}

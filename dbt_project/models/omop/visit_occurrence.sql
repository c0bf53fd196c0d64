-- One visit per person and date with a clinical record: inpatient (9201) on a transplant date,
-- outpatient (9202) otherwise (int_visit_occurrence). Records are linked to their visit by person and date.
{{ config(materialized='incremental', unique_key='person_id') }}
with visits as (
    select
        ids.id as visit_occurrence_id,
        d.person_id,
        case when d.is_transplant_day then 9201 else 9202 end as visit_concept_id,
        d.event_date as visit_start_date,
        d.event_date as visit_end_date,
        coalesce(t.type_concept_id, 0) as visit_type_concept_id,
        case when d.is_transplant_day then 'inpatient' else 'outpatient' end as visit_source_value,
        0 as visit_source_concept_id
    from {{ ref('int_visit_occurrence') }} as d
    left join {{ ref('id_visit_occurrence') }} as ids on ids.key_hash = d.key_hash
    left join {{ ref('int_source_type') }} as t on d.source_id = t.source_id
    where {{ changed('d.person_id') }}
)
{{ omop_select('visits', order_by='visit_occurrence_id') }}

-- One visit per person and date with a clinical record: inpatient (9201) on a transplant date,
-- outpatient (9202) otherwise. Records are linked to their visit by person and date.
with days as (
    select
        person_key,
        event_date,
        min(source_id) as source_id,
        bool_or(event_kind = 'procedure') as is_transplant_day
    from {{ ref('int_person_event_dates') }}
    where event_kind in ('condition', 'measurement', 'drug', 'procedure', 'observation')
    group by person_key, event_date
),

visits as (
    select
        {{ omop_id("d.person_key || '|' || cast(d.event_date as varchar)") }} as visit_occurrence_id,
        p.person_id,
        case when d.is_transplant_day then 9201 else 9202 end as visit_concept_id,
        d.event_date as visit_start_date,
        d.event_date as visit_end_date,
        coalesce(t.type_concept_id, 0) as visit_type_concept_id,
        case when d.is_transplant_day then 'inpatient' else 'outpatient' end as visit_source_value,
        0 as visit_source_concept_id
    from days as d
    inner join {{ ref('int_omop_person') }} as p on d.person_key = p.person_key
    left join {{ ref('int_source_type') }} as t on d.source_id = t.source_id
)
{{ omop_select('visits', order_by='visit_occurrence_id') }}

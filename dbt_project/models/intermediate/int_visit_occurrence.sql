-- One visit per OMOP person and date with a clinical record: inpatient on a transplant date, outpatient
-- otherwise (omop.visit_occurrence). key_hash: the natural key (person, date) that
-- ops.id_visit_occurrence maps to visit_occurrence_id.
{{ config(materialized='incremental', unique_key='person_key') }}
select
    {{ key_hash("e.person_key || '|' || cast(e.event_date as varchar)") }} as key_hash,
    e.person_key,
    p.person_id,
    e.event_date,
    min(e.source_id) as source_id,
    bool_or(e.event_kind = 'procedure') as is_transplant_day
from {{ ref('int_person_event_dates') }} as e
inner join {{ ref('int_omop_person') }} as p on e.person_key = p.person_key
where e.event_kind in ('condition', 'measurement', 'drug', 'procedure', 'observation') and {{ changed('e.person_key') }}
group by e.person_key, p.person_id, e.event_date

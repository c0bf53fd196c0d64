-- Every dated clinical record of a person (source of observation periods and visits). A visit is an
-- inpatient stay on a transplant date and an outpatient contact on any other date.
{{ config(materialized='incremental', unique_key='person_key') }}
with events as (
    select person_key, condition_start_date as event_date, source_id, 'condition' as event_kind
    from {{ ref('int_condition_occurrence') }}
    union all
    select person_key, measurement_date, source_id, 'measurement' from {{ ref('int_measurement') }}
    union all
    select person_key, drug_exposure_start_date, source_id, 'drug' from {{ ref('int_drug_exposure') }}
    union all
    select person_key, drug_exposure_end_date, source_id, 'drug_end' from {{ ref('int_drug_exposure') }}
    union all
    select person_key, procedure_date, source_id, 'procedure' from {{ ref('int_procedure_occurrence') }}
    union all
    select person_key, observation_date, source_id, 'observation' from {{ ref('int_observation') }}
    union all
    select person_key, death_date, source_id, 'death' from {{ ref('int_death') }}
    union all
    select person_key, last_contact_date, source_id, 'follow_up' from {{ ref('stg_follow_up') }}
    union all
    select person_key, index_date, source_id, 'registration' from {{ ref('stg_patient') }}
)

select person_key, event_date, event_kind, min(source_id) as source_id
from events
where event_date is not null and {{ changed('person_key') }}
group by person_key, event_date, event_kind

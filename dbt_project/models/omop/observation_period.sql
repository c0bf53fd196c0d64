-- One observation period per person, from the first to the last dated record of any source.
{{ config(materialized='incremental', unique_key='person_id') }}
with spans as (
    select person_key, min(event_date) as start_date, max(event_date) as end_date
    from {{ ref('int_person_event_dates') }}
    where {{ changed('person_key') }}
    group by person_key
),

periods as (
    select
        p.person_id as observation_period_id,
        p.person_id,
        s.start_date as observation_period_start_date,
        s.end_date as observation_period_end_date,
        {{ type_concept('p.provider_kind') }} as period_type_concept_id
    from spans as s
    inner join {{ ref('int_omop_person') }} as p on s.person_key = p.person_key  -- every key has a person
)
{{ omop_select('periods', order_by='observation_period_id') }}

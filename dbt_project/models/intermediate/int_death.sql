-- One death per person: the earliest death date any source reports. A source that says 'dead'
-- without a date gives its last-contact date (the latest date the person is known to have lived to).
{{ config(materialized='incremental', unique_key='person_key') }}
with deaths as (
    select
        person_key,
        coalesce(death_date, last_contact_date) as death_date,
        death_date is null as date_imputed,
        death_cause,
        source_id,
        delivery_id,
        file_name,
        row_number,
        row_number() over (
            partition by person_key
            order by coalesce(death_date, last_contact_date), source_id, delivery_id desc, file_name, row_number
        ) as rank_
    from {{ ref('stg_follow_up') }}
    where vital_status = 'dead' and {{ changed('person_key') }}
)

select
    person_key,
    death_date,
    date_imputed,
    left(death_cause, 50) as cause_source_value,
    source_id,
    delivery_id,
    file_name,
    row_number
from deaths
where rank_ = 1

-- Per person (reason, source, entity, person_key): an incremental build replaces the changed persons' rows.
{{ config(schema='ops', materialized='incremental', unique_key='person_key') }}
-- Canonical records that the OMOP instance cannot hold, with the reason, per source and entity, so
-- nothing disappears unseen:
-- * persons without a year of birth (see int_omop_person: the CDM convention drops them), with all
--   their records;
-- * undated measurement and observation facts of persons without any baseline date (the CDM
--   requires a date).
with excluded_persons as (
    select person_key, source_ids
    from {{ ref('int_person') }}
    where year_of_birth is null and {{ changed('person_key') }}  -- not in int_omop_person
),

records as (
    select person_key, source_id, 'patient' as entity from {{ ref('stg_patient') }}
    union all select person_key, source_id, 'diagnosis' from {{ ref('stg_diagnosis') }}
    union all select person_key, source_id, 'lab_result' from {{ ref('stg_lab_result') }}
    union all select person_key, source_id, 'cytogenetics' from {{ ref('stg_cytogenetics') }}
    union all select person_key, source_id, 'mutation' from {{ ref('stg_mutation') }}
    union all select person_key, source_id, 'treatment' from {{ ref('stg_treatment') }}
    union all select person_key, source_id, 'response' from {{ ref('stg_response') }}
    union all select person_key, source_id, 'transplant' from {{ ref('stg_transplant') }}
    union all select person_key, source_id, 'staging' from {{ ref('stg_staging') }}
    union all select person_key, source_id, 'follow_up' from {{ ref('stg_follow_up') }}
),

records_of_changed as (
    select * from records where {{ changed('person_key') }}
),

person_rows as (
    select
        e.person_key,
        r.source_id,
        case when e.source_ids = '' then 'person without patient row: year of birth unknown'
             else 'year of birth unknown' end as reason,
        r.entity
    from excluded_persons as e
    inner join records_of_changed as r on r.person_key = e.person_key
),

undated_rows as (
    select m.person_key, m.source_id, 'no date and no baseline date' as reason,
           case m.fact_kind when 'lab' then 'lab_result' when 'flt3_itd_ratio' then 'mutation'
                else m.fact_kind end as entity
    from {{ ref('int_measurement') }} as m
    inner join {{ ref('int_omop_person') }} as p on p.person_key = m.person_key
    where m.measurement_date is null and {{ changed('m.person_key') }}
    union all
    select o.person_key, o.source_id, 'no date and no baseline date',
           case o.fact_kind when 'donor_type' then 'transplant' else 'cytogenetics' end
    from {{ ref('int_observation') }} as o
    inner join {{ ref('int_omop_person') }} as p on p.person_key = o.person_key
    where o.observation_date is null and {{ changed('o.person_key') }}
)

select reason, source_id, entity, person_key, count(*) as records
from (select * from person_rows union all select * from undated_rows) as excluded
group by all
order by reason, source_id, entity, person_key

{{ config(schema='ops', materialized='table') }}
-- Persons kept out of the OMOP instance (see int_omop_person) with the reason and how many canonical
-- records of theirs stay in staging only.
with excluded as (
    select person_key, person_id, source_ids
    from {{ ref('int_person') }}
    where person_key not in (select person_key from {{ ref('int_omop_person') }})
),

records as (
    select person_key, source_id, 'diagnosis' as entity from {{ ref('stg_diagnosis') }}
    union all select person_key, source_id, 'lab_result' from {{ ref('stg_lab_result') }}
    union all select person_key, source_id, 'cytogenetics' from {{ ref('stg_cytogenetics') }}
    union all select person_key, source_id, 'mutation' from {{ ref('stg_mutation') }}
    union all select person_key, source_id, 'treatment' from {{ ref('stg_treatment') }}
    union all select person_key, source_id, 'response' from {{ ref('stg_response') }}
    union all select person_key, source_id, 'transplant' from {{ ref('stg_transplant') }}
    union all select person_key, source_id, 'staging' from {{ ref('stg_staging') }}
    union all select person_key, source_id, 'follow_up' from {{ ref('stg_follow_up') }}
)

select
    e.person_key,
    r.source_id,
    case when e.source_ids = '' then 'no patient row (year of birth unknown)'
         else 'year of birth unknown' end as reason,
    r.entity,
    count(*) as records
from excluded as e
inner join records as r on r.person_key = e.person_key
group by all
order by e.person_key, r.source_id, r.entity

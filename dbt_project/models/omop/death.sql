-- One death per person (earliest reported date); cause kept as source value (no cause vocabulary).
{{ config(materialized='incremental', unique_key='person_id') }}
with deaths as (
    select
        p.person_id,
        d.death_date,
        cast(d.death_date as timestamp) as death_datetime,
        coalesce(t.type_concept_id, 0) as death_type_concept_id,
        0 as cause_concept_id,
        d.cause_source_value,
        0 as cause_source_concept_id
    from {{ ref('int_death') }} as d
    inner join {{ ref('int_omop_person') }} as p on d.person_key = p.person_key
    left join {{ ref('int_source_type') }} as t on d.source_id = t.source_id
    where {{ changed('d.person_key') }}
)
{{ omop_select('deaths', order_by='person_id') }}

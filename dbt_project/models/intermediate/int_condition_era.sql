-- Condition eras before ids (see omop.condition_era); key_hash is the natural key (person, concept,
-- start) that ops.id_condition_era maps to condition_era_id.
{{ config(materialized='incremental', unique_key='person_id') }}
with spans as (
    select
        person_id,
        condition_concept_id as concept_id,
        condition_start_date as span_start,
        coalesce(condition_end_date, condition_start_date) as span_end
    from {{ ref('condition_occurrence') }}
    where condition_concept_id <> 0 and {{ changed('person_id') }}
),

eras as ({{ omop_eras('spans', 30) }})

select
    {{ key_hash("cast(person_id as varchar) || '|' || cast(concept_id as varchar) || '|' || cast(era_start_date as varchar)") }}
        as key_hash,
    *
from eras

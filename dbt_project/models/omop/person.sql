-- One person per person_key (persons seen by several sources are linked upstream by person_key).
{{ config(materialized='incremental', unique_key='person_id') }}
with persons as (
    select
        person_id,
        gender_concept_id,
        year_of_birth,
        month_of_birth,
        day_of_birth,
        cast(birth_date as timestamp) as birth_datetime,
        0 as race_concept_id,  -- sources do not deliver race/ethnicity
        0 as ethnicity_concept_id,
        left(person_key, 50) as person_source_value,  -- the pseudonym, never a source identifier
        gender_source_value,
        0 as gender_source_concept_id
    from {{ ref('int_omop_person') }}
    where {{ changed('person_id') }}
)
{{ omop_select('persons', order_by='person_id') }}

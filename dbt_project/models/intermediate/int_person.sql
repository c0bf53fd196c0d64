-- One person per person_key: a person delivered by several sources (same person_key) is one person.
-- Persons are collected from every entity (int_person_fingerprint), so a fact never loses its person even
-- if the patient row of its source was quarantined. person_id comes from the registry ops.id_person
-- (stable across deliveries, int32).
{{ config(materialized='incremental', unique_key='person_key') }}
with keys as (
    select distinct person_key, {{ harmony_id('person_key') }} as person_hash
    from {{ ref('int_person_fingerprint') }}
    where {{ changed('person_key') }}
),

-- The sex of a person: a known sex wins over 'U'; among known ones, the first source in id order.
sex_ranked as (
    select
        person_key,
        sex,
        row_number() over (
            partition by person_key
            order by case when sex in ('M', 'F') then 0 else 1 end, source_id, delivery_id desc, row_number
        ) as rank_
    from {{ ref('stg_patient') }}
    where {{ changed('person_key') }}
),

demographics as (
    select
        person_key,
        min(birth_date) as birth_date,
        min(birth_year) as birth_year,
        min(age_at_diagnosis) as age_at_diagnosis,
        min(provider_kind) as provider_kind,
        min(index_date) as first_index_date,
        string_agg(distinct source_id, ',' order by source_id) as source_ids,
        count(distinct source_id) as n_sources
    from {{ ref('stg_patient') }}
    where {{ changed('person_key') }}
    group by person_key
),

first_diagnosis as (
    select person_key, min(diagnosis_date) as first_diagnosis_date
    from {{ ref('stg_diagnosis') }}
    where {{ changed('person_key') }}
    group by person_key
),

first_treatment as (
    select person_key, min(start_date) as first_treatment_date
    from {{ ref('stg_treatment') }}
    where {{ changed('person_key') }}
    group by person_key
),

sex_map as (
    select source_code, target_concept_id
    from {{ ref('vocab_source_to_concept_map') }}
    where source_vocabulary_id = 'HARMONY_SEX'
)

select
    ids.id as person_id,
    keys.person_key,
    keys.person_hash,
    coalesce(sex_map.target_concept_id, 0) as gender_concept_id,
    sex_ranked.sex as gender_source_value,
    -- Year of birth: the date, else the delivered year, else diagnosis year minus age at diagnosis.
    coalesce(
        year(demographics.birth_date),
        demographics.birth_year,
        year(first_diagnosis.first_diagnosis_date) - cast(floor(demographics.age_at_diagnosis) as integer)
    ) as year_of_birth,
    month(demographics.birth_date) as month_of_birth,
    day(demographics.birth_date) as day_of_birth,
    demographics.birth_date,
    first_diagnosis.first_diagnosis_date,
    -- the date an undated baseline fact is placed at: diagnosis, else registration, else first treatment
    coalesce(
        first_diagnosis.first_diagnosis_date, demographics.first_index_date, first_treatment.first_treatment_date
    ) as baseline_date,
    demographics.provider_kind,
    coalesce(demographics.source_ids, '') as source_ids,
    coalesce(demographics.n_sources, 0) as n_sources
from keys
left join {{ ref('id_person') }} as ids on ids.key_hash = {{ key_hash('keys.person_key') }}
left join sex_ranked on keys.person_key = sex_ranked.person_key and sex_ranked.rank_ = 1
left join sex_map on sex_ranked.sex = sex_map.source_code
left join demographics on keys.person_key = demographics.person_key
left join first_diagnosis on keys.person_key = first_diagnosis.person_key
left join first_treatment on keys.person_key = first_treatment.person_key

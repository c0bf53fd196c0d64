-- One row per source patient and disease: the backbone of outcomes and marts.
-- Grain: (source_id, patient_key, disease). person_hash links one person across sources.
-- A patient re-delivered keeps the row of the latest delivery (delivery ids sort in delivery order).
-- Origin of time-to-event endpoints (clinical_rules.md, harmonised endpoints): trials count from
-- registration/randomisation (patient.index_date), registries, hospitals and study groups from diagnosis;
-- a trial row without index_date falls back to diagnosis and says so in origin_kind.
-- is_index_record: one record per person and disease when several sources report the same person (e.g. a
-- transplant registry and the treating study group): trial, then study group, hospital, registry; then the
-- earliest diagnosis and the source id. Survival statistics count each person once through it.
-- Built after the OMOP data-quality checks: when a fatal check fails (a test on dq_results), dbt skips
-- this model and so every outcome and mart below it.
-- depends_on: {{ ref('dq_results') }}
-- int_changed_diseases reads this table as it was before this build:
-- depends_on: {{ ref('int_changed_diseases') }}
{{ config(materialized='incremental', unique_key='patient_key') }}
with patient as (
    select *
    from {{ ref('stg_patient') }}
    where {{ changed('patient_key') }}
    qualify row_number() over (partition by patient_key order by delivery_id desc, row_number desc) = 1
),

diagnosis as (
    select *
    from {{ ref('stg_diagnosis') }}
    where {{ changed('patient_key') }}
    qualify row_number() over (
        partition by patient_key, disease order by delivery_id desc, diagnosis_date, row_number desc
    ) = 1
)

select
    d.person_hash,
    d.source_id,
    d.patient_key,
    d.disease,
    d.subtype as disease_subtype,
    d.diagnosis_date,
    cast(extract(year from d.diagnosis_date) as integer) as diagnosis_year,
    p.sex,
    cast(coalesce(
        p.age_at_diagnosis,
        -- unrounded: age cut-offs (CLL-IPI > 65, IPI > 60) must see 65.04 as over 65; IPSS-RA rounds itself
        datediff('day', p.birth_date, d.diagnosis_date) / 365.25
    ) as double) as age_at_diagnosis,
    p.country,
    p.provider_kind,
    p.index_date,
    case when p.provider_kind = 'trial' and p.index_date is not null then p.index_date else d.diagnosis_date end
        as origin_date,
    case when p.provider_kind = 'trial' and p.index_date is not null then 'index_date' else 'diagnosis_date' end
        as origin_kind,
    row_number() over (
        partition by d.person_hash, d.disease
        order by
            case p.provider_kind when 'trial' then 1 when 'study_group' then 2 when 'hospital' then 3 else 4 end,
            d.diagnosis_date,
            d.source_id,
            d.patient_key
    ) = 1 as is_index_record
from diagnosis as d
left join patient as p on d.patient_key = p.patient_key

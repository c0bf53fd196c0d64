-- Harmonised time-to-event endpoints per source patient and disease (clinical_rules.md, "Harmonised
-- endpoints"). Times in days and months (days / 30.4375); events 1/0; NULL when not defined for the
-- disease or not computable (e.g. an end before the origin).
--
-- Origins, per provider kind:
--   OS, LFS          trial: registration/randomisation (index_date); others: diagnosis date
--   EFS, PFS         trial: index_date; others: start of first-line therapy, else diagnosis date
--   RFS, CIR         date of first CR/CRh/CRi (AML, APL, ALL)
--   TTNT             start of first-line therapy (treated patients only)
-- Censoring: OS, RFS, CIR, TTNT, LFS at last contact; EFS and PFS at the last response assessment
-- (last contact when there is none).
-- EFS (AML/APL/ALL, ELN 2022): no CR/CRh/CRi within var('efs_landmark_days') of the origin is an event;
-- var('efs_refractory_event') = 'day1' puts it at day 1 (ELN 2022), 'assessment' at the first assessment
-- showing refractory disease (NR/refractory/PD), else the last assessment within the landmark. A patient
-- who dies before the landmark without CR has the event at death; one still followed without CR and
-- without reaching the landmark is censored at the last assessment.
{% set refractory_at = var('efs_refractory_event', 'day1') %}
{% if refractory_at not in ('day1', 'assessment') %}
    {{ exceptions.raise_compiler_error("var efs_refractory_event must be 'day1' or 'assessment', got " ~ refractory_at) }}
{% endif %}
{{ config(materialized='incremental', unique_key='patient_key') }}
with follow_up as (
    select
        patient_key,
        max(last_contact_date) as last_contact_date,
        bool_or(vital_status = 'dead') as dead,
        min(death_date) as death_date
    from {{ ref('stg_follow_up') }}
    where {{ changed('patient_key') }}
    group by patient_key
),

response as (
    select distinct patient_key, response, assessment_date from {{ ref('stg_response') }}
    where {{ changed('patient_key') }}
),

later_diagnosis as (
    -- an AML diagnosis recorded for the same source patient counts as transformation of MDS
    select patient_key, min(diagnosis_date) as aml_diagnosis_date
    from {{ ref('stg_diagnosis') }}
    where disease = 'AML' and {{ changed('patient_key') }}
    group by patient_key
),

base as (
    select
        pd.person_hash,
        pd.source_id,
        pd.patient_key,
        pd.disease,
        pd.provider_kind,
        pd.diagnosis_date,
        pd.origin_date as os_origin_date,
        pd.origin_kind as os_origin_kind,
        case when pd.origin_kind = 'index_date' then pd.index_date else coalesce(t.first_line_start, pd.diagnosis_date) end
            as treatment_origin_date,
        case when pd.origin_kind = 'index_date' then 'index_date'
             when t.first_line_start is not null then 'treatment_start' else 'diagnosis_date' end
            as treatment_origin_kind,
        t.first_line_start,
        t.second_line_start,
        f.last_contact_date,
        coalesce(f.dead, false) as dead,
        case when f.dead then coalesce(f.death_date, f.last_contact_date) end as death_date,
        greatest(f.last_contact_date, f.death_date) as last_known_date
    from {{ ref('patient_disease') }} as pd
    left join {{ ref('treatment_lines') }} as t on pd.patient_key = t.patient_key
    left join follow_up as f on pd.patient_key = f.patient_key
    where {{ changed('pd.patient_key') }}
),

events as (
    select
        b.patient_key,
        b.disease,
        min(r.assessment_date) filter (
            where r.response in ('sCR', 'CR', 'CRh', 'CRi') and r.assessment_date >= b.treatment_origin_date
        ) as first_cr_date,
        min(r.assessment_date) filter (
            where r.response in ('sCR', 'CR', 'CRh', 'CRi') and r.assessment_date >= b.treatment_origin_date
              and r.assessment_date <= b.treatment_origin_date + {{ var('efs_landmark_days', 180) }}
        ) as landmark_cr_date,
        min(r.assessment_date) filter (
            where r.response in ('NR', 'refractory', 'PD') and r.assessment_date >= b.treatment_origin_date
        ) as first_refractory_date,
        max(r.assessment_date) filter (
            where r.response not in ('relapse', 'progression', 'aml_transformation')
              and r.assessment_date <= b.treatment_origin_date + {{ var('efs_landmark_days', 180) }}
        ) as last_landmark_assessment,
        max(r.assessment_date) filter (where r.assessment_date >= b.treatment_origin_date) as last_assessment_date,
        min(r.assessment_date) filter (
            where r.response in ('progression', 'PD', 'relapse') and r.assessment_date > b.treatment_origin_date
        ) as first_progression_date,
        min(r.assessment_date) filter (where r.response = 'aml_transformation') as transformation_date
    from base as b
    left join response as r on b.patient_key = r.patient_key
    group by b.patient_key, b.disease
),

relapse as (
    select
        e.patient_key,
        e.disease,
        min(r.assessment_date) as relapse_date
    from events as e
    inner join response as r
        on e.patient_key = r.patient_key and r.response = 'relapse' and r.assessment_date > e.first_cr_date
    group by e.patient_key, e.disease
),

assembled as (
    select
        b.*,
        e.first_cr_date,
        e.landmark_cr_date,
        e.first_refractory_date,
        e.last_landmark_assessment,
        e.last_assessment_date,
        e.first_progression_date,
        least(e.transformation_date, case when ld.aml_diagnosis_date > b.diagnosis_date then ld.aml_diagnosis_date end)
            as transformation_date,
        rl.relapse_date,
        b.treatment_origin_date + {{ var('efs_landmark_days', 180) }} as landmark_date,
        coalesce(e.last_assessment_date, b.last_known_date) as assessment_censor_date
    from base as b
    left join events as e on b.patient_key = e.patient_key and b.disease = e.disease
    left join relapse as rl on b.patient_key = rl.patient_key and b.disease = rl.disease
    left join later_diagnosis as ld on b.patient_key = ld.patient_key and b.disease = 'MDS'
),

endpoint_dates as (
    select
        *,
        -- OS
        case when dead then death_date else last_known_date end as os_end,
        -- EFS (AML, APL, ALL)
        case
            when disease not in ('AML', 'APL', 'ALL') then null
            when landmark_cr_date is not null then least(
                relapse_date, death_date, case when relapse_date is null and not dead then assessment_censor_date end
            )
            when dead and death_date <= landmark_date then death_date
            when first_refractory_date is not null or last_known_date >= landmark_date then
                {% if refractory_at == 'day1' %}treatment_origin_date + 1
                {% else %}coalesce(first_refractory_date, last_landmark_assessment, landmark_date){% endif %}
            else assessment_censor_date
        end as efs_end,
        case
            when disease not in ('AML', 'APL', 'ALL') then null
            when landmark_cr_date is not null then relapse_date is not null or dead
            when dead and death_date <= landmark_date then true
            when first_refractory_date is not null or last_known_date >= landmark_date then true
            else false
        end as efs_event_flag,
        -- PFS (MM, CLL, NHL)
        case
            when disease not in ('MM', 'CLL', 'NHL') then null
            when first_progression_date is not null then least(first_progression_date, death_date)
            when dead then death_date
            else assessment_censor_date
        end as pfs_end,
        -- LFS (MDS)
        case
            when disease <> 'MDS' then null
            when transformation_date is not null then least(transformation_date, death_date)
            when dead then death_date
            else last_known_date
        end as lfs_end
    from assembled
)

select
    person_hash,
    source_id,
    patient_key,
    disease,
    provider_kind,
    os_origin_kind,
    os_origin_date,
    treatment_origin_kind,
    treatment_origin_date,
    last_known_date,
    -- overall survival
    case when os_end >= os_origin_date then datediff('day', os_origin_date, os_end) end as os_days,
    case when os_end >= os_origin_date then datediff('day', os_origin_date, os_end) / 30.4375 end as os_months,
    case when os_end >= os_origin_date then cast(dead as integer) end as os_event,
    -- event-free survival
    case when efs_end >= treatment_origin_date then datediff('day', treatment_origin_date, efs_end) / 30.4375 end
        as efs_months,
    case when efs_end >= treatment_origin_date then cast(efs_event_flag as integer) end as efs_event,
    '{{ refractory_at }}' as efs_refractory_convention,
    -- remission-based endpoints (patients with CR/CRh/CRi)
    first_cr_date,
    case when disease in ('AML', 'APL', 'ALL') and first_cr_date is not null
              and least(relapse_date, death_date, last_known_date) >= first_cr_date then
        datediff('day', first_cr_date, coalesce(least(relapse_date, death_date), last_known_date)) / 30.4375
    end as rfs_months,
    case when disease in ('AML', 'APL', 'ALL') and first_cr_date is not null
              and least(relapse_date, death_date, last_known_date) >= first_cr_date then
        cast(relapse_date is not null or dead as integer)
    end as rfs_event,
    -- cumulative incidence of relapse: 1 relapse, 2 death without relapse (competing), 0 censored
    case when disease in ('AML', 'APL', 'ALL') and first_cr_date is not null
              and least(relapse_date, death_date, last_known_date) >= first_cr_date then
        datediff('day', first_cr_date, coalesce(least(relapse_date, death_date), last_known_date)) / 30.4375
    end as cir_months,
    case when disease in ('AML', 'APL', 'ALL') and first_cr_date is not null
              and least(relapse_date, death_date, last_known_date) >= first_cr_date then
        case when relapse_date is not null and (death_date is null or relapse_date <= death_date) then 1
             when dead then 2 else 0 end
    end as cir_event,
    relapse_date,
    -- progression-free survival and time to next treatment
    case when pfs_end >= treatment_origin_date then datediff('day', treatment_origin_date, pfs_end) / 30.4375 end
        as pfs_months,
    case when pfs_end >= treatment_origin_date then
        cast(first_progression_date is not null or dead as integer)
    end as pfs_event,
    case when first_line_start is not null
              and coalesce(least(second_line_start, death_date), last_known_date) >= first_line_start then
        datediff('day', first_line_start, coalesce(least(second_line_start, death_date), last_known_date)) / 30.4375
    end as ttnt_months,
    case when first_line_start is not null
              and coalesce(least(second_line_start, death_date), last_known_date) >= first_line_start then
        cast(second_line_start is not null or dead as integer)
    end as ttnt_event,
    -- leukaemia-free survival (MDS)
    case when lfs_end >= os_origin_date then datediff('day', os_origin_date, lfs_end) / 30.4375 end as lfs_months,
    case when lfs_end >= os_origin_date then cast(transformation_date is not null or dead as integer) end
        as lfs_event,
    transformation_date,
    -- early death within 30 / 60 days of the start of therapy (of the OS origin when untreated)
    {% for days in [30, 60] %}case
        when dead and datediff('day', coalesce(first_line_start, os_origin_date), death_date) <= {{ days }} then true
        when datediff('day', coalesce(first_line_start, os_origin_date), coalesce(death_date, last_known_date))
            > {{ days }} then false
        when not dead and datediff('day', coalesce(first_line_start, os_origin_date), last_known_date) >= {{ days }}
            then false
    end as early_death_{{ days }}d{{ ',' if not loop.last }}
    {% endfor %}
from endpoint_dates

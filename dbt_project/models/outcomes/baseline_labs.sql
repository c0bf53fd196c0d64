-- Baseline laboratory values per source patient, one column per canonical lab (canonical units).
-- Baseline = the value measured closest to the (first) diagnosis date; a value without a date counts as
-- measured at diagnosis. Ties go to the earlier measurement, then the lower value (deterministic).
-- ldh_ratio = LDH / upper limit of normal (clinical_rules.md expresses LDH cut-offs as ratio to ULN).
{% set labs = ['hb', 'plt', 'anc', 'wbc', 'bm_blasts', 'pb_blasts', 'b2m', 'albumin', 'ldh', 'ldh_uln',
               'creatinine', 'calcium', 'm_protein', 'mrd', 'ighv_identity'] %}
{{ config(materialized='incremental', unique_key='patient_key') }}
with first_diagnosis as (
    select patient_key, min(diagnosis_date) as diagnosis_date
    from {{ ref('stg_diagnosis') }}
    where {{ changed('patient_key') }}
    group by patient_key
),

baseline as (
    select l.patient_key, l.lab, l.value
    from {{ ref('stg_lab_result') }} as l
    left join first_diagnosis as d on l.patient_key = d.patient_key
    where {{ changed('l.patient_key') }}
    qualify row_number() over (
        partition by l.patient_key, l.lab
        order by abs(datediff('day', coalesce(l.measured_date, d.diagnosis_date), d.diagnosis_date)) nulls last,
            l.measured_date nulls first, l.value
    ) = 1
)

select
    patient_key,
    {% for lab in labs %}max(value) filter (where lab = '{{ lab }}') as {{ lab }},
    {% endfor %}max(value) filter (where lab = 'ldh') / nullif(max(value) filter (where lab = 'ldh_uln'), 0)
        as ldh_ratio
from baseline
group by patient_key

-- Myeloma staging per source patient: ISS, R-ISS, R2-ISS (macros/risk/myeloma.sql).
-- Incremental: computed once per changed patient, not in every mart that reads it (macros/incremental.sql).
{{ config(materialized='incremental', unique_key='patient_key') }}
with iss as (
    select
        *,
        {{ iss_stage('b2m', 'albumin') }} as iss
    from {{ ref('patient_features') }}
    where disease = 'MM' and {{ changed('patient_key') }}
)

select
    patient_key,
    disease,
    iss as iss_stage,
    {{ riss_stage('iss', 'high_risk_fish', 'ldh_high') }} as riss_stage,
    {{ r2iss_score('iss', 'del17p', 'ldh_high', 'fish_t_4_14', 'fish_gain_1q') }} as r2iss_score,
    {{ r2iss_stage(r2iss_score('iss', 'del17p', 'ldh_high', 'fish_t_4_14', 'fish_gain_1q')) }} as r2iss_stage
from iss

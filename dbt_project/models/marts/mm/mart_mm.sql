-- Patient-level multiple myeloma mart: one row per source patient with MM.
-- Incremental: the changed persons' rows are rebuilt (macros/incremental.sql).
{{ config(materialized='incremental', unique_key='person_hash') }}
select
    {{ mart_identity_columns() }},
    f.b2m,
    f.albumin,
    f.ldh_ratio,
    f.ldh_high,
    f.del17p,
    f.fish_t_4_14 as t_4_14,
    f.fish_t_14_16 as t_14_16,
    f.fish_gain_1q as gain_1q,
    f.high_risk_fish,
    r.iss_stage,
    r.riss_stage,
    r.r2iss_score,
    r.r2iss_stage,
    {{ mart_treatment_columns() }},
    {{ mart_endpoint_columns(['pfs', 'ttnt']) }}
from {{ ref('patient_features') }} as f
inner join {{ ref('risk_mm') }} as r on f.patient_key = r.patient_key and f.disease = r.disease
{{ mart_joins() }}
-- the changed filter on both sides: each scan reads only the changed patients
where {{ changed('f.patient_key') }} and {{ changed('r.patient_key') }}

-- Patient-level ALL mart: one row per source patient with ALL (children and adults).
-- Incremental: the changed persons' rows are rebuilt (macros/incremental.sql).
{{ config(materialized='incremental', unique_key='person_hash') }}
select
    {{ mart_identity_columns() }},
    f.age_at_diagnosis < 18 as is_paediatric,
    f.is_b_all,
    f.wbc,
    f.hb,
    f.plt,
    f.bm_blasts,
    f.fish_t_9_22 as bcr_abl1,
    f.fish_t_12_21 as etv6_runx1,
    f.fish_kmt2a_rearranged as kmt2a_rearranged,
    f.mrd,
    r.nci_group,
    {{ mart_treatment_columns() }},
    e.first_cr_date is not null as achieved_cr,
    {{ mart_endpoint_columns(['efs', 'rfs']) }}
from {{ ref('patient_features') }} as f
inner join {{ ref('risk_all') }} as r on f.patient_key = r.patient_key and f.disease = r.disease
{{ mart_joins() }}
-- the changed filter on both sides: each scan reads only the changed patients
where {{ changed('f.patient_key') }} and {{ changed('r.patient_key') }}

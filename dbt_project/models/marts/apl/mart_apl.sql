-- Patient-level APL mart: one row per source patient with acute promyelocytic leukaemia.
-- Incremental: the changed persons' rows are rebuilt (macros/incremental.sql).
{{ config(materialized='incremental', unique_key='person_hash') }}
select
    {{ mart_identity_columns() }},
    f.wbc,
    f.plt,
    f.hb,
    f.t_15_17,
    f.flt3_itd,
    r.sanz_group,
    {{ mart_treatment_columns() }},
    e.first_cr_date is not null as achieved_cr,
    {{ mart_endpoint_columns(['efs', 'rfs']) }},
    e.cir_months,
    e.cir_event
from {{ ref('patient_features') }} as f
inner join {{ ref('risk_apl') }} as r on f.patient_key = r.patient_key and f.disease = r.disease
{{ mart_joins() }}
-- the changed filter on both sides: each scan reads only the changed patients
where {{ changed('f.patient_key') }} and {{ changed('r.patient_key') }}

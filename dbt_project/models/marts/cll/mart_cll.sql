-- Patient-level CLL mart: one row per source patient with CLL.
-- Incremental: the changed persons' rows are rebuilt (macros/incremental.sql).
{{ config(materialized='incremental', unique_key='person_hash') }}
select
    {{ mart_identity_columns() }},
    f.b2m,
    f.binet_stage,
    f.rai_stage,
    f.del17p,
    f.tp53_mut,
    f.cll_tp53_abnormal as tp53_abnormal,
    f.ighv_identity,
    f.ighv_unmutated,
    r.cll_ipi_score,
    r.cll_ipi_group,
    {{ mart_treatment_columns() }},
    {{ mart_endpoint_columns(['pfs', 'ttnt']) }}
from {{ ref('patient_features') }} as f
inner join {{ ref('risk_cll') }} as r on f.patient_key = r.patient_key and f.disease = r.disease
{{ mart_joins() }}
-- the changed filter on both sides: each scan reads only the changed patients
where {{ changed('f.patient_key') }} and {{ changed('r.patient_key') }}

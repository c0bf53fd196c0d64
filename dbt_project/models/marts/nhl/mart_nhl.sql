-- Patient-level lymphoma mart: one row per source patient with non-Hodgkin lymphoma.
-- Incremental: the changed persons' rows are rebuilt (macros/incremental.sql).
{{ config(materialized='incremental', unique_key='person_hash') }}
select
    {{ mart_identity_columns() }},
    f.ann_arbor_stage,
    f.ecog,
    f.ldh_ratio,
    f.extranodal_sites,
    f.nccn_extranodal,
    f.nodal_areas,
    f.hb,
    f.b_symptoms,
    r.ipi_score,
    r.ipi_group,
    r.nccn_ipi_score,
    r.nccn_ipi_group,
    r.flipi_score,
    r.flipi_group,
    {{ mart_treatment_columns() }},
    {{ mart_endpoint_columns(['pfs', 'ttnt']) }}
from {{ ref('patient_features') }} as f
inner join {{ ref('risk_nhl') }} as r on f.patient_key = r.patient_key and f.disease = r.disease
{{ mart_joins() }}
-- the changed filter on both sides: each scan reads only the changed patients
where {{ changed('f.patient_key') }} and {{ changed('r.patient_key') }}

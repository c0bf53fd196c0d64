-- Patient-level paediatric mart: every source patient diagnosed before age 18, any disease, with the
-- disease's main risk classification in one pair of columns (risk_classification, risk_group).
-- Incremental: the changed persons' rows are rebuilt (macros/incremental.sql).
{{ config(materialized='incremental', unique_key='person_hash') }}
with every_risk as (
    select patient_key, disease, 'NCI' as risk_classification, nci_group as risk_group from {{ ref('risk_all') }}
    union all
    select patient_key, disease, 'ELN 2022', eln2022_group from {{ ref('risk_aml') }}
    union all
    select patient_key, disease, 'Sanz', sanz_group from {{ ref('risk_apl') }}
    union all
    select patient_key, disease, 'IPSS-R', ipssr_group from {{ ref('risk_mds') }}
    union all
    select patient_key, disease, 'CLL-IPI', cll_ipi_group from {{ ref('risk_cll') }}
    union all
    select patient_key, disease, 'R-ISS', riss_stage from {{ ref('risk_mm') }}
    union all
    select patient_key, disease, coalesce(case when flipi_group is not null then 'FLIPI' end, 'IPI'),
        coalesce(flipi_group, ipi_group)
    from {{ ref('risk_nhl') }}
),

risk as (
    select * from every_risk where {{ changed('patient_key') }}  -- so each scan reads only the changed patients
)

select
    {{ mart_identity_columns() }},
    f.disease,
    f.wbc,
    f.hb,
    f.plt,
    r.risk_classification,
    r.risk_group,
    {{ mart_treatment_columns() }},
    e.first_cr_date is not null as achieved_cr,
    {{ mart_endpoint_columns(['efs']) }}
from {{ ref('patient_features') }} as f
left join risk as r on f.patient_key = r.patient_key and f.disease = r.disease
{{ mart_joins() }}
where f.age_at_diagnosis < 18 and {{ changed('f.patient_key') }}

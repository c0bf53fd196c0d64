-- ALL: NCI/Rome risk for B-ALL aged 1-18 (macros/risk/lymphoid.sql).
{{ config(materialized='view') }}  -- a projection of patient_features: computed where read
select
    patient_key,
    disease,
    {{ nci_risk('age_at_diagnosis', 'wbc', 'is_b_all') }} as nci_group
from {{ ref('patient_features') }}
where disease = 'ALL'

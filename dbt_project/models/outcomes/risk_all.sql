-- ALL: NCI/Rome risk for B-ALL aged 1-18 (macros/risk/lymphoid.sql).
-- Incremental: computed once per changed patient, not in every mart that reads it (macros/incremental.sql).
{{ config(materialized='incremental', unique_key='patient_key') }}
select
    patient_key,
    disease,
    {{ nci_risk('age_at_diagnosis', 'wbc', 'is_b_all') }} as nci_group
from {{ ref('patient_features') }}
where disease = 'ALL' and {{ changed('patient_key') }}

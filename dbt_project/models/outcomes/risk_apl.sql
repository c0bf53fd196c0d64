-- APL relapse risk per source patient: Sanz score (macros/risk/aml.sql).
-- Incremental: computed once per changed patient, not in every mart that reads it (macros/incremental.sql).
{{ config(materialized='incremental', unique_key='patient_key') }}
select
    patient_key,
    disease,
    {{ sanz_risk('wbc', 'plt') }} as sanz_group
from {{ ref('patient_features') }}
where disease = 'APL' and {{ changed('patient_key') }}

-- APL relapse risk per source patient: Sanz score (macros/risk/aml.sql).
{{ config(materialized='view') }}  -- a projection of patient_features: computed where read
select
    patient_key,
    disease,
    {{ sanz_risk('wbc', 'plt') }} as sanz_group
from {{ ref('patient_features') }}
where disease = 'APL'

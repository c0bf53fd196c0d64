-- APL relapse risk per source patient: Sanz score (macros/risk/aml.sql).
select
    patient_key,
    disease,
    {{ sanz_risk('wbc', 'plt') }} as sanz_group
from {{ ref('patient_features') }}
where disease = 'APL'

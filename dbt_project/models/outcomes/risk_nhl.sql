-- Lymphoma indices per source patient (macros/risk/lymphoid.sql). The IPI is computed for every subtype
-- (it is used across aggressive and indolent lymphomas), the NCCN-IPI only for DLBCL (the population it
-- was built and validated on, Zhou et al., Blood 2014) and the FLIPI only for follicular lymphoma.
-- Incremental: computed once per changed patient, not in every mart that reads it (macros/incremental.sql).
{{ config(materialized='incremental', unique_key='patient_key') }}
with scores as (
    select
        patient_key,
        disease,
        coalesce(upper(disease_subtype) like 'FL%' or disease_subtype ilike '%follicular%', false) as is_fl,
        coalesce(upper(disease_subtype) like 'DLBCL%' or disease_subtype ilike '%diffuse large%', false)
            as is_dlbcl,
        {{ ipi_score('age_at_diagnosis', 'ldh_ratio', 'ecog', 'ann_arbor_stage', 'extranodal_sites') }} as ipi,
        {{ nccn_ipi_score('age_at_diagnosis', 'ldh_ratio', 'ann_arbor_stage', 'nccn_extranodal', 'ecog') }} as nccn,
        {{ flipi_score('age_at_diagnosis', 'ann_arbor_stage', 'hb', 'ldh_ratio', 'nodal_areas') }} as flipi
    from {{ ref('patient_features') }}
    where disease = 'NHL' and {{ changed('patient_key') }}
)

select
    patient_key,
    disease,
    ipi as ipi_score,
    {{ ipi_group('ipi') }} as ipi_group,
    case when is_dlbcl then nccn end as nccn_ipi_score,
    case when is_dlbcl then {{ nccn_ipi_group('nccn') }} end as nccn_ipi_group,
    case when is_fl then flipi end as flipi_score,
    case when is_fl then {{ flipi_group('flipi') }} end as flipi_group
from scores

-- Lymphoma indices per source patient (macros/risk/lymphoid.sql). IPI and NCCN-IPI were built for
-- aggressive lymphoma (DLBCL) and FLIPI for follicular lymphoma: FLIPI only for subtype FL, IPI and
-- NCCN-IPI for every other subtype.
with scores as (
    select
        patient_key,
        disease,
        coalesce(upper(disease_subtype) like 'FL%' or disease_subtype ilike '%follicular%', false) as is_fl,
        {{ ipi_score('age_at_diagnosis', 'ldh_ratio', 'ecog', 'ann_arbor_stage', 'extranodal_sites') }} as ipi,
        {{ nccn_ipi_score('age_at_diagnosis', 'ldh_ratio', 'ann_arbor_stage', 'nccn_extranodal', 'ecog') }} as nccn,
        {{ flipi_score('age_at_diagnosis', 'ann_arbor_stage', 'hb', 'ldh_ratio', 'nodal_areas') }} as flipi
    from {{ ref('patient_features') }}
    where disease = 'NHL'
)

select
    patient_key,
    disease,
    case when not is_fl then ipi end as ipi_score,
    case when not is_fl then {{ ipi_group('ipi') }} end as ipi_group,
    case when not is_fl then nccn end as nccn_ipi_score,
    case when not is_fl then {{ nccn_ipi_group('nccn') }} end as nccn_ipi_group,
    case when is_fl then flipi end as flipi_score,
    case when is_fl then {{ flipi_group('flipi') }} end as flipi_group
from scores

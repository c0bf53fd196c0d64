-- CLL-IPI per source patient (macros/risk/lymphoid.sql).
{{ config(materialized='view') }}  -- a projection of patient_features: computed where read
select
    patient_key,
    disease,
    {{ cll_ipi_score('cll_tp53_abnormal', 'ighv_unmutated', 'b2m', 'cll_stage_advanced', 'age_at_diagnosis') }}
        as cll_ipi_score,
    {{ cll_ipi_group(cll_ipi_score('cll_tp53_abnormal', 'ighv_unmutated', 'b2m', 'cll_stage_advanced',
                                   'age_at_diagnosis')) }} as cll_ipi_group
from {{ ref('patient_features') }}
where disease = 'CLL'

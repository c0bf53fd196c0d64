-- CLL-IPI per source patient (macros/risk/lymphoid.sql).
-- Incremental: computed once per changed patient, not in every mart that reads it (macros/incremental.sql).
{{ config(materialized='incremental', unique_key='patient_key') }}
select
    patient_key,
    disease,
    {{ cll_ipi_score('cll_tp53_abnormal', 'ighv_unmutated', 'b2m', 'cll_stage_advanced', 'age_at_diagnosis') }}
        as cll_ipi_score,
    {{ cll_ipi_group(cll_ipi_score('cll_tp53_abnormal', 'ighv_unmutated', 'b2m', 'cll_stage_advanced',
                                   'age_at_diagnosis')) }} as cll_ipi_group
from {{ ref('patient_features') }}
where disease = 'CLL' and {{ changed('patient_key') }}

-- AML genetic risk per source patient: ELN 2022 and ELN 2017 (macros in macros/risk/aml.sql).
-- Incremental: computed once per changed patient, not in every mart that reads it (macros/incremental.sql).
{{ config(materialized='incremental', unique_key='patient_key') }}
{% set g = {
    'cbf': 'cbf', 't_9_11': 't_9_11', 'adverse_cyto': 'adverse_cyto_2022', 'adverse_cyto_2017': 'adverse_cyto_2017',
    'karyotype_known': 'karyotype_known', 'npm1': 'npm1_mut', 'flt3_itd': 'flt3_itd',
    'flt3_itd_ratio': 'flt3_itd_ratio', 'cebpa_bzip': 'cebpa_bzip', 'tp53': 'tp53_mut', 'tp53_vaf': 'tp53_max_vaf',
    'mds_genes': 'eln_mds_genes', 'runx1': 'runx1_mut', 'asxl1': 'asxl1_mut', 'kmt2a_ptd': 'kmt2a_ptd'} %}
select
    patient_key,
    disease,
    {{ eln2022_risk(g) }} as eln2022_group,
    {{ eln2017_risk(g) }} as eln2017_group
from {{ ref('patient_features') }}
where disease = 'AML' and {{ changed('patient_key') }}

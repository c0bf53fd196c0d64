-- Patient-level AML mart: one row per source patient with AML (APL has its own mart).
-- Incremental: the changed persons' rows are rebuilt (macros/incremental.sql).
{{ config(materialized='incremental', unique_key='person_hash') }}
select
    {{ mart_identity_columns() }},
    f.wbc,
    f.hb,
    f.plt,
    f.bm_blasts,
    f.pb_blasts,
    f.karyotype_abnormalities,
    f.complex_karyotype,
    f.monosomal_karyotype,
    f.cbf,
    f.adverse_cyto_2022 as adverse_cytogenetics,
    f.npm1_mut,
    f.flt3_itd,
    f.flt3_itd_ratio,
    f.flt3_tkd,
    f.cebpa_bzip,
    f.tp53_mut,
    f.tp53_max_vaf,
    f.runx1_mut,
    f.asxl1_mut,
    f.eln_mds_genes as eln_myelodysplasia_gene_mut,
    r.eln2022_group,
    r.eln2017_group,
    {{ mart_treatment_columns() }},
    e.first_cr_date is not null as achieved_cr,
    {{ mart_endpoint_columns(['efs', 'rfs']) }},
    e.cir_months,
    e.cir_event,
    e.efs_refractory_convention
from {{ ref('patient_features') }} as f
inner join {{ ref('risk_aml') }} as r on f.patient_key = r.patient_key and f.disease = r.disease
{{ mart_joins() }}
-- the changed filter on both sides: each scan reads only the changed patients
where {{ changed('f.patient_key') }} and {{ changed('r.patient_key') }}

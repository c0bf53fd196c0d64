-- Patient-level MDS mart: one row per source patient with MDS. Columns documented in _mart_mds.yml.
-- Incremental: the changed persons' rows are rebuilt (macros/incremental.sql).
{{ config(materialized='incremental', unique_key='person_hash') }}
select
    {{ mart_identity_columns() }},
    f.hb,
    f.plt,
    f.anc,
    f.bm_blasts,
    f.karyotype_abnormalities,
    f.n_abnormalities as karyotype_n_abnormalities,
    f.ipssr_cyto_category,
    f.tp53_mut,
    f.tp53multi,
    f.sf3b1_mut,
    f.asxl1_mut,
    f.runx1_mut,
    f.srsf2_mut,
    r.ipssr_score,
    r.ipssr_group,
    r.ipssra_score,
    r.ipssra_group,
    r.ipssm_score,
    r.ipssm_group,
    r.ipssm_score_best,
    r.ipssm_group_best,
    r.ipssm_score_worst,
    r.ipssm_group_worst,
    r.ipss_score,
    r.ipss_group,
    {{ mart_treatment_columns() }},
    {{ mart_endpoint_columns(['lfs']) }}
from {{ ref('patient_features') }} as f
inner join {{ ref('risk_mds') }} as r on f.patient_key = r.patient_key and f.disease = r.disease
{{ mart_joins() }}
-- the changed filter on both sides: each scan reads only the changed patients
where {{ changed('f.patient_key') }} and {{ changed('r.patient_key') }}

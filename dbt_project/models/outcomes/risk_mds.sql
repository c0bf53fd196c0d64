-- MDS risk scores and groups per source patient (macros in macros/risk/mds.sql).
-- Incremental: computed once per changed patient, not in every mart that reads it (macros/incremental.sql).
{{ config(materialized='incremental', unique_key='patient_key') }}
{% set genes = {
    'tp53multi': 'tp53multi', 'flt3': 'flt3_mut', 'kmt2a_ptd': 'kmt2a_ptd', 'sf3b1_5q': 'sf3b1_5q',
    'npm1': 'npm1_mut', 'runx1': 'runx1_mut', 'nras': 'nras_mut', 'etv6': 'etv6_mut', 'idh2': 'idh2_mut',
    'cbl': 'cbl_mut', 'ezh2': 'ezh2_mut', 'u2af1': 'u2af1_mut', 'srsf2': 'srsf2_mut', 'dnmt3a': 'dnmt3a_mut',
    'asxl1': 'asxl1_mut', 'kras': 'kras_mut'} %}
with scored as (
    select
        patient_key,
        disease,
        {{ ipssr_score('ipssr_cyto_points', 'bm_blasts', 'hb', 'plt', 'anc') }} as ipssr_score,
        {{ ipss_score('bm_blasts', 'ipss_karyotype', 'hb', 'anc', 'plt') }} as ipss_score,
        {% for scenario in ['mean', 'best', 'worst'] %}{{ ipssm_score(scenario, 'hb', 'plt', 'bm_blasts',
            'ipssr_cyto_points', genes, 'sf3b1_alpha', 'nres2_mutated', 'nres2_missing') }} as ipssm_score_{{ scenario }},
        {% endfor %}
        age_at_diagnosis
    from {{ ref('patient_features') }}
    where disease = 'MDS' and {{ changed('patient_key') }}
)

select
    patient_key,
    disease,
    ipssr_score,
    {{ ipssr_group('ipssr_score') }} as ipssr_group,
    {{ ipssra_score('ipssr_score', 'age_at_diagnosis') }} as ipssra_score,
    {{ ipssr_group(ipssra_score('ipssr_score', 'age_at_diagnosis')) }} as ipssra_group,
    ipssm_score_mean as ipssm_score,
    {{ ipssm_group('ipssm_score_mean') }} as ipssm_group,
    ipssm_score_best,
    {{ ipssm_group('ipssm_score_best') }} as ipssm_group_best,
    ipssm_score_worst,
    {{ ipssm_group('ipssm_score_worst') }} as ipssm_group_worst,
    ipss_score,
    {{ ipss_group('ipss_score') }} as ipss_group
from scored

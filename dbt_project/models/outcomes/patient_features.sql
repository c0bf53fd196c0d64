-- Every risk input per source patient and disease: demographics, baseline labs, genes, cytogenetics
-- (karyotype + FISH combined), stage; plus the derived inputs the classifications need.
-- Booleans: TRUE present, FALSE known absent, NULL unknown (never guessed).
{% set ipssm_residual = ['bcor', 'bcorl1', 'cebpa', 'etnk1', 'gata2', 'gnb1', 'idh1', 'nf1', 'phf6', 'ppm1d',
                         'prpf8', 'ptpn11', 'setbp1', 'stag2', 'wt1'] %}
{% set eln_mds_mut = ['asxl1_mut', 'bcor_mut', 'ezh2_mut', 'runx1_mut', 'sf3b1_mut', 'srsf2_mut', 'stag2_mut',
                      'u2af1_mut', 'zrsr2_mut'] %}
{{ config(materialized='incremental', unique_key='patient_key') }}
with joined as (
    select
        pd.*,
        l.* exclude (patient_key),
        g.* exclude (patient_key),
        c.* exclude (patient_key),
        s.* exclude (patient_key),
        coalesce(c.karyotype_abnormalities, '') as abn_list
    from {{ ref('patient_disease') }} as pd
    left join {{ ref('baseline_labs') }} as l on pd.patient_key = l.patient_key
    left join {{ ref('baseline_genetics') }} as g on pd.patient_key = g.patient_key
    left join {{ ref('baseline_cytogenetics') }} as c on pd.patient_key = c.patient_key
    left join {{ ref('baseline_staging') }} as s on pd.patient_key = s.patient_key
    where {{ changed('pd.patient_key') }}
),

derived as (
    select
        *,
        coalesce(karyotype_parsed, false) as karyotype_known,
        -- AML lesions by any method
        {{ any_known(['kary_t_8_21', 'fish_t_8_21', 'kary_inv16', 'fish_inv16']) }} as cbf,
        {{ any_known(['kary_t_9_11', 'fish_t_9_11']) }} as t_9_11,
        {{ any_known(['kary_t_15_17', 'fish_t_15_17']) }} as t_15_17,
        {{ any_known(['kary_t_6_9', 'fish_t_6_9', 'kary_kmt2a_rearranged', 'fish_kmt2a_rearranged',
                      'kary_t_9_22', 'fish_t_9_22', 'kary_t_8_16', 'fish_t_8_16', 'kary_inv3_t33',
                      'fish_inv3_t33', 'kary_mecom_rearranged', 'fish_mecom_rearranged', 'kary_minus5_del5q',
                      'fish_minus5_del5q', 'kary_minus7', 'fish_minus7', 'kary_abn17p', 'fish_del17p',
                      'kary_eln_complex', 'fish_complex',
                      'case when karyotype_parsed then monosomal_karyotype end']) }} as adverse_cyto_2022,
        {{ any_known(['kary_t_6_9', 'fish_t_6_9', 'kary_kmt2a_rearranged', 'fish_kmt2a_rearranged',
                      'kary_t_9_22', 'fish_t_9_22', 'kary_inv3_t33', 'fish_inv3_t33', 'kary_minus5_del5q',
                      'fish_minus5_del5q', 'kary_minus7', 'fish_minus7', 'kary_abn17p', 'fish_del17p',
                      'kary_eln_complex', 'fish_complex',
                      'case when karyotype_parsed then monosomal_karyotype end']) }} as adverse_cyto_2017,
        {{ any_all_known(eln_mds_mut) }} as eln_mds_genes,
        -- myeloma / CLL lesions (FISH)
        {{ any_known(['fish_del17p']) }} as del17p,
        {{ any_all_known(['fish_del17p', 'fish_t_4_14', 'fish_t_14_16']) }} as high_risk_fish,
        ldh_ratio > 1 as ldh_high,
        {{ any_known(['fish_del17p', 'tp53_mut']) }} as cll_tp53_abnormal,
        case when ighv_identity is not null then ighv_identity >= 98 else not ighv_mut end as ighv_unmutated,
        -- CLL-IPI clinical stage: Binet B/C when Binet is known, else Rai I-IV (the paper pooled trials staged
        -- with either system)
        case when binet_stage is not null then binet_stage in ('B', 'C') else rai_stage >= 1 end
            as cll_stage_advanced,
        -- MDS (IPSS-M derived inputs, Bernard 2022)
        case when karyotype_parsed then abn_list like '%del(5q)%' end as del5q,
        case when karyotype_parsed then kary_minus7 or kary_del7q end as chr7_abn,
        case when karyotype_parsed then complex_karyotype end as complex_known,
        case
            when tp53_mut is null then null
            when tp53_n_mutations_raw >= 2 then true
            when not tp53_mut then false
            when tp53_max_vaf > 0.55 or {{ any_known(['fish_del17p', "case when karyotype_parsed then abn_list like '%del(17p)%' end"]) }}
                then true
            when tp53_max_vaf is not null and
                {{ any_known(['fish_del17p', "case when karyotype_parsed then abn_list like '%del(17p)%' end"]) }} = false
                then false
        end as tp53multi,
        ({% for g in ipssm_residual %}cast(coalesce({{ g }}_mut, false) as integer){{ ' + ' if not loop.last }}{% endfor %})
            as nres2_mutated,
        ({% for g in ipssm_residual %}cast({{ g }}_mut is null as integer){{ ' + ' if not loop.last }}{% endfor %})
            as nres2_missing,
        disease_subtype ilike 'B%' or disease_subtype ilike '%B-cell%' or disease_subtype ilike '%BCP%'
            as is_b_all
    from joined
),

with_5q as (
    select
        * exclude (abn_list),
        -- known false as soon as any condition rules it out, even with SF3B1 untested (as the
        -- authors' reference implementation does); true only when every condition is known to hold
        case
            when sf3b1_mut = false or del5q = false or chr7_abn or complex_known then false
            when sf3b1_mut and del5q and chr7_abn = false and complex_known = false then true
        end as sf3b1_5q
    from derived
)

-- SF3B1_alpha: SF3B1 mutated, not SF3B1_5q, none of SRSF2, STAG2, BCOR, BCORL1, RUNX1, NRAS (Bernard 2022)
select
    *,
    case
        when sf3b1_mut = false then false
        when sf3b1_mut and (sf3b1_5q or {{ any_known(['srsf2_mut', 'stag2_mut', 'bcor_mut', 'bcorl1_mut', 'runx1_mut', 'nras_mut']) }}) then false
        when sf3b1_mut and sf3b1_5q = false
            and {{ any_all_known(['srsf2_mut', 'stag2_mut', 'bcor_mut', 'bcorl1_mut', 'runx1_mut', 'nras_mut']) }} = false
            then true
    end as sf3b1_alpha
from with_5q

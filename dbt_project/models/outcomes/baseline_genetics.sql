-- Gene mutation status per source patient: TRUE mutated, FALSE tested wild type, NULL not tested.
-- Variant-specific flags: FLT3-ITD (with the highest allelic ratio), FLT3-TKD, KMT2A-PTD, CEBPA bZIP.
-- An IGHV row gives the CLL IGHV status
-- (IGHV 'mutated' = < 98% germline identity, CLL-IPI, Lancet Oncol 2016).
-- TP53 mutations are counted as distinct variants (IPSS-M TP53multi: two or more mutations).
{% set genes = ['TP53', 'FLT3', 'NPM1', 'CEBPA', 'KMT2A', 'SF3B1', 'RUNX1', 'NRAS', 'ETV6', 'IDH2', 'CBL',
                'EZH2', 'U2AF1', 'SRSF2', 'DNMT3A', 'ASXL1', 'KRAS', 'BCOR', 'BCORL1', 'ETNK1', 'GATA2',
                'GNB1', 'IDH1', 'NF1', 'PHF6', 'PPM1D', 'PRPF8', 'PTPN11', 'SETBP1', 'STAG2', 'WT1', 'ZRSR2',
                'KIT', 'IGHV', 'NOTCH1', 'SF3B1', 'MYD88', 'EZH2', 'TET2', 'JAK2'] | unique | list %}
{{ config(materialized='incremental', unique_key='patient_key') }}
with named as (
    -- sources spell variant-level markers either as gene + variant (FLT3 / ITD) or as one name
    -- (FLT3_ITD, FLT3-ITD, KMT2A_PTD, CEBPA_bZIP): bring both to gene + variant
    select
        *,
        regexp_extract(upper(trim(gene)), '^(FLT3|KMT2A|CEBPA)[_ -](ITD|TKD|PTD|BZIP)$', ['base', 'suffix'])
            as marker
    from {{ ref('stg_mutation') }}
    where {{ changed('patient_key') }}
),

mutation as (
    select
        patient_key,
        case when marker.base <> '' then marker.base else upper(trim(gene)) end as gene,
        status = 'mutated' as is_mutated,
        case when marker.base <> '' then marker.suffix else upper(coalesce(variant, '')) end as variant,
        vaf,
        allelic_ratio
    from named
)

select
    patient_key,
    {% for gene in genes %}bool_or(is_mutated) filter (where gene = '{{ gene }}') as {{ gene | lower }}_mut,
    {% endfor %}
    -- Variant-level markers: TRUE when a row names the variant as mutated; FALSE when the variant (or the
    -- whole gene) was reported wild type and no row says mutated; NULL when the gene is only reported
    -- mutated without saying which variant (a FLT3 mutation may be a TKD, a KMT2A one need not be a PTD,
    -- a CEBPA one need not be bZIP): not decidable, so not guessed.
    {% for name, gene, pattern in [('flt3_itd', 'FLT3', '%ITD%'), ('flt3_tkd', 'FLT3', '%TKD%'),
                                   ('kmt2a_ptd', 'KMT2A', '%PTD%'), ('cebpa_bzip', 'CEBPA', '%BZIP%')] %}
    case
        when bool_or(is_mutated and (variant like '{{ pattern }}'
            {%- if name == 'cebpa_bzip' %} or variant like '%BIALLELIC%'{% endif %})) filter (where gene = '{{ gene }}')
            then true
        when bool_or(not is_mutated and variant like '{{ pattern }}') filter (where gene = '{{ gene }}') then false
        when count(*) filter (where gene = '{{ gene }}') > 0
            and not bool_or(is_mutated and variant = '') filter (where gene = '{{ gene }}') then false
    end as {{ name }},
    {% endfor %}
    max(allelic_ratio) filter (where gene = 'FLT3' and is_mutated and variant like '%ITD%') as flt3_itd_ratio,
    count(distinct variant) filter (where gene = 'TP53' and is_mutated) as tp53_n_mutations_raw,
    count(*) filter (where gene = 'TP53') > 0 as tp53_tested,
    max(vaf) filter (where gene = 'TP53' and is_mutated) as tp53_max_vaf
from mutation
group by patient_key

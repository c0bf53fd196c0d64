-- Gene mutation status per source patient: TRUE mutated, FALSE tested wild type, NULL not tested.
-- Variant-specific flags: FLT3-ITD (with the highest allelic ratio), FLT3-TKD, KMT2A-PTD, CEBPA bZIP.
-- A FLT3 test without an ITD row counts as ITD-negative; an IGHV row gives the CLL IGHV status
-- (IGHV 'mutated' = < 98% germline identity, CLL-IPI, Lancet Oncol 2016).
-- TP53 mutations are counted as distinct variants (IPSS-M TP53multi: two or more mutations).
{% set genes = ['TP53', 'FLT3', 'NPM1', 'CEBPA', 'KMT2A', 'SF3B1', 'RUNX1', 'NRAS', 'ETV6', 'IDH2', 'CBL',
                'EZH2', 'U2AF1', 'SRSF2', 'DNMT3A', 'ASXL1', 'KRAS', 'BCOR', 'BCORL1', 'ETNK1', 'GATA2',
                'GNB1', 'IDH1', 'NF1', 'PHF6', 'PPM1D', 'PRPF8', 'PTPN11', 'SETBP1', 'STAG2', 'WT1', 'ZRSR2',
                'KIT', 'IGHV', 'NOTCH1', 'SF3B1', 'MYD88', 'EZH2', 'TET2', 'JAK2'] | unique | list %}
with named as (
    -- sources spell variant-level markers either as gene + variant (FLT3 / ITD) or as one name
    -- (FLT3_ITD, FLT3-ITD, KMT2A_PTD, CEBPA_bZIP): bring both to gene + variant
    select
        *,
        regexp_extract(upper(trim(gene)), '^(FLT3|KMT2A|CEBPA)[_ -](ITD|TKD|PTD|BZIP)$', ['base', 'suffix'])
            as marker
    from {{ ref('stg_mutation') }}
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
    -- FLT3: ITD and TKD separately; tested FLT3 without an ITD call is ITD negative
    case
        when bool_or(is_mutated and variant like '%ITD%') filter (where gene = 'FLT3') then true
        when count(*) filter (where gene = 'FLT3') > 0 then false
    end as flt3_itd,
    max(allelic_ratio) filter (where gene = 'FLT3' and is_mutated and variant like '%ITD%') as flt3_itd_ratio,
    case
        when bool_or(is_mutated and variant like '%TKD%') filter (where gene = 'FLT3') then true
        when count(*) filter (where gene = 'FLT3') > 0 then false
    end as flt3_tkd,
    case
        when bool_or(is_mutated and variant like '%PTD%') filter (where gene = 'KMT2A') then true
        when count(*) filter (where gene = 'KMT2A') > 0 then false
    end as kmt2a_ptd,
    case
        when bool_or(is_mutated and (variant like '%BZIP%' or variant like '%BIALLELIC%')) filter (
            where gene = 'CEBPA'
        ) then true
        when count(*) filter (where gene = 'CEBPA') > 0 then false
    end as cebpa_bzip,
    count(distinct variant) filter (where gene = 'TP53' and is_mutated) as tp53_n_mutations_raw,
    count(*) filter (where gene = 'TP53') > 0 as tp53_tested,
    max(vaf) filter (where gene = 'TP53' and is_mutated) as tp53_max_vaf
from mutation
group by patient_key

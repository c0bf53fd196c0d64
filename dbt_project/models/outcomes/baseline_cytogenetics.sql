-- Cytogenetics per source patient: the parsed karyotype (karyotype_parsed, ISCN parser) and FISH /
-- molecular abnormalities reported present or absent (TRUE present, FALSE tested absent, NULL not tested).
-- One karyotype per patient: a readable one first, then the earliest test, then the latest delivery.
-- The IPSS-R cytogenetic category comes from the parsed karyotype, else from a category the source
-- delivered with IPSS-R spelling (Schanz 2012); nothing else is guessed.
{# Patterns match the abnormality name lower-cased with everything but letters, digits, + and - removed,
   so 't(4;14)', 'T 4;14', 't_4_14' and 't4_14' all read 't414'. #}
{% set fish = {
    'del17p': '^(del17p|abn17p|17p-|17pdel|-17$|monosomy17|tp53del)',
    't_4_14': '^t414|fgfr3|nsd2|whsc1|mmset',
    't_14_16': '^t1416|^maf$|ighmaf$',
    't_11_14': '^t1114|ccnd1',
    'gain_1q': '^(gain|amp|dup)1q|^\\+1q|^1q(\\+|gain|amp)',
    'del13q': '^del13q|^-13$|^13q-|^monosomy13',
    't_8_21': '^t821|runx1-?runx1t1',
    'inv16': '^inv16|^t1616|cbfb-?myh11',
    't_15_17': '^t1517|pml-?rara',
    't_9_22': '^t922|bcr-?abl1?$',
    't_9_11': '^t911|mllt3-?kmt2a',
    't_6_9': '^t69|dek-?nup214',
    't_8_16': '^t816|kat6a-?crebbp',
    'kmt2a_rearranged': '^kmt2a-?r|^kmt2arearr|^mll-?r|^tv11q23|^11q23|^t411$|^t1119$',
    'inv3_t33': '^inv3|^t33|gata2-?mecom',
    'mecom_rearranged': '^mecom-?r|^t3q26',
    'minus5_del5q': '^-5$|^del5q|^monosomy5',
    'minus7': '^-7$|^monosomy7',
    'del7q': '^del7q',
    't_12_21': '^t1221|etv6-?runx1',
    'complex': '^complex',
} %}
{{ config(materialized='incremental', unique_key='patient_key') }}
with karyotype as (
    select
        c.patient_key,
        c.karyotype,
        p.* exclude (karyotype)
    from {{ ref('stg_cytogenetics') }} as c
    left join {{ ref('karyotype_parsed') }} as p on c.karyotype = p.karyotype
    where c.method = 'karyotype' and c.karyotype is not null and {{ changed('c.patient_key') }}
    qualify row_number() over (
        partition by c.patient_key
        order by coalesce(p.parsed, false) desc, c.test_date nulls last, c.delivery_id desc, c.karyotype
    ) = 1
),

abnormality as (
    select
        patient_key,
        regexp_replace(regexp_replace(lower(abnormality), '[^a-z0-9+-]', '', 'g'), '^fish', '') as name,
        result = 'present' as present,
        result = 'absent' as absent
    from {{ ref('stg_cytogenetics') }}
    where abnormality is not null and result is not null and {{ changed('patient_key') }}
),

fish as (
    select
        patient_key,
        {% for flag, pattern in fish.items() %}case
            when bool_or(present) filter (where regexp_matches(name, '{{ pattern }}')) then true
            when bool_or(absent) filter (where regexp_matches(name, '{{ pattern }}')) then false
        end as fish_{{ flag }}{{ ',' if not loop.last }}
        {% endfor %}
    from abnormality
    group by patient_key
),

delivered_category as (
    select patient_key, replace(lower(trim(category)), '_', ' ') as category
    from {{ ref('stg_cytogenetics') }}
    where replace(lower(trim(category)), '_', ' ') in ('very good', 'good', 'intermediate', 'poor', 'very poor')
        and {{ changed('patient_key') }}
    qualify row_number() over (partition by patient_key order by test_date nulls last, delivery_id desc) = 1
),

patients as (
    select patient_key from karyotype
    union
    select patient_key from fish
    union
    select patient_key from delivered_category
)

select
    patients.patient_key,
    k.karyotype,
    coalesce(k.parsed, false) as karyotype_parsed,
    -- an unreadable karyotype (no growth, free text) says nothing: NULL, never a normal karyotype
    case when k.parsed then k.abnormalities end as karyotype_abnormalities,
    case when k.parsed then k.n_abnormalities end as n_abnormalities,
    case when k.parsed then k.complex end as complex_karyotype,
    case when k.parsed then k.monosomal end as monosomal_karyotype,
    k.ipss_karyotype,
    coalesce(k.ipssr_category, dc.category) as ipssr_cyto_category,
    coalesce(
        k.ipssr_points,
        case dc.category
            when 'very good' then 0 when 'good' then 1 when 'intermediate' then 2 when 'poor' then 3
            when 'very poor' then 4
        end
    ) as ipssr_cyto_points,
    {% for flag in ['t_8_21', 'inv16', 't_15_17', 't_9_11', 't_6_9', 'kmt2a_rearranged', 't_9_22', 't_8_16',
                    'inv3_t33', 'mecom_rearranged', 'minus5_del5q', 'minus7', 'del7q', 'abn17p',
                    'eln_complex'] %}case when k.parsed then k.{{ flag }} end as kary_{{ flag }},
    {% endfor %}
    {% for flag in fish %}f.fish_{{ flag }}{{ ',' if not loop.last }}
    {% endfor %}
from patients
left join karyotype as k on patients.patient_key = k.patient_key
left join fish as f on patients.patient_key = f.patient_key
left join delivered_category as dc on patients.patient_key = dc.patient_key

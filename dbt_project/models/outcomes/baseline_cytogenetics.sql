-- Cytogenetics per source patient: the parsed karyotype (karyotype_parsed, ISCN parser) and FISH /
-- molecular abnormalities reported present or absent (TRUE present, FALSE tested absent, NULL not tested).
-- One karyotype per patient: a readable one first, then the earliest test, then the latest delivery.
-- The IPSS-R cytogenetic category comes from the parsed karyotype, else from a category the source
-- delivered with IPSS-R spelling (Schanz 2012); nothing else is guessed.
{% set fish = {
    'del17p': '^(del\\(17p|del\\(17\\)\\(p|17p-|-17$|tp53del)',
    't_4_14': '^t\\(4;14\\)|fgfr3|nsd2|whsc1',
    't_14_16': '^t\\(14;16\\)|maf$|igh::maf$',
    't_11_14': '^t\\(11;14\\)|ccnd1',
    'gain_1q': '^(gain|amp|dup)\\(1q|^\\+1q|^1q(\\+|gain|amp)',
    'del13q': '^del\\(13q|^del\\(13\\)|^-13$|^13q-',
    't_8_21': '^t\\(8;21\\)|runx1::runx1t1|runx1-runx1t1',
    'inv16': '^inv\\(16\\)|^t\\(16;16\\)|cbfb::myh11|cbfb-myh11',
    't_15_17': '^t\\(15;17\\)|pml::rara|pml-rara',
    't_9_22': '^t\\(9;22\\)|bcr::abl1|bcr-abl1',
    't_9_11': '^t\\(9;11\\)|mllt3::kmt2a',
    't_6_9': '^t\\(6;9\\)|dek::nup214',
    't_8_16': '^t\\(8;16\\)|kat6a::crebbp',
    'kmt2a_rearranged': '^t\\(v;11q23|kmt2a[-:]|kmt2ar|^11q23',
    'inv3_t33': '^inv\\(3\\)|^t\\(3;3\\)|gata2,? ?mecom',
    'mecom_rearranged': '^t\\(3q26|mecom[-:]',
    'minus5_del5q': '^-5$|^del\\(5q|^del\\(5\\)',
    'minus7': '^-7$|^monosomy7',
    'del7q': '^del\\(7q|^del\\(7\\)',
    't_12_21': '^t\\(12;21\\)|etv6::runx1|etv6-runx1',
    'complex': '^complex',
} %}
with karyotype as (
    select
        c.patient_key,
        c.karyotype,
        p.* exclude (karyotype)
    from {{ ref('stg_cytogenetics') }} as c
    left join {{ ref('karyotype_parsed') }} as p on c.karyotype = p.karyotype
    where c.method = 'karyotype' and c.karyotype is not null
    qualify row_number() over (
        partition by c.patient_key
        order by coalesce(p.parsed, false) desc, c.test_date nulls last, c.delivery_id desc, c.karyotype
    ) = 1
),

abnormality as (
    select
        patient_key,
        lower(replace(abnormality, ' ', '')) as name,
        result = 'present' as present,
        result = 'absent' as absent
    from {{ ref('stg_cytogenetics') }}
    where abnormality is not null and result is not null
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
    select patient_key, lower(trim(category)) as category
    from {{ ref('stg_cytogenetics') }}
    where lower(trim(category)) in ('very good', 'good', 'intermediate', 'poor', 'very poor')
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
    k.abnormalities as karyotype_abnormalities,
    k.n_abnormalities,
    k.complex as complex_karyotype,
    k.monosomal as monosomal_karyotype,
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

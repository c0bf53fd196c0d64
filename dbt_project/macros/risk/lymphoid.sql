{#- CLL, lymphoma and ALL risk. Booleans TRUE present, FALSE known absent, NULL unknown. -#}

{#- CLL-IPI (International CLL-IPI working group, Lancet Oncol 2016;17:779): TP53 abnormal (del(17p)
    and/or TP53 mutation) 4; IGHV unmutated 2; B2M > 3.5 mg/L 2; Binet B/C or Rai I-IV 1; age > 65 1. -#}
{% macro cll_ipi_score(tp53_abnormal, ighv_unmutated, b2m, clinical_stage_advanced, age) -%}
    (
        case when {{ tp53_abnormal }} then 4 when not {{ tp53_abnormal }} then 0 end
        + case when {{ ighv_unmutated }} then 2 when not {{ ighv_unmutated }} then 0 end
        + case when {{ b2m }} > 3.5 then 2 when {{ b2m }} <= 3.5 then 0 end
        + case when {{ clinical_stage_advanced }} then 1 when not {{ clinical_stage_advanced }} then 0 end
        + case when {{ age }} > 65 then 1 when {{ age }} <= 65 then 0 end
    )
{%- endmacro %}

{% macro cll_ipi_group(score) -%}
    case
        when {{ score }} <= 1 then 'Low'
        when {{ score }} <= 3 then 'Intermediate'
        when {{ score }} <= 6 then 'High'
        when {{ score }} <= 10 then 'Very High'
    end
{%- endmacro %}

{#- IPI (International NHL Prognostic Factors Project, NEJM 1993;329:987): one point each for age > 60,
    LDH > ULN (ratio > 1), ECOG >= 2, Ann Arbor III/IV, > 1 extranodal site. -#}
{% macro ipi_score(age, ldh_ratio, ecog, ann_arbor_stage, extranodal_sites) -%}
    (
        case when {{ age }} > 60 then 1 when {{ age }} <= 60 then 0 end
        + case when {{ ldh_ratio }} > 1 then 1 when {{ ldh_ratio }} <= 1 then 0 end
        + case when {{ ecog }} >= 2 then 1 when {{ ecog }} < 2 then 0 end
        + case when {{ ann_arbor_stage }} >= 3 then 1 when {{ ann_arbor_stage }} < 3 then 0 end
        + case when {{ extranodal_sites }} > 1 then 1 when {{ extranodal_sites }} <= 1 then 0 end
    )
{%- endmacro %}

{% macro ipi_group(score) -%}
    case
        when {{ score }} <= 1 then 'Low'
        when {{ score }} = 2 then 'Low-Intermediate'
        when {{ score }} = 3 then 'High-Intermediate'
        when {{ score }} <= 5 then 'High'
    end
{%- endmacro %}

{#- NCCN-IPI (Zhou et al., Blood 2014;123:837): age <= 40 0, 41-60 1, 61-75 2, > 75 3; LDH ratio <= 1 0,
    > 1-3 1, > 3 2; Ann Arbor III-IV 1; extranodal bone marrow, CNS, liver/GI or lung 1; ECOG >= 2 1.
    Age on a continuous scale as in the paper (> 40 to <= 60 scores 1). -#}
{% macro nccn_ipi_score(age, ldh_ratio, ann_arbor_stage, nccn_extranodal, ecog) -%}
    (
        case when {{ age }} <= 40 then 0 when {{ age }} <= 60 then 1
             when {{ age }} <= 75 then 2 when {{ age }} > 75 then 3 end
        + case when {{ ldh_ratio }} <= 1 then 0 when {{ ldh_ratio }} <= 3 then 1 when {{ ldh_ratio }} > 3 then 2 end
        + case when {{ ann_arbor_stage }} >= 3 then 1 when {{ ann_arbor_stage }} < 3 then 0 end
        + case when {{ nccn_extranodal }} then 1 when not {{ nccn_extranodal }} then 0 end
        + case when {{ ecog }} >= 2 then 1 when {{ ecog }} < 2 then 0 end
    )
{%- endmacro %}

{% macro nccn_ipi_group(score) -%}
    case
        when {{ score }} <= 1 then 'Low'
        when {{ score }} <= 3 then 'Low-Intermediate'
        when {{ score }} <= 5 then 'High-Intermediate'
        when {{ score }} <= 8 then 'High'
    end
{%- endmacro %}

{#- FLIPI (Solal-Celigny et al., Blood 2004;104:1258): age > 60, Ann Arbor III-IV, Hb < 12 g/dL,
    LDH > ULN, > 4 nodal areas. -#}
{% macro flipi_score(age, ann_arbor_stage, hb, ldh_ratio, nodal_areas) -%}
    (
        case when {{ age }} > 60 then 1 when {{ age }} <= 60 then 0 end
        + case when {{ ann_arbor_stage }} >= 3 then 1 when {{ ann_arbor_stage }} < 3 then 0 end
        + case when {{ hb }} < 12 then 1 when {{ hb }} >= 12 then 0 end
        + case when {{ ldh_ratio }} > 1 then 1 when {{ ldh_ratio }} <= 1 then 0 end
        + case when {{ nodal_areas }} > 4 then 1 when {{ nodal_areas }} <= 4 then 0 end
    )
{%- endmacro %}

{% macro flipi_group(score) -%}
    case when {{ score }} <= 1 then 'Low' when {{ score }} = 2 then 'Intermediate' when {{ score }} >= 3 then 'High' end
{%- endmacro %}

{#- NCI/Rome risk for B-ALL (Smith et al., JCO 1996;14:18): standard = age 1.00-9.99 and WBC < 50;
    high = age >= 10 or WBC >= 50. Only B-ALL aged 1 to 18 (up to 18.99); infants and T-ALL are not
    classified (NULL). -#}
{% macro nci_risk(age, wbc, is_b_all) -%}
    case
        when not coalesce({{ is_b_all }}, false) or {{ age }} is null or {{ age }} < 1 or {{ age }} >= 19 then null
        when {{ age }} >= 10 or {{ wbc }} >= 50 then 'High'
        when {{ wbc }} < 50 then 'Standard'
    end
{%- endmacro %}

{#- MDS risk scores. Each macro takes column expressions and returns one SQL expression that is NULL when
    an input it needs is NULL (clinical_rules.md: a calculator never guesses). -#}

{#- IPSS-R (Greenberg et al., Blood 2012;120:2454). cyto_points: Schanz 2012 category as points
    (very good 0, good 1, intermediate 2, poor 3, very poor 4). Units: Hb g/dL, PLT and ANC 10^9/L. -#}
{% macro ipssr_score(cyto_points, bm_blasts, hb, plt, anc) -%}
    (
        cast({{ cyto_points }} as double)
        + case when {{ bm_blasts }} <= 2 then 0 when {{ bm_blasts }} < 5 then 1
               when {{ bm_blasts }} <= 10 then 2 when {{ bm_blasts }} > 10 then 3 end
        + case when {{ hb }} >= 10 then 0 when {{ hb }} >= 8 then 1 when {{ hb }} < 8 then 1.5 end
        + case when {{ plt }} >= 100 then 0 when {{ plt }} >= 50 then 0.5 when {{ plt }} < 50 then 1 end
        + case when {{ anc }} >= 0.8 then 0 when {{ anc }} < 0.8 then 0.5 end
    )
{%- endmacro %}

{#- IPSS-R and IPSS-RA groups: Very Low <= 1.5 < Low <= 3 < Intermediate <= 4.5 < High <= 6 < Very High -#}
{% macro ipssr_group(score) -%}
    case
        when {{ score }} <= 1.5 then 'Very Low'
        when {{ score }} <= 3 then 'Low'
        when {{ score }} <= 4.5 then 'Intermediate'
        when {{ score }} <= 6 then 'High'
        when {{ score }} > 6 then 'Very High'
    end
{%- endmacro %}

{#- Age-adjusted IPSS-RA (Greenberg 2012): score + (age - 70) * (0.05 - score * 0.005), age to one decimal,
    adjusted score rounded to 4 decimals before it is cut. -#}
{% macro ipssra_score(ipssr_score, age) -%}
    round(
        {{ ipssr_score }} + (round({{ age }}, 1) - 70) * (0.05 - {{ ipssr_score }} * 0.005), 4
    )
{%- endmacro %}

{#- IPSS (Greenberg et al., Blood 1997;89:2079). ipss_karyotype: 'good' / 'intermediate' / 'poor'.
    Blasts above 30% are AML, not scored. Cytopenias: Hb < 10, ANC < 1.8, PLT < 100. -#}
{% macro ipss_score(bm_blasts, ipss_karyotype, hb, anc, plt) -%}
    (
        case when {{ bm_blasts }} < 5 then 0 when {{ bm_blasts }} <= 10 then 0.5
             when {{ bm_blasts }} <= 20 then 1.5 when {{ bm_blasts }} <= 30 then 2 end
        + case {{ ipss_karyotype }} when 'good' then 0 when 'intermediate' then 0.5 when 'poor' then 1 end
        + case
            when {{ hb }} is null or {{ anc }} is null or {{ plt }} is null then null
            when cast({{ hb }} < 10 as integer) + cast({{ anc }} < 1.8 as integer)
                + cast({{ plt }} < 100 as integer) >= 2 then 0.5
            else 0
        end
    )
{%- endmacro %}

{% macro ipss_group(score) -%}
    case
        when {{ score }} = 0 then 'Low'
        when {{ score }} <= 1 then 'Int-1'
        when {{ score }} <= 2 then 'Int-2'
        when {{ score }} >= 2.5 then 'High'
    end
{%- endmacro %}

{#- IPSS-M (Bernard et al., NEJM Evidence 2022). score = sum beta * (x - mean) / ln 2, rounded to 2.
    scenario: 'mean' (missing value -> its mean, the reported score), 'best' or 'worst' (genes 0/1,
    SF3B1_alpha 1/0). Clinical inputs and cytogenetic points are required (NULL otherwise).
    Binary inputs are booleans (NULL = not tested). nres2_mutated / nres2_missing: how many of the 15
    residual genes are mutated / untested. nRes2 with untested genes as in the authors' reference
    implementation (ipssm, papaemmelab): best min(Ns, 2); worst min(Ns + M, 2); mean
    min(Ns, 2) + max((2 - Ns) / 2 * M / 15 * 0.388, 0), with Ns mutated and M untested. -#}

{% macro ipssm_score(scenario, hb, plt, bm_blasts, cyto_points, genes, sf3b1_alpha, nres2_mutated, nres2_missing) -%}
    {%- set gene_terms = [
        ('tp53multi', 1.18, 0.071), ('flt3', 0.798, 0.0108), ('kmt2a_ptd', 0.798, 0.0247),
        ('sf3b1_5q', 0.504, 0.0166), ('npm1', 0.430, 0.0112), ('runx1', 0.423, 0.126), ('nras', 0.417, 0.0362),
        ('etv6', 0.391, 0.0216), ('idh2', 0.379, 0.0429), ('cbl', 0.295, 0.0473), ('ezh2', 0.270, 0.0588),
        ('u2af1', 0.247, 0.0866), ('srsf2', 0.239, 0.158), ('dnmt3a', 0.221, 0.161), ('asxl1', 0.213, 0.252),
        ('kras', 0.202, 0.0271)] -%}
    {%- set missing = {'mean': None, 'best': 0, 'worst': 1}[scenario] -%}
    case when {{ hb }} is not null and {{ plt }} is not null and {{ bm_blasts }} is not null
              and {{ cyto_points }} is not null then
    round((
        -0.171 * (least(greatest({{ hb }}, 4), 20) - 9.87)
        + -0.222 * (least({{ plt }}, 250) / 100 - 1.41)
        + 0.352 * (least({{ bm_blasts }}, 20) / 5 - 0.922)
        + 0.287 * ({{ cyto_points }} - 1.39)
        {% for name, beta, mean in gene_terms -%}
        + {{ beta }} * (coalesce(cast({{ genes[name] }} as double), {{ mean if missing is none else missing }}) - {{ mean }})
        {% endfor -%}
        + -0.0794 * (coalesce(cast({{ sf3b1_alpha }} as double),
            {{ 0.186 if scenario == 'mean' else (1 if scenario == 'best' else 0) }}) - 0.186)
        + 0.231 * (
            {%- if scenario == 'mean' %}
            least({{ nres2_mutated }}, 2)
                + greatest((2 - {{ nres2_mutated }}) / 2 * {{ nres2_missing }} / 15 * 0.388, 0)
            {%- elif scenario == 'worst' %} least({{ nres2_mutated }} + {{ nres2_missing }}, 2)
            {%- else %} least({{ nres2_mutated }}, 2){% endif %} - 0.388)
    ) / ln(2), 2) + 0.0  -- + 0.0 turns a rounded -0.0 into 0.0
    end
{%- endmacro %}

{#- IPSS-M categories on the rounded score (Bernard 2022). -#}
{% macro ipssm_group(score) -%}
    case
        when {{ score }} <= -1.5 then 'Very Low'
        when {{ score }} <= -0.5 then 'Low'
        when {{ score }} <= 0 then 'Moderate Low'
        when {{ score }} <= 0.5 then 'Moderate High'
        when {{ score }} <= 1.5 then 'High'
        when {{ score }} > 1.5 then 'Very High'
    end
{%- endmacro %}

{#- AML / APL risk. Inputs are column expressions; booleans are TRUE present, FALSE known absent,
    NULL unknown. A group is returned only when the inputs decide it (clinical_rules.md). -#}

{#- ELN 2022 genetic risk (Dohner et al., Blood 2022;140:1345, table 6). Keys of g:
    cbf (t(8;21) or inv(16)/t(16;16)), t_9_11, adverse_cyto (t(6;9), KMT2A-r other than t(9;11), t(9;22),
    t(8;16), inv(3)/t(3;3), MECOM-r, -5/del(5q), -7, -17/abn(17p), complex, monosomal), karyotype_known,
    npm1, flt3_itd, cebpa_bzip, tp53, tp53_vaf, mds_genes (any of ASXL1, BCOR, EZH2, RUNX1, SF3B1, SRSF2,
    STAG2, U2AF1, ZRSR2 mutated; FALSE only when all nine were tested wild type).
    Precedence: core-binding factor, t(9;11) (intermediate, but adverse with TP53 >= 10%: t(9;11)
    overrides only rare concurrent adverse gene mutations), adverse cytogenetics, TP53 >= 10% VAF, NPM1 (favorable
    without FLT3-ITD, intermediate with), bZIP CEBPA, myelodysplasia genes, else intermediate. -#}
{% macro eln2022_risk(g) -%}
    case
        when {{ g.cbf }} then 'Favorable'
        when {{ g.t_9_11 }} and {{ g.tp53 }} and {{ g.tp53_vaf }} >= 0.10 then 'Adverse'
        when {{ g.t_9_11 }} and ({{ g.tp53 }} = false or {{ g.tp53_vaf }} < 0.10) then 'Intermediate'
        -- t(9;11) with TP53 untested, or mutated without its VAF: Adverse or Intermediate, not decidable
        when {{ g.t_9_11 }} then null
        -- a class-defining lesion not ruled out could still override what follows
        when {{ g.cbf }} is null or {{ g.t_9_11 }} is null then null
        when {{ g.adverse_cyto }} then 'Adverse'
        when {{ g.tp53 }} and {{ g.tp53_vaf }} >= 0.10 then 'Adverse'
        -- a call below needs a readable karyotype (adverse cytogenetics ruled out) and TP53 tested
        when not coalesce({{ g.karyotype_known }}, false) or {{ g.tp53 }} is null then null
        when {{ g.tp53 }} and {{ g.tp53_vaf }} is null then null
        when {{ g.npm1 }} and {{ g.flt3_itd }} = false then 'Favorable'
        when {{ g.npm1 }} and {{ g.flt3_itd }} then 'Intermediate'
        when {{ g.cebpa_bzip }} and not coalesce({{ g.npm1 }}, false) then 'Favorable'
        when {{ g.mds_genes }} and {{ g.npm1 }} = false and {{ g.cebpa_bzip }} = false then 'Adverse'
        when {{ g.npm1 }} = false and {{ g.cebpa_bzip }} = false and {{ g.mds_genes }} = false
            and {{ g.flt3_itd }} is not null then 'Intermediate'
    end
{%- endmacro %}

{#- ELN 2017 (Dohner et al., Blood 2017;129:424, table 5). Differences from 2022 (clinical_rules.md):
    FLT3-ITD allelic ratio (low < 0.5): NPM1 mutated with ITD-low favorable, ITD-high intermediate;
    NPM1 wild type with ITD-high adverse; biallelic CEBPA favorable; adverse genes only RUNX1, ASXL1
    (not when they co-occur with a favorable subtype, table 5 footnote) and TP53 (any VAF); no t(8;16) or
    MECOM rows. KMT2A-PTD is not a KMT2A rearrangement and is not counted (clinical_rules.md notes that
    counting it raised agreement with one cohort's authors; the paper does not list it).
    Extra keys of g: adverse_cyto_2017, flt3_itd_ratio, runx1, asxl1. Precedence: CBF, t(9;11), any
    adverse lesion, favorable molecular, else intermediate. -#}
{% macro eln2017_risk(g) -%}
    {%- set favorable_molecular -%}
        (({{ g.npm1 }} and ({{ g.flt3_itd }} = false or {{ g.flt3_itd_ratio }} < 0.5))
         or ({{ g.cebpa_bzip }} and not coalesce({{ g.flt3_itd_ratio }} >= 0.5, false)))
    {%- endset -%}
    case
        when {{ g.cbf }} then 'Favorable'
        when {{ g.t_9_11 }} then 'Intermediate'
        when {{ g.cbf }} is null or {{ g.t_9_11 }} is null then null
        when {{ g.adverse_cyto_2017 }} or {{ g.tp53 }} then 'Adverse'
        when {{ g.npm1 }} = false and {{ g.flt3_itd }} and {{ g.flt3_itd_ratio }} >= 0.5 then 'Adverse'
        when not coalesce({{ g.karyotype_known }}, false) or {{ g.tp53 }} is null then null
        when {{ favorable_molecular }} then 'Favorable'
        when ({{ g.runx1 }} or {{ g.asxl1 }}) and {{ g.npm1 }} is not null and {{ g.cebpa_bzip }} is not null
            then 'Adverse'
        when {{ g.npm1 }} and {{ g.flt3_itd_ratio }} >= 0.5 and {{ g.runx1 }} is not null
            and {{ g.asxl1 }} is not null then 'Intermediate'
        when {{ g.npm1 }} = false and {{ g.cebpa_bzip }} is not null and {{ g.runx1 }} is not null
            and {{ g.asxl1 }} is not null and ({{ g.flt3_itd }} = false or {{ g.flt3_itd_ratio }} < 0.5)
            then 'Intermediate'
    end
{%- endmacro %}

{#- APL relapse risk, Sanz et al., Blood 2000;96:1247. WBC and PLT in 10^9/L. -#}
{% macro sanz_risk(wbc, plt) -%}
    case
        when {{ wbc }} > 10 then 'High'
        when {{ wbc }} <= 10 and {{ plt }} > 40 then 'Low'
        when {{ wbc }} <= 10 and {{ plt }} <= 40 then 'Intermediate'
    end
{%- endmacro %}

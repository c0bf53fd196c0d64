{#- Multiple myeloma staging. B2M mg/L, albumin g/dL; booleans TRUE present, FALSE known absent. -#}

{#- ISS, Greipp et al., JCO 2005;23:3412: I = B2M < 3.5 and albumin >= 3.5; III = B2M >= 5.5; II = neither.
    Returned as 'I' / 'II' / 'III'. -#}
{% macro iss_stage(b2m, albumin) -%}
    case
        when {{ b2m }} >= 5.5 then 'III'
        when {{ b2m }} < 3.5 and {{ albumin }} >= 3.5 then 'I'
        when {{ b2m }} < 5.5 and {{ albumin }} is not null then 'II'
    end
{%- endmacro %}

{#- R-ISS, Palumbo et al., JCO 2015;33:2863. high_risk_fish: del(17p) or t(4;14) or t(14;16) (TRUE if any
    present, FALSE only when all three known absent). I needs FISH and LDH known normal; III can be
    decided from either one. -#}
{% macro riss_stage(iss, high_risk_fish, ldh_high) -%}
    case
        when {{ iss }} = 'III' and ({{ high_risk_fish }} or {{ ldh_high }}) then 'III'
        when {{ iss }} = 'I' and {{ high_risk_fish }} = false and {{ ldh_high }} = false then 'I'
        when {{ iss }} = 'III' and {{ high_risk_fish }} = false and {{ ldh_high }} = false then 'II'
        when {{ iss }} = 'II' then 'II'
        when {{ iss }} = 'I' and ({{ high_risk_fish }} or {{ ldh_high }}) then 'II'
    end
{%- endmacro %}

{#- R2-ISS, D'Agostino et al., JCO 2022;40:3406: ISS II 1, ISS III 1.5, del(17p) 1, LDH > ULN 1,
    t(4;14) 1, 1q gain/amplification 0.5; every input required. -#}
{% macro r2iss_score(iss, del17p, ldh_high, t_4_14, gain_1q) -%}
    (
        case {{ iss }} when 'I' then 0 when 'II' then 1 when 'III' then 1.5 end
        + case when {{ del17p }} then 1 when not {{ del17p }} then 0 end
        + case when {{ ldh_high }} then 1 when not {{ ldh_high }} then 0 end
        + case when {{ t_4_14 }} then 1 when not {{ t_4_14 }} then 0 end
        + case when {{ gain_1q }} then 0.5 when not {{ gain_1q }} then 0 end
    )
{%- endmacro %}

{% macro r2iss_stage(score) -%}
    case
        when {{ score }} = 0 then 'I'
        when {{ score }} <= 1 then 'II'
        when {{ score }} <= 2.5 then 'III'
        when {{ score }} <= 5 then 'IV'
    end
{%- endmacro %}

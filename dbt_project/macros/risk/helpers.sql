{#- Three-valued "any of": TRUE when any input is TRUE, FALSE when none is TRUE and at least one is known
    (FALSE), NULL when all are unknown. For lesions that several methods (karyotype, FISH, PCR) report. -#}
{% macro any_known(exprs) -%}
    case
        when {% for e in exprs %}coalesce({{ e }}, false){{ ' or ' if not loop.last }}{% endfor %} then true
        when {% for e in exprs %}{{ e }} is not null{{ ' or ' if not loop.last }}{% endfor %} then false
    end
{%- endmacro %}

{#- Three-valued "any of" that is FALSE only when every input is known FALSE (a panel fully tested). -#}
{% macro any_all_known(exprs) -%}
    case
        when {% for e in exprs %}coalesce({{ e }}, false){{ ' or ' if not loop.last }}{% endfor %} then true
        when {% for e in exprs %}{{ e }} is not null{{ ' and ' if not loop.last }}{% endfor %} then false
    end
{%- endmacro %}

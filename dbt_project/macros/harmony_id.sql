{# A deterministic 60-bit id from a natural key: the same inputs give the same id in every run.
   Dispatched so the project can move to another engine. #}
{% macro harmony_id(expr) -%}
    {{ return(adapter.dispatch('harmony_id', 'harmony')(expr)) }}
{%- endmacro %}

{% macro default__harmony_id(expr) -%}
    cast(conv(substr(md5(cast({{ expr }} as varchar)), 1, 15), 16, 10) as bigint)
{%- endmacro %}

{% macro duckdb__harmony_id(expr) -%}
    cast(('0x' || substr(md5(cast({{ expr }} as varchar)), 1, 15)) as bigint)
{%- endmacro %}

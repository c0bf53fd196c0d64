{# A deterministic OMOP id within int32: the rank of a hash of the natural key. The same inputs give
   the same ids in every run (docs/architecture.md, "Ids"). Natural keys are unique in every model. #}
{% macro omop_id(key_expr) -%}
    {{ return(adapter.dispatch('omop_id', 'harmony')(key_expr)) }}
{%- endmacro %}

{% macro default__omop_id(key_expr) -%}
    cast(row_number() over (order by md5(cast({{ key_expr }} as varchar)), cast({{ key_expr }} as varchar)) as integer)
{%- endmacro %}

{# DuckDB: sort on the 128-bit md5 as a number (a string sort of millions of hashes costs 2-3x more);
   two distinct keys sharing an md5 are not a practical concern. #}
{% macro duckdb__omop_id(key_expr) -%}
    cast(row_number() over (order by md5_number(cast({{ key_expr }} as varchar))) as integer)
{%- endmacro %}

{# An empty table with exactly the columns and types of the model's yml (the CDM specification). #}
{% macro omop_empty_table() -%}
    select
    {%- for column in model.columns.values() %}
        cast(null as {{ column.data_type }}) as {{ adapter.quote(column.name) }}{{ "," if not loop.last }}
    {%- endfor %}
    where false
{%- endmacro %}

{# Type concept of a record from the provider kind of its source (verified ids:
   32809 Case Report Form, 32879 Registry, 32817 EHR). #}
{% macro type_concept(provider_kind) -%}
    case {{ provider_kind }}
        when 'trial' then 32809
        when 'study_group' then 32809
        when 'registry' then 32879
        when 'hospital' then 32817
        else 0
    end
{%- endmacro %}

{# Final projection of an omop model: every spec column, cast to its spec type, in spec order; spec
   columns the relation does not have are NULL (DuckDB's UNION ALL BY NAME fills them). #}
{% macro omop_select(relation, order_by=none) -%}
    {{ return(adapter.dispatch('omop_select', 'harmony')(relation, order_by)) }}
{%- endmacro %}

{% macro duckdb__omop_select(relation, order_by) -%}
    select
    {%- for column in model.columns.values() %}
        cast({{ adapter.quote(column.name) }} as {{ column.data_type }}) as {{ adapter.quote(column.name) }}{{ "," if not loop.last }}
    {%- endfor %}
    from (
        {{ omop_empty_table() }}
        union all by name
        select * from {{ relation }}
    ) as spec_columns
    {% if order_by %}order by {{ order_by }}{% endif %}
{%- endmacro %}

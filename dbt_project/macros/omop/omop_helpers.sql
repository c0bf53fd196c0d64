{# The hash of a natural key that the id registries (models/ids/) map to an OMOP id. DuckDB: the
   128-bit md5 as a number (sorting and joining it costs 2-3x less than the string); two distinct keys
   sharing an md5 are not a practical concern. #}
{% macro key_hash(key_expr) -%}
    {{ return(adapter.dispatch('key_hash', 'harmony')(key_expr)) }}
{%- endmacro %}

{% macro default__key_hash(key_expr) -%}
    md5(cast({{ key_expr }} as varchar))
{%- endmacro %}

{% macro duckdb__key_hash(key_expr) -%}
    md5_number(cast({{ key_expr }} as varchar))
{%- endmacro %}

{# The body of an id registry (ops.id_<table>, docs/architecture.md "Ids"): every key_hash of
   `keys_relation` seen for the first time gets an id after the largest one so far, in key_hash order.
   A fresh warehouse built in one go so gets the rank of the key's md5 (int32, as the CDM requires);
   afterwards a key keeps its id for good, through full refreshes too (the registries are
   `full_refresh: false`), so the ids analysts saved stay valid. #}
{% macro id_registry(keys_relation) -%}
    select
        key_hash,
        cast(
            {%- if is_incremental() %} (select coalesce(max(id), 0) from {{ this }}) +{% endif %}
            row_number() over (order by key_hash) as integer
        ) as id
    from (
        select distinct key_hash
        from {{ keys_relation }} as keys
        {%- if is_incremental() %}
        -- not exists, not `not in`: the new keys probe the registry (1M: 1 s instead of 4 s)
        where not exists (select 1 from {{ this }} as known where known.key_hash = keys.key_hash)
        {%- endif %}
    ) as new_keys
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

{#
  Incremental builds: a new delivery of one source rebuilds only the persons and source patients it
  touches (models/changes/). Person-grain and patient-grain models are `incremental` with the strategy
  `replace_changed`: their SQL reads only the changed persons' rows ({{ changed('x.person_key') }}),
  and the strategy deletes every row of those persons (also of persons who disappeared) before
  inserting the rebuilt ones. A full refresh (`dbt build --full-refresh`, the rebuild job) rebuilds
  every model from scratch except the id registries (models/ids/).
#}

{# A filter on the changed persons or patients: `column` names person_key, patient_key, person_id or
   person_hash (qualified or not). True (no filter) when the model is built from scratch, and in unit
   tests (they have no relation of their own). #}
{% macro changed(column) -%}
    {%- set links = ref('int_changed_links') -%}
    {%- if this is not none and is_incremental() and not flags.FULL_REFRESH -%}
        {{ column }} in (select {{ column.split('.')[-1] }} from {{ links }})
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{# The values of `key` whose rows an incremental model replaces. An episode_event row has no person:
   it goes with its episode (the changed persons' episodes, and links whose episode no longer exists);
   `patient` is the patient_key of outcomes.comutation_input. #}
{% macro changed_keys(key) -%}
    {%- set links = ref('int_changed_links') -%}
    {%- if key == 'patient' -%}
        select patient_key from {{ links }}
    {%- elif key == 'episode_id' -%}
        select episode_id from {{ ref('episode') }} where person_id in (select person_id from {{ links }})
        union all
        select episode_id from {{ this }} where episode_id not in (select episode_id from {{ ref('episode') }})
    {%- else -%}
        select {{ key }} from {{ links }}
    {%- endif -%}
{%- endmacro %}

{# Strategy `replace_changed`: delete the rows of every changed person (unique_key names the column),
   then insert the model's rows, in one transaction. #}
{% macro get_incremental_replace_changed_sql(arg_dict) -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    delete from {{ arg_dict['target_relation'] }}
    where {{ arg_dict['unique_key'] }} in ({{ changed_keys(arg_dict['unique_key']) }});
    insert into {{ arg_dict['target_relation'] }} ({{ columns }})
    select {{ columns }} from {{ arg_dict['temp_relation'] }}
{%- endmacro %}

{# True when this invocation builds every incremental model (a `dbt build` of the whole project). #}
{% macro builds_every_incremental_model() -%}
    {%- for node in graph.nodes.values() -%}
        {%- if node.resource_type == 'model' and node.config.materialized == 'incremental'
              and node.unique_id not in selected_resources -%}
            {{ return(false) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(true) }}
{%- endmacro %}

{#
  Aggregates (models/marts/aggregates/) are computed per disease over a whole patient-level mart. An
  incremental build recomputes a disease's aggregates only when one of its patients changed
  (int_changed_diseases); otherwise it keeps the table as it is and never reads the mart. The Python
  model returns nothing for an unaffected disease (harmony_pipeline.survival.affected_diseases); the
  strategy `replace_diseases` below replaces the affected diseases' rows by what the model returned.
  A full refresh computes every aggregate from scratch.
#}

{# Strategy `replace_diseases`: a table with a `disease` column (unique_key='disease', e.g. comutation)
   loses the rows of every changed disease; a table of the diseases in config `diseases` (a km_* table)
   is emptied when one of them changed. Then the rows the model computed are inserted, in one transaction. #}
{% macro get_incremental_replace_diseases_sql(arg_dict) -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    {%- set changed_diseases = ref('int_changed_diseases') -%}
    {%- if arg_dict['unique_key'] == 'disease' -%}
    delete from {{ arg_dict['target_relation'] }} where disease in (select disease from {{ changed_diseases }});
    {%- else -%}
    {%- set diseases = config.get('diseases') -%}
    {%- if not diseases -%}
        {{ exceptions.raise_compiler_error("replace_diseases needs unique_key='disease' or config diseases") }}
    {%- endif -%}
    delete from {{ arg_dict['target_relation'] }}
    where exists (
        select 1 from {{ changed_diseases }}
        where disease in ({% for d in diseases %}'{{ d }}'{{ ', ' if not loop.last }}{% endfor %})
    );
    {%- endif %}
    insert into {{ arg_dict['target_relation'] }} ({{ columns }})
    select {{ columns }} from {{ arg_dict['temp_relation'] }}
{%- endmacro %}

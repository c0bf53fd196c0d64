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

{# The identity of every raw row (through the staging views): its source, person, source patient and
   row_hash, a hash of (entity, source, delivery, file, row number). Fingerprints are sums of row_hash
   (models/changes/). #}
{% macro raw_row_identities() -%}
    {%- set entities = ['patient', 'diagnosis', 'lab_result', 'cytogenetics', 'mutation', 'treatment', 'response',
                        'transplant', 'staging', 'follow_up'] -%}
    {%- for entity in entities %}
    select source_id, person_key, patient_key,
           hash('{{ entity }}', source_id, delivery_id, file_name, row_number) as row_hash
    from {{ ref('stg_' ~ entity) }}
    {{ 'union all' if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{# The sources whose rows in `relation` and in `reference` (both with source_id, n_rows, fingerprint)
   differ in their sums of n_rows or fingerprint: new, changed and gone sources. #}
{% macro stale_sources(relation, reference) -%}
    select source_id
    from (select source_id, sum(n_rows) as n_rows, sum(fingerprint) as fingerprint from {{ relation }} group by all) as a
    full outer join (select source_id, sum(n_rows) as n_rows, sum(fingerprint) as fingerprint from {{ reference }} group by all) as b
        using (source_id)
    where a.n_rows is distinct from b.n_rows or a.fingerprint is distinct from b.fingerprint
{%- endmacro %}

{# Strategy `replace_sources` (the fingerprints, models/changes/): delete the rows of the sources whose sums
   differ from those of the model's config `fingerprints_of`, then insert the model's rows (the rows of
   those sources), in one transaction. The model's SQL selects the same stale sources before the delete. #}
{% macro get_incremental_replace_sources_sql(arg_dict) -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    {%- set target = arg_dict['target_relation'] -%}
    delete from {{ target }}
    where source_id in ({{ stale_sources(target, ref(config.get('fingerprints_of'))) }});
    insert into {{ target }} ({{ columns }})
    select {{ columns }} from {{ arg_dict['temp_relation'] }}
{%- endmacro %}

{# Whether int_changed_links holds a link (at run time; false when parsing). #}
{% macro has_changed_links() -%}
    {%- if not execute -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set found = run_query('select exists (select 1 from ' ~ ref('int_changed_links') ~ ')') -%}
    {{ return(found.columns[0].values()[0]) }}
{%- endmacro %}

{#
  DataQualityDashboard-style checks (DQD 2.8.4, ../shared/omop/dqd), expanded from the CDM spec seed.

  Each check instance yields one row: check_name, "table", field, concept_id, violated_rows,
  denominator_rows, threshold_pct. Field-level checks of one table are computed in ONE scan of the
  table (conditional aggregates), so the cost is one pass per table, not one per check.

  Semantics follow the DQD SQL files: isRequired = NULL in a required field; isPrimaryKey = rows whose
  key value occurs more than once; isForeignKey = non-NULL values absent from the referenced table;
  fkDomain / isStandardValidConcept ignore concept 0 and, like DQD's SQL, do not count a concept whose
  domain / standard flag is NULL: blank attributes of the verified vocabulary subset are unknown, not
  wrong. Local concepts (> 2,000,000,000) are known non-standard and are counted.
  plausibleBeforeDeath allows 60 days after death (DQD field_plausible_before_death.sql).
#}

{% macro dq_spec_rows(relation, where='true') -%}
    {%- set sql -%}select * from {{ relation }} where {{ where }}{%- endset -%}
    {%- if execute -%}
        {{ return(run_query(sql).rows) }}
    {%- else -%}
        {{ return([]) }}
    {%- endif -%}
{%- endmacro %}

{% macro dq_check_row(check_name, table, field, violated, denominator, threshold, concept_id='null') -%}
    select
        '{{ check_name }}' as check_name,
        '{{ table }}' as table_name,
        {{ "'" ~ field ~ "'" if field else 'null' }} as field_name,
        cast({{ concept_id }} as integer) as concept_id,
        cast({{ violated }} as bigint) as violated_rows,
        cast({{ denominator }} as bigint) as denominator_rows,
        cast({{ threshold }} as double) as threshold_pct
{%- endmacro %}

{# One scan per table: required, plausible values, start-before-end, after-birth, before-death and
   source-value completeness. #}
{% macro dq_table_scan(table, fields) -%}
    {%- set checks = [] -%}
    {%- set names = fields | map(attribute='field_name') | list -%}
    {%- set has_person = 'person_id' in names and table != 'person' -%}
    {%- for f in fields -%}
        {%- set col = 't.' ~ adapter.quote(f['field_name']) -%}
        {%- if f['is_required'] -%}
            {%- do checks.append(('isRequired', f['field_name'], 'count(*) filter (where ' ~ col ~ ' is null)', 'count(*)', f['is_required_threshold'])) -%}
        {%- endif -%}
        {%- if f['plausible_value_low'] -%}
            {%- do checks.append(('plausibleValueLow', f['field_name'], 'count(*) filter (where ' ~ col ~ ' < ' ~ f['plausible_value_low'] ~ ')', 'count(' ~ col ~ ')', f['plausible_value_low_threshold'])) -%}
        {%- endif -%}
        {%- if f['plausible_value_high'] -%}
            {%- do checks.append(('plausibleValueHigh', f['field_name'], 'count(*) filter (where ' ~ col ~ ' > ' ~ f['plausible_value_high'] ~ ')', 'count(' ~ col ~ ')', f['plausible_value_high_threshold'])) -%}
        {%- endif -%}
        {%- if f['plausible_start_before_end'] and f['start_before_end_field'] in names -%}
            {%- set end_col = 't.' ~ adapter.quote(f['start_before_end_field']) -%}
            {%- do checks.append(('plausibleStartBeforeEnd', f['field_name'], 'count(*) filter (where ' ~ col ~ ' > ' ~ end_col ~ ')', 'count(*) filter (where ' ~ col ~ ' is not null and ' ~ end_col ~ ' is not null)', f['plausible_start_before_end_threshold'])) -%}
        {%- endif -%}
        {%- if f['plausible_after_birth'] and has_person -%}
            {%- do checks.append(('plausibleAfterBirth', f['field_name'], 'count(*) filter (where cast(' ~ col ~ ' as date) < b.birth_date)', 'count(' ~ col ~ ')', f['plausible_after_birth_threshold'])) -%}
        {%- endif -%}
        {%- if f['plausible_before_death'] and has_person -%}
            {%- do checks.append(('plausibleBeforeDeath', f['field_name'], 'count(*) filter (where cast(' ~ col ~ ' as date) > d.death_date + 60)', 'count(*) filter (where d.death_date is not null and ' ~ col ~ ' is not null)', f['plausible_before_death_threshold'])) -%}
        {%- endif -%}
        {%- if f['source_value_completeness'] and f['standard_concept_field'] in names -%}
            {%- set std_col = 't.' ~ adapter.quote(f['standard_concept_field']) -%}
            {%- do checks.append(('sourceValueCompleteness', f['field_name'], 'count(distinct ' ~ col ~ ') filter (where ' ~ std_col ~ ' = 0)', 'count(distinct ' ~ col ~ ')', f['source_value_completeness_threshold'])) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if checks | length > 0 %}
    select * from (
        with scan as (
            select
                {%- for c in checks %}
                {{ c[2] }} as v{{ loop.index }},
                {{ c[3] }} as n{{ loop.index }}{{ "," if not loop.last }}
                {%- endfor %}
            from {{ ref(table) }} as t
            {%- if has_person %}
            left join dq_birth as b on b.person_id = t.person_id
            left join dq_death as d on d.person_id = t.person_id
            {%- endif %}
        )
        {%- for c in checks %}
        {{ dq_check_row(c[0], table, c[1], 'v' ~ loop.index, 'n' ~ loop.index, c[4]) }} from scan
        {{ "union all" if not loop.last }}
        {%- endfor %}
    ) as scan_{{ table }}
    {%- else %}
    select * from ({{ dq_check_row('none', table, none, 0, 0, 0) }}) as nothing where false
    {%- endif %}
{%- endmacro %}

{# Key checks: one small query per primary key, foreign key, fkDomain and standard-concept field. #}
{% macro dq_key_checks(f) -%}
    {%- set table = f['table_name'] -%}
    {%- set col = adapter.quote(f['field_name']) -%}
    {%- set parts = [] -%}
    {%- if f['is_primary_key'] -%}
        {%- do parts.append(dq_check_row('isPrimaryKey', table, f['field_name'],
            '(select coalesce(sum(n), 0) from (select count(*) as n from ' ~ ref(table) ~ ' group by ' ~ col ~ ' having count(*) > 1))',
            '(select count(*) from ' ~ ref(table) ~ ')', f['is_primary_key_threshold'])) -%}
    {%- endif -%}
    {%- if f['is_foreign_key'] and f['fk_table'] -%}
        {%- set fk = ref(f['fk_table']) -%}
        {%- do parts.append(dq_check_row('isForeignKey', table, f['field_name'],
            '(select count(*) from ' ~ ref(table) ~ ' as t where t.' ~ col ~ ' is not null and not exists (select 1 from ' ~ fk ~ ' as r where r.' ~ adapter.quote(f['fk_field']) ~ ' = t.' ~ col ~ '))',
            '(select count(*) from ' ~ ref(table) ~ ')', f['is_foreign_key_threshold'])) -%}
    {%- endif -%}
    {%- if f['is_foreign_key'] and f['fk_domain'] -%}
        {#- CDM etlConventions of episode_object_concept_id: a 'Disease Episode' has a Condition object
            (DQD's fkDomain lists only the Procedure/Regimen of treatment episodes). -#}
        {%- set exception = '' -%}
        {%- if table == 'episode' and f['field_name'] == 'episode_object_concept_id' -%}
            {%- set exception = " and not (c.domain_id = 'Condition' and t.episode_concept_id in (select concept_id from " ~ ref('concept') ~ " where concept_class_id = 'Disease Episode'))" -%}
        {%- endif -%}
        {%- do parts.append(dq_check_row('fkDomain', table, f['field_name'],
            '(select count(*) from ' ~ ref(table) ~ ' as t join ' ~ ref('concept') ~ ' as c on c.concept_id = t.' ~ col ~ ' where c.concept_id <> 0 and c.domain_id not in (' ~ dq_quoted_list(f['fk_domain']) ~ ')' ~ exception ~ ')',
            '(select count(*) from ' ~ ref(table) ~ ')', f['fk_domain_threshold'])) -%}
    {%- endif -%}
    {%- if f['is_standard_valid_concept'] -%}
        {%- do parts.append(dq_check_row('isStandardValidConcept', table, f['field_name'],
            '(select count(*) from ' ~ ref(table) ~ ' as t join ' ~ ref('concept') ~ ' as c on c.concept_id = t.' ~ col ~ ' where c.concept_id <> 0 and (coalesce(c.standard_concept, case when c.concept_id > 2000000000 then \'local\' end) <> \'S\' or c.invalid_reason is not null))',
            '(select count(*) from ' ~ ref(table) ~ ')', f['is_standard_valid_concept_threshold'])) -%}
    {%- endif -%}
    {{ return(parts) }}
{%- endmacro %}

{# 'Procedure, Regimen' -> 'Procedure', 'Regimen' (a field may allow several domains). #}
{% macro dq_quoted_list(csv_text) -%}
    {%- set items = [] -%}
    {%- for item in csv_text.split(',') -%}{%- do items.append("'" ~ item.strip() ~ "'") -%}{%- endfor -%}
    {{ items | join(', ') }}
{%- endmacro %}

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

{# The per-row field checks of one table: (check_name, field, violated expr, denominator expr, threshold)
   over `t` and, when has_person, the person's birth date `b` and death date `d`: required, plausible
   values, start-before-end, after-birth and before-death. #}
{% macro dq_field_checks(fields, has_person) -%}
    {%- set checks = [] -%}
    {%- set names = fields | map(attribute='field_name') | list -%}
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
    {%- endfor -%}
    {{ return(checks) }}
{%- endmacro %}

{# One scan per table for the field checks, and per source-value field one aggregate by value for
   source-value completeness; with distinct_only, only source-value completeness (the table's other
   checks are person partials). #}
{% macro dq_table_scan(table, fields, distinct_only=false) -%}
    {%- set names = fields | map(attribute='field_name') | list -%}
    {%- set has_person = 'person_id' in names and table != 'person' and not distinct_only -%}
    {%- set checks = [] if distinct_only else dq_field_checks(fields, has_person) -%}
    {%- set parts = [] -%}
    {%- if checks | length > 0 -%}
        {%- set scan %}
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
        {%- endset -%}
        {%- do parts.append(scan) -%}
    {%- endif -%}
    {#- sourceValueCompleteness (DQD: count(distinct value) with concept 0 / count(distinct value)): one
        group per distinct value, a few hundred, is 2-3 times faster than count(distinct) over the rows -#}
    {%- for f in fields if f['source_value_completeness'] and f['standard_concept_field'] in names -%}
        {%- set col = adapter.quote(f['field_name']) -%}
        {%- set by_value = 'select ' ~ col ~ ', bool_or(' ~ adapter.quote(f['standard_concept_field']) ~ ' = 0) as unmapped from '
            ~ ref(table) ~ ' where ' ~ col ~ ' is not null group by ' ~ col -%}
        {%- do parts.append(dq_check_row('sourceValueCompleteness', table, f['field_name'], 'count(*) filter (where unmapped)',
            'count(*)', f['source_value_completeness_threshold']) ~ ' from (' ~ by_value ~ ') as values_' ~ f['field_name']) -%}
    {%- endfor -%}
    {%- if parts | length > 0 %}
    {{ parts | join('\n    union all\n') }}
    {%- else %}
    select * from ({{ dq_check_row('none', table, none, 0, 0, 0) }}) as nothing where false
    {%- endif %}
{%- endmacro %}

{# Key checks: one small query per primary key, foreign key, fkDomain and standard-concept field
   (only the primary key when the others come from the table's person partials). With
   changed_keys_only, the primary key's duplicates are counted among the keys of the changed persons'
   rows only (dq_unduplicated_tables). #}
{% macro dq_key_checks(f, primary_key_only=false, changed_keys_only=false) -%}
    {%- set table = f['table_name'] -%}
    {%- set col = adapter.quote(f['field_name']) -%}
    {%- set parts = [] -%}
    {%- if f['is_primary_key'] -%}
        {%- set rows = ref(table) -%}
        {%- if changed_keys_only -%}
            {%- set changed_rows = 'person_id in (select person_id from ' ~ ref('int_changed_links') ~ ') or person_id is null' -%}
            {%- set rows = '(select ' ~ col ~ ' from ' ~ ref(table) ~ ' where ' ~ col ~ ' in (select ' ~ col ~ ' from ' ~ ref(table) ~ ' where ' ~ changed_rows ~ '))' -%}
        {%- endif -%}
        {%- do parts.append(dq_check_row('isPrimaryKey', table, f['field_name'],
            '(select coalesce(sum(n), 0) from (select count(*) as n from ' ~ rows ~ ' group by ' ~ col ~ ' having count(*) > 1))',
            '(select count(*) from ' ~ ref(table) ~ ')', f['is_primary_key_threshold'])) -%}
    {%- endif -%}
    {%- if f['is_foreign_key'] and f['fk_table'] and not primary_key_only -%}
        {%- set fk = ref(f['fk_table']) -%}
        {#- an anti join, not a correlated `not exists` (the same rows), which DuckDB plans and runs faster
            (1M patients: episode_event.episode_id in 0.4 s instead of 1.0 to 1.6 s) -#}
        {%- do parts.append(dq_check_row('isForeignKey', table, f['field_name'],
            '(select count(*) from ' ~ ref(table) ~ ' as t anti join ' ~ fk ~ ' as r on r.' ~ adapter.quote(f['fk_field']) ~ ' = t.' ~ col ~ ' where t.' ~ col ~ ' is not null)',
            '(select count(*) from ' ~ ref(table) ~ ')', f['is_foreign_key_threshold'])) -%}
    {%- endif -%}
    {%- if f['is_foreign_key'] and f['fk_domain'] and not primary_key_only -%}
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
    {%- if f['is_standard_valid_concept'] and not primary_key_only -%}
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

{#
  Person partials (incremental builds). For the person-grain OMOP tables (incremental by person_id,
  DQ_PERSON_TABLES) every row-level check is a sum over persons, so ops.dq_person_partials keeps one
  row per table and person with each check's violated and denominator counts (a<i>), rebuilt for the
  changed persons only, and dq_results sums them. Exactly the counts of the whole-table scan: the
  checks are the same expressions, per person. Foreign keys, fkDomain and isStandardValidConcept test
  each row against another table: rows of a person only ever reference that person's rows (visits,
  conditions: joined on person_id) or the vocabulary, so an unchanged person's verdicts cannot change.
  Not per person, kept global in dq_results: isPrimaryKey (a key may repeat across persons) and
  sourceValueCompleteness (distinct values).
#}
{% macro dq_person_tables() -%}
    {{ return(['condition_era', 'condition_occurrence', 'death', 'drug_era', 'drug_exposure', 'episode',
               'measurement', 'observation', 'observation_period', 'person', 'procedure_occurrence',
               'visit_occurrence']) }}
{%- endmacro %}

{# The row-level checks of one table: (check_name, field, violated expr, denominator expr, threshold)
   over `t` joined with the person's birth `b` and death `d` (as dq_table_scan), plus the key checks
   over one left join per key field (dq_person_joins): `c<i>` the concept of field i (concept_id is
   unique in omop.concept), `r<i>` the distinct keys of the referenced table. #}
{% macro dq_person_checks(table, fields, tables) -%}
    {%- set checks = dq_field_checks(fields, table != 'person') -%}
    {%- for f in fields -%}
        {%- set col = 't.' ~ adapter.quote(f['field_name']) -%}
        {%- set c = 'c' ~ loop.index -%}
        {%- if f['is_foreign_key'] and f['fk_table'] -%}
            {%- set missing = c ~ '.concept_id is null' if f['fk_table'] == 'concept' else 'r' ~ loop.index ~ '.key is null' -%}
            {%- do checks.append(('isForeignKey', f['field_name'], 'count(*) filter (where ' ~ col ~ ' is not null and ' ~ missing ~ ')', 'count(*)', f['is_foreign_key_threshold'])) -%}
        {%- endif -%}
        {%- if f['is_foreign_key'] and f['fk_domain'] -%}
            {%- set exception = '' -%}
            {%- if table == 'episode' and f['field_name'] == 'episode_object_concept_id' -%}
                {%- set exception = " and not (" ~ c ~ ".domain_id = 'Condition' and t.episode_concept_id in (select concept_id from " ~ ref('concept') ~ " where concept_class_id = 'Disease Episode'))" -%}
            {%- endif -%}
            {%- do checks.append(('fkDomain', f['field_name'], 'count(*) filter (where ' ~ c ~ '.concept_id <> 0 and ' ~ c ~ '.domain_id not in (' ~ dq_quoted_list(f['fk_domain']) ~ ')' ~ exception ~ ')', 'count(*)', f['fk_domain_threshold'])) -%}
        {%- endif -%}
        {%- if f['is_standard_valid_concept'] -%}
            {%- do checks.append(('isStandardValidConcept', f['field_name'], 'count(*) filter (where ' ~ c ~ '.concept_id <> 0 and ' ~ c ~ '.not_standard)', 'count(*)', f['is_standard_valid_concept_threshold'])) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if table == 'person' -%}
        {#- measurePersonCompleteness: the person has no record in the table (one per person row); bit i of
            person_tables.tables says whether they have one in the i-th table (dq_person_tables_present) -#}
        {%- for s in dq_completeness_tables(tables) -%}
            {%- do checks.append(('measurePersonCompleteness', none, 'count(*) filter (where coalesce(pt.tables, 0) & ' ~ 2 ** loop.index0 ~ ' = 0)', 'count(*)', s['measure_person_completeness_threshold'], s['table_name'])) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if table == 'observation_period' -%}
        {#- measureObservationPeriodOverlap: whether the person has overlapping or back-to-back periods -#}
        {%- do checks.append(('measureObservationPeriodOverlap', none, 'count(distinct t.person_id) filter (where exists (select 1 from ' ~ ref('observation_period') ~ ' as o where o.person_id = t.person_id and o.observation_period_id <> t.observation_period_id and o.observation_period_start_date between t.observation_period_start_date and t.observation_period_end_date + 1 and ' ~ changed('o.person_id') ~ '))', 'count(distinct t.person_id)', 0)) -%}
    {%- endif -%}
    {{ return(checks) }}
{%- endmacro %}

{# The tables measurePersonCompleteness looks for a person's records in, in the order of the bits of
   dq_person_tables_present. #}
{% macro dq_completeness_tables(tables) -%}
    {{ return(tables | selectattr('measure_person_completeness') | list) }}
{%- endmacro %}

{# Per (changed) person, a bit for each table of dq_completeness_tables that holds a row of theirs: the
   distinct persons of each table once, instead of one anti join per table and person row (1M patients:
   the person checks took 1.5 s instead of 3.9 s). #}
{% macro dq_person_tables_present(tables) -%}
    select person_id, bit_or(flag) as tables
    from (
        {%- for s in dq_completeness_tables(tables) %}
        select distinct person_id, {{ 2 ** loop.index0 }}::bigint as flag
        from {{ ref(s['table_name']) }}
        where {{ changed('person_id') }}
        {{ "union all" if not loop.last }}
        {%- else %}
        select null::bigint as person_id, 0::bigint as flag where false  {#- no spec rows (`--empty`) #}
        {%- endfor %}
    )
    group by person_id
{%- endmacro %}

{# The left joins the key checks of dq_person_checks read. In an incremental build the referenced keys
   are only those the changed persons' rows of `table` hold (not every key of the referenced table). #}
{% macro dq_person_joins(table, fields) -%}
    {%- if table == 'person' %}
    left join person_tables as pt on pt.person_id = t.person_id
    {%- endif -%}
    {%- for f in fields -%}
        {%- set col = 't.' ~ adapter.quote(f['field_name']) -%}
        {%- if f['is_foreign_key'] and (f['fk_domain'] or f['fk_table'] == 'concept') or f['is_standard_valid_concept'] %}
    left join concept_flags as c{{ loop.index }} on c{{ loop.index }}.concept_id = {{ col }}
        {%- endif -%}
        {%- if f['is_foreign_key'] and f['fk_table'] and f['fk_table'] != 'concept' %}
        {%- set key = adapter.quote(f['fk_field']) %}
    left join (
        select distinct {{ key }} as key from {{ ref(f['fk_table']) }}
        {%- if is_incremental() and not flags.FULL_REFRESH %}
        where {{ key }} in (select {{ adapter.quote(f['field_name']) }} from {{ ref(table) }} where {{ changed('person_id') }})
        {%- endif %}
    ) as r{{ loop.index }}
        on r{{ loop.index }}.key = {{ col }}
        {%- endif -%}
    {%- endfor -%}
{%- endmacro %}

{# A check's violated count is `count(*) filter (where <condition>)` (or, for the observation period
   overlap, `count(distinct t.person_id) filter (where <condition>)`): its condition. #}
{% macro dq_violation_condition(expr) -%}
    {{ return(expr[expr.index('(where ') + 7:-1]) }}
{%- endmacro %}

{# The denominator counts of one table's checks, each once (count(distinct t.person_id) is counted from
   the partial rows in dq_results). #}
{% macro dq_denominators(checks) -%}
    {%- set counts = [] -%}
    {%- for c in checks if c[3] not in counts and c[3] != 'count(distinct t.person_id)' -%}
        {%- do counts.append(c[3]) -%}
    {%- endfor -%}
    {{ return(counts) }}
{%- endmacro %}

{# The body of ops.dq_person_partials: per person-grain table (table_name), changed person (person_id)
   and violation pattern (violations: bit i set when the row fails check i), the rows (n_rows) and
   each distinct denominator count (d<j>). Most rows fail nothing, so a person has one or two rows,
   and the violated counts are sums of n_rows over a bit: a few aggregates per person instead of one
   per check. Tables have different denominators: UNION ALL BY NAME leaves unused d<j> NULL. #}
{% macro dq_person_partials() -%}
    {%- set all_fields = dq_spec_rows(ref('cdm_field_spec'), 'not dqd_excluded order by table_name, ordinal') -%}
    {%- set tables = dq_spec_rows(ref('cdm_table_spec'), 'not dqd_excluded order by table_name') -%}
    with birth as (
        {{ dq_birth_dates(changed('person_id')) }}
    ),

    death as (
        select person_id, min(death_date) as death_date
        from {{ ref('death') }}
        where {{ changed('person_id') }}
        group by person_id
    ),

    concept_flags as (
        select
            concept_id,
            domain_id,
            coalesce(standard_concept, case when concept_id > 2000000000 then 'local' end) <> 'S'
                or invalid_reason is not null as not_standard
        from {{ ref('concept') }}
    ),

    person_tables as (
        {{ dq_person_tables_present(tables) }}
    )

    {% for table in dq_person_tables() %}
    {%- set fields = all_fields | selectattr('table_name', 'equalto', table) | list -%}
    {%- set checks = dq_person_checks(table, fields, tables) -%}
    {%- if checks | length > 62 -%}
        {{ exceptions.raise_compiler_error('dq_person_partials: more than 62 checks on ' ~ table) }}
    {%- endif %}
    select
        '{{ table }}' as table_name,
        t.person_id,
        {%- for c in checks %}
        {{ "(" if loop.first else "+" }} case when {{ dq_violation_condition(c[2]) }} then {{ 2 ** (loop.index - 1) }} else 0 end
        {%- else %}
        (0  {#- no checks: the spec seeds are empty (a `dbt build --empty`) #}
        {%- endfor %}) as violations,
        count(*) as n_rows,
        {%- for e in dq_denominators(checks) %}
        {{ e }} as d{{ loop.index }}{{ "," if not loop.last }}
        {%- endfor %}
    from {{ ref(table) }} as t
    {%- if table != 'person' %}
    left join birth as b on b.person_id = t.person_id
    left join death as d on d.person_id = t.person_id
    {%- endif %}
    {{- dq_person_joins(table, fields) }}
    where {{ changed('t.person_id') }}
    group by t.person_id, violations
    {{ "union all by name" if not loop.last }}
    {% endfor %}
{%- endmacro %}

{# dq_results rows of one person-grain table, from its partials: the sums by violation pattern
   (the CTE partial_sums of dq_results, a few rows per table) and, for the checks that count persons
   (count(distinct t.person_id)), distinct counts over the table's partial rows. #}
{% macro dq_person_rows(table, fields, tables) -%}
    {%- set checks = dq_person_checks(table, fields, tables) -%}
    {%- set denominators = dq_denominators(checks) -%}
    {%- set partials = '(select person_id, violations from ' ~ ref('dq_person_partials') ~ " where table_name = '" ~ table ~ "')" -%}
    {%- set counts_persons = checks | selectattr(3, 'equalto', 'count(distinct t.person_id)') | list | length > 0 -%}
    select * from (
        with sums as (
            select
                {%- for c in checks %}
                {%- set bit = 2 ** (loop.index - 1) %}
                {%- if c[2].startswith('count(distinct t.person_id)') %}
                (select count(distinct person_id) from {{ partials }} where violations & {{ bit }} <> 0) as v{{ loop.index }},
                {%- else %}
                coalesce(sum(n_rows) filter (where violations & {{ bit }} <> 0), 0) as v{{ loop.index }},
                {%- endif %}
                {%- endfor %}
                {%- for e in denominators %}
                coalesce(sum(d{{ loop.index }}), 0) as d{{ loop.index }},
                {%- endfor %}
                {{ '(select count(distinct person_id) from ' ~ partials ~ ')' if counts_persons else '0' }} as persons
            from partial_sums
            where table_name = '{{ table }}'
        )
        {%- for c in checks %}
        {%- set n = 'persons' if c[3] == 'count(distinct t.person_id)' else 'd' ~ (denominators.index(c[3]) + 1) %}
        {{ dq_check_row(c[0], c[5] if c | length > 5 else table, c[1], 'v' ~ loop.index, n, c[4]) }} from sums
        {{ "union all" if not loop.last }}
        {%- else %}
        {{ dq_check_row('none', table, none, 0, 'persons', 0) }} from sums where false  {#- no checks (`--empty`) #}
        {%- endfor %}
    ) as partial_{{ table }}
{%- endmacro %}

{# The person-grain tables (of `tables`) whose primary key the last build of dq_results found without
   duplicates. An incremental build replaces only the changed persons' rows (int_changed_links, the
   persons changed since the last complete build, which dq_results is part of), so a key duplicated now
   has a row of a changed person: counting the duplicates among those keys gives the whole table's
   count. A full refresh, a first build and a table that had duplicates count over the whole table. #}
{% macro dq_unduplicated_tables(tables) -%}
    {%- set previous = load_relation(this) if execute and not flags.FULL_REFRESH else none -%}
    {%- if previous is none -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set clean = run_query("select \"table\" from " ~ previous ~ " where check_name = 'isPrimaryKey' and violated_rows = 0") -%}
    {{ return(clean.columns[0].values() | select('in', tables) | list) }}
{%- endmacro %}

{# One birth date per person even if person itself is broken (a duplicated person must not double rows). #}
{% macro dq_birth_dates(where='true') -%}
    select
        person_id,
        min(coalesce(
            cast(birth_datetime as date),
            make_date(year_of_birth, coalesce(month_of_birth, 1), coalesce(day_of_birth, 1))
        )) as birth_date
    from {{ ref('person') }}
    where {{ where }}
    group by person_id
{%- endmacro %}

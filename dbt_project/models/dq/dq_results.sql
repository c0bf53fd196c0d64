{{ config(schema='ops', materialized='table') }}
-- DataQualityDashboard-style results over the omop schema: one row per check instance.
-- Checks, Kahn categories, severities and thresholds come from the DQD 2.8.4 files (seeds
-- dqd_check_descriptions, cdm_field_spec, cdm_table_spec, dqd_concept_checks). Vocabulary tables
-- are excluded as DQD excludes them by default. passed = violated_pct <= threshold_pct (DQD fails a
-- check when the violated percentage exceeds its threshold).
-- depends_on: {{ ref('care_site') }}
-- depends_on: {{ ref('cdm_source') }}
-- depends_on: {{ ref('cohort') }}
-- depends_on: {{ ref('cohort_definition') }}
-- depends_on: {{ ref('concept') }}
-- depends_on: {{ ref('concept_ancestor') }}
-- depends_on: {{ ref('concept_class') }}
-- depends_on: {{ ref('concept_relationship') }}
-- depends_on: {{ ref('concept_synonym') }}
-- depends_on: {{ ref('condition_era') }}
-- depends_on: {{ ref('condition_occurrence') }}
-- depends_on: {{ ref('cost') }}
-- depends_on: {{ ref('death') }}
-- depends_on: {{ ref('device_exposure') }}
-- depends_on: {{ ref('domain') }}
-- depends_on: {{ ref('dose_era') }}
-- depends_on: {{ ref('drug_era') }}
-- depends_on: {{ ref('drug_exposure') }}
-- depends_on: {{ ref('drug_strength') }}
-- depends_on: {{ ref('episode') }}
-- depends_on: {{ ref('episode_event') }}
-- depends_on: {{ ref('fact_relationship') }}
-- depends_on: {{ ref('location') }}
-- depends_on: {{ ref('measurement') }}
-- depends_on: {{ ref('metadata') }}
-- depends_on: {{ ref('note') }}
-- depends_on: {{ ref('note_nlp') }}
-- depends_on: {{ ref('observation') }}
-- depends_on: {{ ref('observation_period') }}
-- depends_on: {{ ref('payer_plan_period') }}
-- depends_on: {{ ref('person') }}
-- depends_on: {{ ref('procedure_occurrence') }}
-- depends_on: {{ ref('provider') }}
-- depends_on: {{ ref('relationship') }}
-- depends_on: {{ ref('source_to_concept_map') }}
-- depends_on: {{ ref('specimen') }}
-- depends_on: {{ ref('visit_detail') }}
-- depends_on: {{ ref('visit_occurrence') }}
-- depends_on: {{ ref('vocabulary') }}
{% set fields = dq_spec_rows(ref('cdm_field_spec'), 'not dqd_excluded order by table_name, ordinal') %}
{% set tables = dq_spec_rows(ref('cdm_table_spec'), 'not dqd_excluded order by table_name') %}
{#- the person-grain tables' row checks come from their per-person partials (ops.dq_person_partials),
    so an incremental build recounts only the changed persons (macros/omop/dq_checks.sql) -#}
{% set person_tables = dq_person_tables() %}
{#- their primary keys' duplicates: among the changed persons' keys when the last build found none -#}
{% set unduplicated = dq_unduplicated_tables(person_tables) %}
-- depends_on: {{ ref('int_changed_links') }}

{#- the other tables with a person (their after-birth and before-death checks join dq_birth, dq_death) -#}
{% set dated_tables = fields | selectattr('field_name', 'equalto', 'person_id') | map(attribute='table_name')
                      | reject('in', person_tables + ['person']) | unique | list %}
{% set of_dated_tables %}
    person_id in ({% for t in dated_tables %}select person_id from {{ ref(t) }}{{ ' union all ' if not loop.last }}{% else %}select null{% endfor %})
{%- endset %}

-- one birth date per person even if person itself is broken (a duplicated person must not double rows);
-- only the persons of those tables (computed once: each table's scan joins them)
with dq_birth as materialized (
    {{ dq_birth_dates(of_dated_tables) }}
),

dq_death as materialized (
    select person_id, min(death_date) as death_date from {{ ref('death') }} where {{ of_dated_tables }} group by person_id
),

spec_tables as (
    select * from {{ ref('cdm_table_spec') }}
),

spec_fields as (
    select * from {{ ref('cdm_field_spec') }}
),

catalog_columns as (
    select table_name, column_name, data_type
    from information_schema.columns
    where table_schema = '{{ ref('person').schema }}'
),

-- cdmTable: the table exists in the omop schema.
cdm_table as (
    select
        'cdmTable' as check_name, s.table_name, cast(null as varchar) as field_name, cast(null as integer) as concept_id,
        cast(case when count(c.table_name) = 0 then 1 else 0 end as bigint) as violated_rows,
        cast(1 as bigint) as denominator_rows, cast(0 as double) as threshold_pct
    from spec_tables as s
    left join catalog_columns as c on c.table_name = s.table_name
    group by s.table_name
),

-- cdmField: the field exists; cdmDatatype: an integer field is stored as an integer.
cdm_field as (
    select
        'cdmField' as check_name, f.table_name, f.field_name, cast(null as integer),
        cast(case when c.column_name is null then 1 else 0 end as bigint), cast(1 as bigint), cast(0 as double)
    from spec_fields as f
    left join catalog_columns as c on c.table_name = f.table_name and c.column_name = f.field_name
    union all
    select
        'cdmDatatype', f.table_name, f.field_name, cast(null as integer),
        cast(case when c.data_type = 'INTEGER' then 0 else 1 end as bigint), cast(1 as bigint), cast(0 as double)
    from spec_fields as f
    left join catalog_columns as c on c.table_name = f.table_name and c.column_name = f.field_name
    where f.cdm_datatype = 'integer'
),

-- The per-person partials summed by table and violation pattern: one pass over them for every table.
partial_sums as (
    select table_name, violations, sum(columns('^(n_rows|d[0-9]+)$'))
    from {{ ref('dq_person_partials') }}
    group by table_name, violations
),

-- Row-level checks of the person-grain tables (and measurePersonCompleteness,
-- measureObservationPeriodOverlap): sums of the per-person partials.
person_checks as (
    {%- for table in person_tables %}
    {{ dq_person_rows(table, fields | selectattr('table_name', 'equalto', table) | list, tables) }}
    {{ "union all" if not loop.last }}
    {%- endfor %}
),

-- Field-level data checks, one scan per table.
field_scans as (
    {%- set by_table = fields | groupby('table_name') %}
    {%- for table, table_fields in by_table %}
    {{ dq_table_scan(table, table_fields, table in person_tables) }}
    {{ "union all" if not loop.last }}
    {%- endfor %}
    {%- if by_table | length == 0 %}
    {{ dq_check_row('none', 'person', none, 0, 0, 0) }} where false
    {%- endif %}
),

key_checks as (
    {%- set parts = [] %}
    {%- for f in fields %}
    {%- do parts.extend(dq_key_checks(f, f['table_name'] in person_tables, f['table_name'] in unduplicated)) %}
    {%- endfor %}
    {%- for p in parts %}
    {{ p }}
    {{ "union all" if not loop.last }}
    {%- endfor %}
    {%- if parts | length == 0 %}
    {{ dq_check_row('none', 'person', none, 0, 0, 0) }} where false
    {%- endif %}
),

-- The measurements of each checked concept: by measurement_concept_id, and a local concept (> 2e9) also
-- by measurement_source_concept_id (once per row). Two equi-joins: an OR join is a nested loop.
checked_concepts as (
    select distinct concept_id from {{ ref('dqd_concept_checks') }}
),

concept_measurements as (
    select c.concept_id as check_concept_id, m.*
    from checked_concepts as c
    inner join {{ ref('measurement') }} as m on m.measurement_concept_id = c.concept_id
    union all
    select c.concept_id, m.*
    from checked_concepts as c
    inner join {{ ref('measurement') }} as m on m.measurement_source_concept_id = c.concept_id
    where c.concept_id > 2000000000 and m.measurement_concept_id is distinct from c.concept_id
),

-- Concept-level checks for our measurement concepts: plausibleValueLow/High (in the canonical unit)
-- and plausibleUnitConceptIds.
concept_checks as (
    select
        c.concept_id,
        c.threshold_pct,
        count(m.measurement_id) filter (where m.unit_concept_id = c.unit_concept_id and m.value_as_number is not null)
            as n_in_unit,
        count(m.measurement_id) filter (where m.unit_concept_id = c.unit_concept_id and m.value_as_number < c.plausible_value_low)
            as n_low,
        count(m.measurement_id) filter (where m.unit_concept_id = c.unit_concept_id and m.value_as_number > c.plausible_value_high)
            as n_high,
        count(m.measurement_id) filter (where m.value_as_number is not null) as n_valued,
        count(m.measurement_id) filter (
            where m.value_as_number is not null
            and not list_contains(string_split(c.plausible_unit_concept_ids, ','), cast(coalesce(m.unit_concept_id, -1) as varchar))
        ) as n_bad_unit
    from {{ ref('dqd_concept_checks') }} as c
    left join concept_measurements as m on m.check_concept_id = c.concept_id
    group by c.concept_id, c.threshold_pct
),

concept_level as (
    select 'plausibleValueLow' as check_name, 'measurement' as table_name, 'value_as_number' as field_name,
           concept_id, n_low as violated_rows, n_in_unit as denominator_rows, threshold_pct
    from concept_checks
    union all
    select 'plausibleValueHigh', 'measurement', 'value_as_number', concept_id, n_high, n_in_unit, threshold_pct
    from concept_checks
    union all
    select 'plausibleUnitConceptIds', 'measurement', 'unit_concept_id', concept_id, n_bad_unit, n_valued, threshold_pct
    from concept_checks
),

all_checks as (
    select * from cdm_table
    union all select * from cdm_field
    union all select * from person_checks
    union all select * from field_scans
    union all select * from key_checks
    union all select * from concept_level
)

select
    a.check_name,
    d.check_level,
    d.kahn_context,
    d.kahn_category,
    d.kahn_subcategory,
    d.severity,
    a.table_name as "table",
    a.field_name as field,
    a.concept_id,
    a.threshold_pct,
    a.violated_rows,
    a.denominator_rows,
    case when a.denominator_rows > 0 then round(100.0 * a.violated_rows / a.denominator_rows, 4) else 0 end
        as violated_pct,
    case when a.denominator_rows > 0 then 100.0 * a.violated_rows / a.denominator_rows else 0 end
        <= a.threshold_pct as passed
from all_checks as a
left join {{ ref('dqd_check_descriptions') }} as d on d.check_name = a.check_name
order by a.check_name, a.table_name, a.field_name, a.concept_id

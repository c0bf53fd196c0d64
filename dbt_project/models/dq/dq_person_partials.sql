-- Per-person data-quality counts of the person-grain OMOP tables, one row per table, person and
-- violation pattern (macros/omop/dq_checks.sql, dq_person_partials); dq_results sums them.
{{ config(schema='ops', materialized='incremental', unique_key='person_id') }}
-- the tables its checks read (the check list is read from the spec seeds at run time):
-- depends_on: {{ ref('care_site') }}
-- depends_on: {{ ref('concept') }}
-- depends_on: {{ ref('condition_era') }}
-- depends_on: {{ ref('condition_occurrence') }}
-- depends_on: {{ ref('death') }}
-- depends_on: {{ ref('device_exposure') }}
-- depends_on: {{ ref('dose_era') }}
-- depends_on: {{ ref('drug_era') }}
-- depends_on: {{ ref('drug_exposure') }}
-- depends_on: {{ ref('episode') }}
-- depends_on: {{ ref('location') }}
-- depends_on: {{ ref('measurement') }}
-- depends_on: {{ ref('note') }}
-- depends_on: {{ ref('observation') }}
-- depends_on: {{ ref('observation_period') }}
-- depends_on: {{ ref('payer_plan_period') }}
-- depends_on: {{ ref('person') }}
-- depends_on: {{ ref('procedure_occurrence') }}
-- depends_on: {{ ref('provider') }}
-- depends_on: {{ ref('specimen') }}
-- depends_on: {{ ref('visit_detail') }}
-- depends_on: {{ ref('visit_occurrence') }}
-- depends_on: {{ ref('cdm_field_spec') }}
-- depends_on: {{ ref('cdm_table_spec') }}
-- depends_on: {{ ref('int_changed_links') }}
{%- if is_incremental() and not has_changed_links() %}
-- no changed person: nothing to replace (the checks' joins alone took 1 s at 1M patients)
select * from {{ this }} where false
{%- else %}
{{ dq_person_partials() }}
{%- endif %}

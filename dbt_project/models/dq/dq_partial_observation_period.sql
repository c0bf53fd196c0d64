-- Per-person data-quality counts of omop.observation_period (macros/omop/dq_checks.sql, dq_person_partial).
{{ config(schema='ops', materialized='incremental', unique_key='person_id') }}
-- the tables its checks read (the check list is read from the spec seeds at run time):
-- depends_on: {{ ref('concept') }}
-- depends_on: {{ ref('death') }}
-- depends_on: {{ ref('observation_period') }}
-- depends_on: {{ ref('person') }}
-- depends_on: {{ ref('cdm_field_spec') }}
-- depends_on: {{ ref('cdm_table_spec') }}
{{ dq_person_partial('observation_period') }}

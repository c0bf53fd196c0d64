-- The fingerprints the last complete build processed, compared by int_changed_links and
-- int_changed_diseases next time. Built after everything that rebuilds changed persons or diseases
-- (dq_results follows every OMOP table, the marts every outcome, then the aggregates): when a model
-- fails or is skipped these stay as they were, and its persons are rebuilt by the next build. A build
-- of only some incremental models (a partial selection) keeps them as well.
-- Incremental by source (strategy replace_sources): only the sources whose fingerprints changed since
-- the last complete build are replaced, the other sources' rows are the same in both.
{{ config(schema='ops', materialized='incremental', unique_key='source_id', incremental_strategy='replace_sources',
          fingerprints_of='int_person_fingerprint') }}
-- depends_on: {{ ref('dq_results') }}
-- depends_on: {{ ref('mapping_coverage') }}
-- depends_on: {{ ref('omop_excluded_records') }}
-- depends_on: {{ ref('mart_all') }}
-- depends_on: {{ ref('mart_aml') }}
-- depends_on: {{ ref('mart_apl') }}
-- depends_on: {{ ref('mart_cll') }}
-- depends_on: {{ ref('mart_mds') }}
-- depends_on: {{ ref('mart_mm') }}
-- depends_on: {{ ref('mart_nhl') }}
-- depends_on: {{ ref('mart_paediatric') }}
-- depends_on: {{ ref('all_paediatric_vs_adult') }}
-- depends_on: {{ ref('comutation') }}
-- depends_on: {{ ref('km_all') }}
-- depends_on: {{ ref('km_aml') }}
-- depends_on: {{ ref('km_apl') }}
-- depends_on: {{ ref('km_cll') }}
-- depends_on: {{ ref('km_mds') }}
-- depends_on: {{ ref('km_mm') }}
-- depends_on: {{ ref('km_nhl') }}
-- depends_on: {{ ref('mm_pfs_by_treatment') }}
{%- set complete = not execute or builds_every_incremental_model() %}
{%- if is_incremental() %}
-- the rows of the changed sources: now (a complete build), or as they were (the strategy deletes them)
select * from {{ ref('int_person_fingerprint') if complete else this }}
where source_id in ({{ stale_sources(this, ref('int_person_fingerprint')) }})
{%- elif complete %}
select * from {{ ref('int_person_fingerprint') }}
{%- elif load_relation(this) %}
select * from {{ this }}
{%- else %}
select * from {{ ref('int_person_fingerprint') }} where false
{%- endif %}

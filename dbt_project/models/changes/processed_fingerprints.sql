{{ config(schema='ops') }}
-- The fingerprints the last complete build processed, compared by int_changed_links and
-- int_changed_diseases next time. Built after everything that rebuilds changed persons or diseases
-- (dq_results follows every OMOP table, the marts every outcome, then the aggregates): when a model
-- fails or is skipped these stay as they were, and its persons are rebuilt by the next build. A build
-- of only some incremental models (a partial selection) keeps them as well.
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
{%- set previous = load_relation(this) if execute else none %}
{%- if not execute or builds_every_incremental_model() %}
select * from {{ ref('int_person_fingerprint') }}
{%- elif previous %}
select * from {{ previous }}
{%- else %}
select * from {{ ref('int_person_fingerprint') }} where false
{%- endif %}

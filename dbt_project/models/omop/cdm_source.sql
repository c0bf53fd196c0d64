-- The CDM instance description. Release dates are the last date in the data, so a re-run on the same
-- inputs gives the same row (no wall-clock time).
with last_date as (
    select coalesce(max(observation_period_end_date), date '1970-01-01') as d
    from {{ ref('observation_period') }}
),

source_row as (
    select
        'HARMONY blood-cancer network' as cdm_source_name,
        'HARMONY' as cdm_source_abbreviation,
        'HARMONY Alliance (synthetic demonstration)' as cdm_holder,
        'Pseudonymised, date-shifted cohorts delivered by trials, registries, hospitals and study groups, '
            || 'harmonised by the HARMONY pipeline.' as source_description,
        'docs/architecture.md' as source_documentation_reference,
        'dbt_project (harmony); mappings: scripts/derive_omop_facts.py' as cdm_etl_reference,
        d as source_release_date,
        d as cdm_release_date,
        'v5.4' as cdm_version,
        756265 as cdm_version_concept_id,  -- OMOP CDM Version 5.4.0 (verified)
        'verified subset of ../shared/vocabulary + HARMONY local v1' as vocabulary_version
    from last_date
)
{{ omop_select('source_row') }}

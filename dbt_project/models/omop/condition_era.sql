-- Condition eras: conditions of one person and standard concept within 30 days of each other
-- (OMOP CDM condition_era convention; concept 0 is not built into eras).
with spans as (
    select
        person_id,
        condition_concept_id as concept_id,
        condition_start_date as span_start,
        coalesce(condition_end_date, condition_start_date) as span_end
    from {{ ref('condition_occurrence') }}
    where condition_concept_id <> 0
),

eras as ({{ omop_eras('spans', 30) }}),

rows_ as (
    select
        {{ omop_id("cast(person_id as varchar) || '|' || cast(concept_id as varchar) || '|' || cast(era_start_date as varchar)") }}
            as condition_era_id,
        person_id,
        concept_id as condition_concept_id,
        era_start_date as condition_era_start_date,
        era_end_date as condition_era_end_date,
        record_count as condition_occurrence_count
    from eras
)
{{ omop_select('rows_', order_by='condition_era_id') }}

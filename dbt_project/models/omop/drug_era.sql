-- Drug eras: exposures of one person to one ingredient (drug_concept_id is already an RxNorm
-- ingredient) with at most 30 days between them (OMOP CDM drug_era convention; concept 0 excluded).
with spans as (
    select
        person_id,
        drug_concept_id as concept_id,
        drug_exposure_start_date as span_start,
        drug_exposure_end_date as span_end
    from {{ ref('drug_exposure') }}
    where drug_concept_id <> 0
),

eras as ({{ omop_eras('spans', 30) }}),

rows_ as (
    select
        {{ omop_id("cast(person_id as varchar) || '|' || cast(concept_id as varchar) || '|' || cast(era_start_date as varchar)") }}
            as drug_era_id,
        person_id,
        concept_id as drug_concept_id,
        era_start_date as drug_era_start_date,
        era_end_date as drug_era_end_date,
        record_count as drug_exposure_count,
        gap_days
    from eras
)
{{ omop_select('rows_', order_by='drug_era_id') }}

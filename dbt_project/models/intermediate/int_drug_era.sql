-- Drug eras before ids (see omop.drug_era); key_hash is the natural key (person, ingredient, start)
-- that ops.id_drug_era maps to drug_era_id.
{{ config(materialized='incremental', unique_key='person_id') }}
with spans as (
    select
        person_id,
        drug_concept_id as concept_id,
        drug_exposure_start_date as span_start,
        drug_exposure_end_date as span_end
    from {{ ref('drug_exposure') }}
    where drug_concept_id <> 0 and {{ changed('person_id') }}
),

eras as ({{ omop_eras('spans', 30) }})

select
    {{ key_hash("cast(person_id as varchar) || '|' || cast(concept_id as varchar) || '|' || cast(era_start_date as varchar)") }}
        as key_hash,
    *
from eras

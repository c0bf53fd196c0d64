-- Treatment rows mapped to RxNorm ingredients (by lower-case name) and each line's regimen to a
-- HemOnc regimen concept. A row that names only its regimen becomes one exposure per ingredient of
-- the regimen (vocab_regimen_ingredient); a regimen we cannot expand and a drug we cannot map keep
-- concept 0 and their source value. One row per person, line and drug; key_hash is that natural key,
-- which ops.id_drug_exposure maps to drug_exposure_id.
{{ config(materialized='incremental', unique_key='person_key') }}
with treatment as (
    select *, lower(trim(regimen)) as regimen_norm
    from {{ ref('stg_treatment') }}
    where {{ changed('person_key') }}
),

expanded as (
    select
        t.*,
        coalesce(lower(trim(t.drug)), ingredients.ingredient) as drug_norm,
        case
            when t.drug is not null then t.drug
            when ingredients.ingredient is not null then t.regimen || ':' || ingredients.ingredient
            else t.regimen
        end as source_value
    from treatment as t
    left join {{ ref('vocab_regimen_ingredient') }} as ingredients
        on t.drug is null and ingredients.regimen = t.regimen_norm
),

stcm as (
    select source_vocabulary_id, source_code, source_concept_id, target_concept_id
    from {{ ref('vocab_source_to_concept_map') }}
),

ranked as (
    select
        e.*,
        coalesce(drug_map.target_concept_id, 0) as drug_concept_id,
        coalesce(regimen_map.target_concept_id, 0) as regimen_concept_id,
        row_number() over (
            partition by e.person_key, e.line, coalesce(e.drug_norm, e.regimen_norm, '')
            order by e.start_date, e.source_id, e.delivery_id desc, e.file_name, e.row_number
        ) as rank_
    from expanded as e
    left join stcm as drug_map
        on drug_map.source_vocabulary_id = 'HARMONY_DRUG' and drug_map.source_code = e.drug_norm
    left join stcm as regimen_map
        on regimen_map.source_vocabulary_id = 'HARMONY_REGIMEN' and regimen_map.source_code = e.regimen_norm
)

select
    {{ key_hash("ranked.person_key || '|' || cast(ranked.line as varchar) || '|' || coalesce(ranked.drug_norm, ranked.regimen_norm, '')") }}
        as key_hash,
    person.person_id,
    ranked.person_key,
    ranked.line,
    ranked.regimen,
    ranked.regimen_concept_id,
    ranked.drug_norm as drug,
    ranked.drug_concept_id,
    ranked.start_date as drug_exposure_start_date,
    -- the CDM requires an end date: a single-day exposure when the source gives none (THEMIS convention)
    coalesce(ranked.end_date, ranked.start_date) as drug_exposure_end_date,
    ranked.end_date is null as end_date_imputed,
    left(ranked.source_value, 50) as drug_source_value,
    ranked.treatment_class,
    ranked.source_id,
    ranked.delivery_id,
    ranked.file_name,
    ranked.row_number
from ranked
inner join {{ ref('int_omop_person') }} as person on ranked.person_key = person.person_key
where ranked.rank_ = 1

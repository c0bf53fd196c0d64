-- Treatment rows mapped to RxNorm ingredients (by lower-case name) and each line's regimen to a
-- HemOnc regimen concept. A row without a mappable drug keeps concept 0 and its source value.
-- One row per person, line and drug (the same drug of the same line delivered twice is kept once).
with treatment as (
    select *, lower(trim(drug)) as drug_norm, lower(trim(regimen)) as regimen_norm
    from {{ ref('stg_treatment') }}
),

stcm as (
    select source_vocabulary_id, source_code, source_concept_id, target_concept_id
    from {{ ref('vocab_source_to_concept_map') }}
),

ranked as (
    select
        t.*,
        coalesce(drug_map.target_concept_id, 0) as drug_concept_id,
        coalesce(regimen_map.target_concept_id, 0) as regimen_concept_id,
        row_number() over (
            partition by t.person_key, t.line, coalesce(t.drug_norm, t.regimen_norm, '')
            order by t.start_date, t.source_id, t.delivery_id desc, t.file_name, t.row_number
        ) as rank_
    from treatment as t
    left join stcm as drug_map
        on drug_map.source_vocabulary_id = 'HARMONY_DRUG' and drug_map.source_code = t.drug_norm
    left join stcm as regimen_map
        on regimen_map.source_vocabulary_id = 'HARMONY_REGIMEN' and regimen_map.source_code = t.regimen_norm
)

select
    {{ omop_id("ranked.person_key || '|' || cast(ranked.line as varchar) || '|' || coalesce(ranked.drug_norm, ranked.regimen_norm, '')") }}
        as drug_exposure_id,
    person.person_id,
    ranked.person_key,
    line,
    regimen,
    regimen_concept_id,
    drug,
    drug_concept_id,
    start_date as drug_exposure_start_date,
    -- the CDM requires an end date: a single-day exposure when the source gives none (THEMIS convention)
    coalesce(end_date, start_date) as drug_exposure_end_date,
    end_date is null as end_date_imputed,
    left(coalesce(drug, regimen), 50) as drug_source_value,
    treatment_class,
    ranked.source_id,
    ranked.delivery_id,
    ranked.file_name,
    ranked.row_number
from ranked
inner join {{ ref('int_person') }} as person on ranked.person_key = person.person_key
where ranked.rank_ = 1

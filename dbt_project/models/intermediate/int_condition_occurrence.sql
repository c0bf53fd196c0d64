-- Diagnoses mapped to standard conditions: the delivered ICD-10 / ICD-O-3 code first, else
-- disease|subtype, else the disease; unmapped -> concept 0 (kept). One row per person and disease
-- (the same diagnosis delivered by two sources or twice is one condition: the earliest date wins).
-- key_hash: the natural key (person, disease) that ops.id_condition_occurrence maps to an id.
{{ config(materialized='incremental', unique_key='person_key') }}
with diagnoses as (
    select
        *,
        upper(trim(code)) as code_norm,
        upper(disease) || '|' || upper(trim(subtype)) as disease_subtype
    from {{ ref('stg_diagnosis') }}
    where {{ changed('person_key') }}
),

stcm as (
    select source_vocabulary_id, source_code, source_concept_id, target_concept_id
    from {{ ref('vocab_source_to_concept_map') }}
),

mapped as (
    select
        d.*,
        coalesce(by_code.target_concept_id, 0) as code_concept_id,
        coalesce(by_code.source_concept_id, 0) as condition_source_concept_id,
        coalesce(
            nullif(by_code.target_concept_id, 0),
            nullif(by_subtype.target_concept_id, 0),
            by_disease.target_concept_id,
            0
        ) as condition_concept_id
    from diagnoses as d
    left join stcm as by_code
        on by_code.source_vocabulary_id = case d.code_system when 'ICD10' then 'ICD10' when 'ICDO3' then 'ICDO3' end
        and by_code.source_code = d.code_norm
    left join stcm as by_subtype
        on by_subtype.source_vocabulary_id = 'HARMONY_DISEASE' and by_subtype.source_code = d.disease_subtype
    left join stcm as by_disease
        on by_disease.source_vocabulary_id = 'HARMONY_DISEASE' and by_disease.source_code = upper(d.disease)
),

ranked as (
    select
        *,
        row_number() over (
            partition by person_key, disease
            order by diagnosis_date, source_id, delivery_id desc, file_name, row_number
        ) as rank_
    from mapped
)

select
    {{ key_hash("person_key || '|' || disease") }} as key_hash,
    person_key,
    disease,
    subtype,
    diagnosis_date as condition_start_date,
    condition_concept_id,
    condition_source_concept_id,
    -- The delivered code, else the delivered label, else our disease code (varchar(50) in the CDM).
    left(coalesce(code, source_value, disease), 50) as condition_source_value,
    source_id,
    delivery_id,
    file_name,
    row_number
from ranked
where rank_ = 1

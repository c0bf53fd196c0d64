-- One row per drug of a line of therapy (RxNorm ingredients; unmapped drugs keep concept 0).
{{ config(materialized='incremental', unique_key='person_id') }}
with exposures as (
    select
        ids.id as drug_exposure_id,
        d.person_id,
        d.drug_concept_id,
        d.drug_exposure_start_date,
        cast(d.drug_exposure_start_date as timestamp) as drug_exposure_start_datetime,
        d.drug_exposure_end_date,
        cast(d.drug_exposure_end_date as timestamp) as drug_exposure_end_datetime,
        coalesce(t.type_concept_id, 0) as drug_type_concept_id,
        v.visit_occurrence_id,
        d.drug_source_value,
        0 as drug_source_concept_id
    from {{ ref('int_drug_exposure') }} as d
    left join {{ ref('id_drug_exposure') }} as ids on ids.key_hash = d.key_hash
    left join {{ ref('int_source_type') }} as t on d.source_id = t.source_id
    left join {{ ref('visit_occurrence') }} as v
        on v.person_id = d.person_id and v.visit_start_date = d.drug_exposure_start_date
    where {{ changed('d.person_id') }}
)
{{ omop_select('exposures', order_by='drug_exposure_id') }}

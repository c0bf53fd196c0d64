-- Labs mapped to LOINC (or a local concept) and harmonised to the canonical UCUM unit of the lab.
-- Contracts deliver canonical units already; a delivered unit that still differs is converted with
-- vocab_unit_conversion, and a unit we cannot convert keeps its value and maps its own unit (or 0).
{{ config(materialized='incremental', unique_key='person_key') }}
with labs as (
    select * from {{ ref('stg_lab_result') }}
    where {{ changed('person_key') }}
),

stcm as (
    select source_vocabulary_id, source_code, source_concept_id, target_concept_id
    from {{ ref('vocab_source_to_concept_map') }}
)

select
    labs.person_key,
    labs.source_id,
    labs.delivery_id,
    labs.file_name,
    labs.row_number,
    labs.lab,
    labs.measured_date,
    coalesce(lab_map.target_concept_id, 0) as measurement_concept_id,
    coalesce(lab_map.source_concept_id, 0) as measurement_source_concept_id,
    case
        when labs.unit = canon.canonical_unit then labs.value
        when conv.factor is not null then labs.value * conv.factor
        else labs.value
    end as value_as_number,
    case
        when labs.unit = canon.canonical_unit or conv.factor is not null then canon.unit_concept_id
        else coalesce(unit_map.target_concept_id, 0)
    end as unit_concept_id,
    coalesce(labs.source_unit, labs.unit) as unit_source_value,
    coalesce(labs.source_value, cast(labs.value as varchar)) as value_source_value,
    (canon.canonical_unit is not null and labs.unit <> canon.canonical_unit and conv.factor is not null)
        as unit_converted
from labs
left join stcm as lab_map
    on lab_map.source_vocabulary_id = 'HARMONY_LAB' and lab_map.source_code = labs.lab
left join {{ ref('vocab_lab_unit') }} as canon
    on canon.lab = labs.lab
left join {{ ref('vocab_unit_conversion') }} as conv
    on conv.lab = labs.lab and conv.from_unit = labs.unit
left join stcm as unit_map
    on unit_map.source_vocabulary_id = 'HARMONY_UNIT' and unit_map.source_code = labs.unit

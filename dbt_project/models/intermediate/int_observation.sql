-- Observations: the donor type of a transplant and a cytogenetic category the source delivered
-- precomputed. Both are local (non-standard) concepts: observation_concept_id 0, the local id in
-- observation_source_concept_id (OMOP convention for 2-billion concepts). key_hash: the natural key
-- that ops.id_observation maps to observation_id.
{{ config(materialized='incremental', unique_key='person_key') }}
with stcm as (
    select source_code, source_concept_id, target_concept_id
    from {{ ref('vocab_source_to_concept_map') }}
    where source_vocabulary_id = 'HARMONY_OBS'
),

facts as (
    select
        person_key, source_id, delivery_id, file_name, row_number,
        'donor_type' as fact_kind,
        procedure_date as observation_date,
        donor_type as value_as_string
    from {{ ref('int_procedure_occurrence') }}
    where donor_type is not null and {{ changed('person_key') }}
    union all
    select
        c.person_key, c.source_id, c.delivery_id, c.file_name, c.row_number,
        'cytogenetic_category' as fact_kind,
        coalesce(c.test_date, p.baseline_date) as observation_date,
        c.category as value_as_string
    from {{ ref('stg_cytogenetics') }} as c
    left join {{ ref('int_person') }} as p on c.person_key = p.person_key
    where c.category is not null and {{ changed('c.person_key') }}
),

ranked as (
    select
        *,
        row_number() over (
            partition by person_key, fact_kind, observation_date, value_as_string
            order by source_id, delivery_id desc, file_name, row_number
        ) as rank_
    from facts
)

select
    {{ key_hash("f.person_key || '|' || f.fact_kind || '|' || cast(f.observation_date as varchar) || '|' || left(f.value_as_string, 60)") }}
        as key_hash,
    f.person_key,
    f.fact_kind,
    f.observation_date,
    coalesce(s.target_concept_id, 0) as observation_concept_id,
    coalesce(s.source_concept_id, 0) as observation_source_concept_id,
    f.fact_kind as observation_source_value,
    left(f.value_as_string, 60) as value_as_string,
    f.source_id,
    f.delivery_id,
    f.file_name,
    f.row_number
from ranked as f
left join stcm as s on s.source_code = f.fact_kind
where f.rank_ = 1

-- Stem-cell transplants: allogeneic -> 4120445 (Hemopoietic stem cell transplant, standard) with the
-- local allogeneic concept as source concept; autologous -> 46271079. One per person, date and type.
-- key_hash: the natural key that ops.id_procedure_occurrence maps to an id.
{{ config(materialized='incremental', unique_key='person_key') }}
with transplants as (
    select
        t.*,
        row_number() over (
            partition by t.person_key, t.transplant_date, t.transplant_type
            order by t.source_id, t.delivery_id desc, t.file_name, t.row_number
        ) as rank_
    from {{ ref('stg_transplant') }} as t
    where {{ changed('t.person_key') }}
)

select
    {{ key_hash("t.person_key || '|' || cast(t.transplant_date as varchar) || '|' || t.transplant_type") }} as key_hash,
    t.person_key,
    t.transplant_date as procedure_date,
    t.transplant_type,
    t.donor_type,
    coalesce(m.target_concept_id, 0) as procedure_concept_id,
    coalesce(m.source_concept_id, 0) as procedure_source_concept_id,
    t.transplant_type as procedure_source_value,
    t.source_id,
    t.delivery_id,
    t.file_name,
    t.row_number
from transplants as t
left join {{ ref('vocab_source_to_concept_map') }} as m
    on m.source_vocabulary_id = 'HARMONY_TRANSPLANT' and m.source_code = t.transplant_type
where t.rank_ = 1

-- Registry of condition_occurrence_id: one per OMOP person and disease (int_condition_occurrence).
with keys as (
    select c.key_hash
    from {{ ref('int_condition_occurrence') }} as c
    inner join {{ ref('int_omop_person') }} as p on c.person_key = p.person_key
    where {{ changed('c.person_key') }}
)
{{ id_registry('keys') }}

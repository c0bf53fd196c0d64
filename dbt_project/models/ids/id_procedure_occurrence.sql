-- Registry of procedure_occurrence_id: one per OMOP person, date and transplant type (int_procedure_occurrence).
with keys as (
    select r.key_hash
    from {{ ref('int_procedure_occurrence') }} as r
    inner join {{ ref('int_omop_person') }} as p on r.person_key = p.person_key
    where {{ changed('r.person_key') }}
)
{{ id_registry('keys') }}

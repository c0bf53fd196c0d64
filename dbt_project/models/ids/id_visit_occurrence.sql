-- Registry of visit_occurrence_id: one per person and visit date (int_visit_occurrence).
with keys as (
    select key_hash from {{ ref('int_visit_occurrence') }} where {{ changed('person_key') }}
)
{{ id_registry('keys') }}

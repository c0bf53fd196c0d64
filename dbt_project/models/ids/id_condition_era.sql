-- Registry of condition_era_id: one per person, concept and era start (int_condition_era).
with keys as (
    select key_hash from {{ ref('int_condition_era') }} where {{ changed('person_id') }}
)
{{ id_registry('keys') }}

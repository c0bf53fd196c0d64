-- Registry of person_id: one per person_key (int_person).
with keys as (
    select {{ key_hash('person_key') }} as key_hash from {{ ref('int_person_fingerprint') }}
)
{{ id_registry('keys') }}

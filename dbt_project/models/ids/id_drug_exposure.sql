-- Registry of drug_exposure_id: one per person, line and drug (int_drug_exposure).
with keys as (
    select key_hash from {{ ref('int_drug_exposure') }} where {{ changed('person_key') }}
)
{{ id_registry('keys') }}

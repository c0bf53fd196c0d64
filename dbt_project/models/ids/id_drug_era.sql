-- Registry of drug_era_id: one per person, ingredient and era start (int_drug_era).
with keys as (
    select key_hash from {{ ref('int_drug_era') }} where {{ changed('person_id') }}
)
{{ id_registry('keys') }}

-- Registry of episode_id: one per episode key (int_episode).
with keys as (
    select key_hash from {{ ref('int_episode') }} where {{ changed('person_id') }}
)
{{ id_registry('keys') }}

-- Registry of episode_id: one per episode key (int_episode).
with keys as (
    select key_hash from {{ ref('int_episode') }}
)
{{ id_registry('keys') }}

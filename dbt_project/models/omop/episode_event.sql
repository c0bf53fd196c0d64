-- Links each episode to the clinical records it is made of: the diagnosis (1147127
-- condition_occurrence.condition_occurrence_id), the drugs of a line (1147094 drug_exposure.drug_exposure_id),
-- the response assessment that starts a disease-state episode (1147138 measurement.measurement_id) and
-- transplants, linked to their diagnosis episode (1147082 procedure_occurrence.procedure_occurrence_id).
-- Incremental by episode: the changed persons' episodes (macros/incremental.sql, changed_keys).
{{ config(materialized='incremental', unique_key='episode_id') }}
-- depends_on: {{ ref('episode') }}
with links as (
    select ids.id as episode_id, l.event_id, l.episode_event_field_concept_id
    from {{ ref('int_episode_event') }} as l
    left join {{ ref('id_episode') }} as ids on ids.key_hash = l.episode_key_hash
    where {{ changed('l.person_id') }}
)
{{ omop_select('links', order_by='episode_id, episode_event_field_concept_id, event_id') }}

-- Oncology episodes (OMOP CDM v5.4 Episode, verified Episode concepts):
--   32528 Disease First Occurrence  one per diagnosis (condition_occurrence)
--   32530 Disease Remission         a CR/sCR/CRh/CRi assessment that follows no other remission since
--                                   the last relapse/progression; ends at the next relapse/progression
--   32529 Disease Recurrence        each relapse
--   32677 Disease Progression       each progression / PD / transformation to AML
--   32531 Treatment Regimen         one per line of therapy: episode_number = line, object = the HemOnc
--                                   regimen (0 when unmapped)
-- Disease-state and regimen episodes are children (episode_parent_id) of the diagnosis episode they
-- belong to: the latest diagnosis on or before their start, else the earliest.
{{ config(materialized='incremental', unique_key='person_id') }}
with ids as (
    select e.*, ids.id as episode_id
    from {{ ref('int_episode') }} as e
    left join {{ ref('id_episode') }} as ids on ids.key_hash = e.key_hash
    where {{ changed('e.person_id') }}
),

episodes as (
    select
        child.episode_id,
        child.person_id,
        child.episode_concept_id,
        child.episode_start_date,
        cast(child.episode_start_date as timestamp) as episode_start_datetime,
        child.episode_end_date,
        cast(child.episode_end_date as timestamp) as episode_end_datetime,
        parent.episode_id as episode_parent_id,
        child.episode_number,
        child.episode_object_concept_id,
        child.episode_type_concept_id,
        child.episode_source_value,
        0 as episode_source_concept_id
    from ids as child
    left join ids as parent on child.parent_key = parent.episode_key
)
{{ omop_select('episodes', order_by='episode_id') }}

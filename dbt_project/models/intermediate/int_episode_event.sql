-- Episode -> clinical record links (see omop.episode_event), keyed by the episode's natural key
-- (episode_key_hash, which ops.id_episode maps to episode_id) and the person.
{{ config(materialized='incremental', unique_key='person_id') }}
with episodes as (
    select episode_key, person_id, episode_concept_id, episode_number
    from {{ ref('int_episode') }}
    where {{ changed('person_id') }}
),

disease_links as (
    select person_id, episode_key, cast(split_part(episode_key, '|', 2) as bigint) as event_id,
           1147127 as episode_event_field_concept_id
    from episodes
    where episode_concept_id = 32528
),

state_links as (
    select person_id, episode_key, cast(split_part(episode_key, '|', 2) as bigint) as event_id,
           1147138 as episode_event_field_concept_id
    from episodes
    where episode_concept_id in (32529, 32530, 32677)
),

regimen_links as (
    select e.person_id, e.episode_key, ids.id as event_id, 1147094 as episode_event_field_concept_id
    from episodes as e
    inner join {{ ref('int_drug_exposure') }} as d
        on e.episode_concept_id = 32531 and d.person_id = e.person_id and d.line = e.episode_number
    left join {{ ref('id_drug_exposure') }} as ids on ids.key_hash = d.key_hash
),

transplant_parents as (
    select
        pr.person_id,
        'disease|' || cast(c.condition_occurrence_id as varchar) as episode_key,
        pr.procedure_occurrence_id as event_id,
        row_number() over (
            partition by pr.procedure_occurrence_id
            order by
                case when c.condition_start_date <= pr.procedure_date then 0 else 1 end,
                case when c.condition_start_date <= pr.procedure_date then -epoch(c.condition_start_date)
                     else epoch(c.condition_start_date) end,
                c.condition_occurrence_id
        ) as rank_
    from {{ ref('procedure_occurrence') }} as pr
    inner join {{ ref('condition_occurrence') }} as c on c.person_id = pr.person_id
    where {{ changed('pr.person_id') }}
),

links as (
    select * from disease_links
    union all select * from state_links
    union all select * from regimen_links
    union all
    select person_id, episode_key, event_id, 1147082 as episode_event_field_concept_id
    from transplant_parents
    where rank_ = 1
)

select person_id, {{ key_hash('episode_key') }} as episode_key_hash, event_id, episode_event_field_concept_id
from links

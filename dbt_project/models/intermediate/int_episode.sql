-- Episode rows before ids (see omop.episode for the model). episode_key is the natural key and
-- parent_key the natural key of the parent episode; key_hash (of episode_key) is what ops.id_episode
-- maps to episode_id.
{{ config(materialized='incremental', unique_key='person_id') }}
with conditions as (
    select c.condition_occurrence_id, c.person_id, c.condition_concept_id, c.condition_start_date,
           c.condition_source_value, c.condition_type_concept_id
    from {{ ref('condition_occurrence') }} as c
    where {{ changed('c.person_id') }}
),

disease_episodes as (
    select
        'disease|' || cast(condition_occurrence_id as varchar) as episode_key,
        cast(null as varchar) as parent_key,
        person_id,
        32528 as episode_concept_id,
        condition_start_date as episode_start_date,
        cast(null as date) as episode_end_date,
        cast(null as integer) as episode_number,
        condition_concept_id as episode_object_concept_id,
        condition_type_concept_id as episode_type_concept_id,
        condition_source_value as episode_source_value
    from conditions
),

-- Disease-state assessments (response measurements) with the state they express.
responses as (
    select
        m.measurement_id,
        m.person_id,
        m.measurement_date,
        m.measurement_source_value as response,
        m.measurement_type_concept_id,
        case
            when m.measurement_source_value in ('sCR', 'CR', 'CRh', 'CRi') then 'remission'
            when m.measurement_source_value = 'relapse' then 'relapse'
            when m.measurement_source_value in ('progression', 'PD', 'aml_transformation') then 'progression'
        end as state
    from {{ ref('measurement') }} as m
    where m.measurement_source_concept_id in (
        select source_concept_id from {{ ref('vocab_source_to_concept_map') }}
        where source_vocabulary_id = 'HARMONY_RESPONSE'
    ) and {{ changed('m.person_id') }}
),

ordered as (
    select
        *,
        lag(state) over (partition by person_id order by measurement_date, measurement_id) as previous_state
    from responses
    where state is not null
),

state_episodes as (
    select
        o.state || '|' || cast(o.measurement_id as varchar) as episode_key,
        o.measurement_id,
        o.person_id,
        case o.state when 'remission' then 32530 when 'relapse' then 32529 else 32677 end as episode_concept_id,
        o.measurement_date as episode_start_date,
        case when o.state = 'remission' then (
            select min(n.measurement_date) from ordered as n
            where n.person_id = o.person_id and n.state <> 'remission' and n.measurement_date > o.measurement_date
        ) end as episode_end_date,
        o.measurement_type_concept_id as episode_type_concept_id,
        o.response as episode_source_value
    from ordered as o
    where o.state <> 'remission' or o.previous_state is null or o.previous_state <> 'remission'
),

lines as (
    select
        i.person_id,
        i.line,
        min(i.drug_exposure_start_date) as start_date,
        max(i.drug_exposure_end_date) as end_date,
        min(coalesce(t.type_concept_id, 0)) as type_concept_id,  -- drug_type_concept_id of omop.drug_exposure
        min(nullif(i.regimen_concept_id, 0)) as regimen_concept_id,
        min(i.regimen) as regimen
    from {{ ref('int_drug_exposure') }} as i
    left join {{ ref('int_source_type') }} as t on i.source_id = t.source_id
    where {{ changed('i.person_id') }}
    group by i.person_id, i.line
),

regimen_episodes as (
    select
        'regimen|' || cast(person_id as varchar) || '|' || cast(line as varchar) as episode_key,
        person_id,
        32531 as episode_concept_id,
        start_date as episode_start_date,
        end_date as episode_end_date,
        cast(line as integer) as episode_number,
        coalesce(regimen_concept_id, 0) as episode_object_concept_id,
        type_concept_id as episode_type_concept_id,
        left(coalesce(regimen, 'line ' || cast(line as varchar)), 50) as episode_source_value
    from lines
),

-- The diagnosis episode a dated child belongs to.
children as (
    select episode_key, person_id, episode_start_date from state_episodes
    union all
    select episode_key, person_id, episode_start_date from regimen_episodes
),

parents as (
    select
        ch.episode_key,
        'disease|' || cast(c.condition_occurrence_id as varchar) as parent_key,
        row_number() over (
            partition by ch.episode_key
            order by
                case when c.condition_start_date <= ch.episode_start_date then 0 else 1 end,
                case when c.condition_start_date <= ch.episode_start_date then -epoch(c.condition_start_date)
                     else epoch(c.condition_start_date) end,
                c.condition_occurrence_id
        ) as rank_
    from children as ch
    inner join conditions as c on c.person_id = ch.person_id
),

episodes as (
    select * from disease_episodes
    union all
    -- a disease-state episode is about the disease of its parent diagnosis
    select
        s.episode_key, p.parent_key, s.person_id, s.episode_concept_id, s.episode_start_date, s.episode_end_date,
        cast(null as integer), coalesce(d.episode_object_concept_id, 0), s.episode_type_concept_id,
        s.episode_source_value
    from state_episodes as s
    left join parents as p on p.episode_key = s.episode_key and p.rank_ = 1
    left join disease_episodes as d on d.episode_key = p.parent_key
    union all
    select
        r.episode_key, p.parent_key, r.person_id, r.episode_concept_id, r.episode_start_date, r.episode_end_date,
        r.episode_number, r.episode_object_concept_id, r.episode_type_concept_id, r.episode_source_value
    from regimen_episodes as r
    left join parents as p on p.episode_key = r.episode_key and p.rank_ = 1
)

select {{ key_hash('episode_key') }} as key_hash, * from episodes

-- Registry of observation_id: the dated observations of OMOP persons (the rows omop.observation keeps).
with keys as (
    select o.key_hash
    from {{ ref('int_observation') }} as o
    inner join {{ ref('int_omop_person') }} as p on o.person_key = p.person_key
    where o.observation_date is not null and {{ changed('o.person_key') }}
)
{{ id_registry('keys') }}

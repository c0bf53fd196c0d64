-- Registry of measurement_id: the dated facts of OMOP persons (the rows omop.measurement keeps).
with keys as (
    select m.key_hash
    from {{ ref('int_measurement') }} as m
    inner join {{ ref('int_omop_person') }} as p on m.person_key = p.person_key
    where m.measurement_date is not null and {{ changed('m.person_key') }}
)
{{ id_registry('keys') }}

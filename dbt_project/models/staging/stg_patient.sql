-- One row per patient per delivery: demographics.
-- Typed canonical rows that passed the quality gate, with the person's deterministic id.
select
    source_id,
    delivery_id,
    file_name,
    row_number,
    patient_key,
    person_key,
    sex,
    birth_date,
    birth_year,
    age_at_diagnosis,
    country,
    provider_kind,
    index_date,
    {{ harmony_id('person_key') }} as person_hash
from {{ source('raw', 'patient') }}

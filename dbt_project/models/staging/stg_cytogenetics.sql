-- A karyotype string or one cytogenetic/FISH abnormality (present or absent).
-- Typed canonical rows that passed the quality gate, with the person's deterministic id.
select
    source_id,
    delivery_id,
    file_name,
    row_number,
    patient_key,
    person_key,
    method,
    karyotype,
    abnormality,
    result,
    category,
    test_date,
    source_value,
    {{ harmony_id('person_key') }} as person_hash
from {{ source('raw', 'cytogenetics') }}
